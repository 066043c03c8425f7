"""打印: the paper forms of an order, on A4 from the browser's print dialogue (print CSS, no PDF
library). One page per order: the task order (任务单) or, for a consultation, the consultation
record (咨询记录), for a complaint the complaint sheet (投诉处理单); once the technician has
recorded the service, the service record (服务记录单) with parts, labour, the customer's signature
and confirmation. A QR code of the customer's tracking link lets the customer follow the order
from the paper left on the farm."""

from __future__ import annotations

from decimal import Decimal

import segno
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from aftersales.service import selectors
from aftersales.service.models import AttachmentKind, OrderType
from aftersales.web.orders import get_order as _get_order
from aftersales.web.orders import order_phone as _phone_for


def tracking_url(order) -> str:
    """The absolute link of the SMS (settings.SITE_URL): the QR code must open from a phone that
    has never seen this site."""
    if not order.tracking_token:
        return ""
    return settings.SITE_URL + reverse("web:track", args=[order.tracking_token])


def qr_svg(url: str) -> str:
    """The link as an inline SVG (no image request, no data: URL for the CSP to allow). Error
    level M: a printed code stays readable with a fold or a smudge across it."""
    if not url:
        return ""
    code = segno.make(url, error="m", micro=False)
    return mark_safe(code.svg_inline(scale=3, border=2, dark="#000", light="#fff",  # noqa: S308 (segno's own markup)
                                     svgclass="qr", lineclass="qr-line", omitsize=False))


def _child(order, name: str):
    try:
        return getattr(order, name)
    except ObjectDoesNotExist:
        return None


def print_context(user, order) -> dict:
    record = _child(order, "service_record")
    parts = list(record.parts.order_by("id")) if record else []
    paid = sum((p.quantity * p.unit_price for p in parts if not p.warranty), Decimal("0"))
    signatures = [a for a in selectors.order_attachments(user, order) if a.kind == AttachmentKind.SIGNATURE]
    url = tracking_url(order)
    return {
        "order": order,
        "record": record,
        "parts": parts,
        "paid_total": paid,
        "signature": signatures[-1] if signatures else None,  # the last one drawn is the one that counts
        "complaint": _child(order, "complaint") if order.order_type == OrderType.COMPLAINT else None,
        "consultation": order.order_type == OrderType.CONSULTATION,
        "escalations": list(order.escalations.select_related("engineer").order_by("raised_at", "id")),
        "phone": _phone_for(user, order),
        "tracking_url": url,
        "qr": qr_svg(url),
        "company": settings.COMPANY_NAME,
        "hotline": settings.HOTLINE,
        "printed_at": timezone.now(),
    }


@login_required
@require_GET
def order_print(request, pk: int):
    order = _get_order(request.user, pk)
    return render(request, "web/print.html", print_context(request.user, order))
