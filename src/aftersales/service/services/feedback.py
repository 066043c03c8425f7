"""服务反馈: the customer's rating, by staff or on the tracking page; a low rating opens a complaint.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.core.errors import Conflict, NotFound, ValidationFailed
from aftersales.service import policies
from aftersales.service.models import (
    Channel,
    ComplaintCategory,
    ComplaintSeverity,
    OrderStatus,
    OrderType,
    Rating,
    ServiceOrder,
)
from aftersales.service.services.common import _append_event, _changed, _perform, _save_if_version, _text
from aftersales.service.services.intake import OrderInput, _intake

LOW_RATING = 2


def _record_rating(order: ServiceOrder, *, recorded_by, score: int, comment: str) -> dict:
    """The rating row, and at once a complaint for 2 or lower, both in the name of ``recorded_by``."""
    if not isinstance(score, int) or not 1 <= score <= 5:
        raise ValidationFailed(_("Nothing was changed."), fields={"score": _("Give a score from 1 to 5.")})
    Rating.objects.create(order=order, score=score, comment=_text(comment), recorded_by=recorded_by, recorded_at=timezone.now())
    data = {"score": score}
    if score <= LOW_RATING and order.order_type != OrderType.COMPLAINT:
        complaint = _intake(recorded_by, OrderInput(
            order_type=OrderType.COMPLAINT, customer_id=order.customer_id, contact_phone=order.contact_phone,
            contact_name=order.contact_name, channel=Channel.PHONE,
            symptom=_text(comment) or _("Rated %(score)s of 5.") % {"score": score},
            about_order_id=order.pk, complaint_category=ComplaintCategory.LOW_RATING,
            complaint_severity=ComplaintSeverity.HIGH if score == 1 else ComplaintSeverity.MEDIUM,
        ))
        data["complaint_id"] = complaint.pk
        data["complaint_number"] = complaint.number
    return data


def order_rate(*, actor, order_id: int, version: int, score: int, comment: str = "", note: str = "") -> ServiceOrder:
    """服务反馈: the rating closes the order; 2 or lower opens a complaint at once."""
    def apply(order):
        return _record_rating(order, recorded_by=actor, score=score, comment=comment)
    return _perform(actor=actor, order_id=order_id, action="rate", version=version, note=note, apply=apply)


def order_rate_by_customer(*, token: str, version: int, score: int, comment: str = "") -> ServiceOrder:
    """The customer rates on the tracking page (no account): the token is the credential. The event
    has no actor; the rating row and a low rating's complaint are recorded in the name of the
    order's first-contact owner (首问负责人), who answers for the order to the end."""
    with transaction.atomic():
        order = ServiceOrder.objects.select_for_update().filter(tracking_token=token).first() if token else None
        if order is None:
            raise NotFound(_("Service order not found."))
        if order.version != version:
            raise Conflict(_("The order was changed by someone else; reload it and decide again."), code="stale_version",
                           current=policies.order_brief(order))
        if order.status != OrderStatus.COMPLETED:
            raise Conflict(_("This order cannot be rated now."), code="invalid_transition", current=policies.order_brief(order))
        data = _record_rating(order, recorded_by=order.owner, score=score, comment=comment)
        order.status = OrderStatus.CLOSED
        order.closed_at = timezone.now()
        order.version = version + 1
        _append_event(order, actor=None, action="rate", from_status=OrderStatus.COMPLETED, to_status=order.status,
                      data={**data, "by": "customer"})
        _save_if_version(order, version)
        _changed(order)
        return order
