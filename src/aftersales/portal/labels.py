"""二维码铭牌标签: printable sheets of QR labels for machine plates. Each code opens the portal at
/m/s/<serial>/, so a customer who scans the plate logs in and lands on that machine with the
serial filled in. Opened from the machine archive (/machines/, the same search) or the admin
(selected machines); staff only, and only machines the user may see."""

from __future__ import annotations

import segno
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from aftersales.notify.templates import absolute_url
from aftersales.registry import selectors as registry_selectors

MAX_LABELS = 200  # one print job: 200 labels are 9 A4 sheets


def scan_url(serial: str) -> str:
    return absolute_url(reverse("portal:scan", args=[serial]))


def qr_svg(url: str) -> str:
    # Level Q: a plate outdoors gets scratched and muddy; a quarter of the code may be lost.
    code = segno.make(url, error="q", micro=False)
    return mark_safe(code.svg_inline(scale=3, border=2, dark="#000", light="#fff",  # noqa: S308 (segno's own markup)
                                     svgclass="qr", lineclass="qr-line", omitsize=False))


@login_required
@require_GET
def labels(request):
    user = request.user
    ids = [int(i) for i in request.GET.get("ids", "").split(",") if i.strip().isdigit()][:MAX_LABELS]
    q = request.GET.get("q", "").strip()[:100]
    qs = registry_selectors.machine_search(user, q=q).select_related("model")
    if ids:
        qs = qs.filter(pk__in=ids)
    machines = list(qs[:MAX_LABELS])
    for m in machines:
        m.qr = qr_svg(scan_url(m.serial_number))
    return render(request, "portal/labels.html", {"machines": machines, "q": q, "company": settings.COMPANY_NAME,
                                                  "hotline": settings.HOTLINE, "limit": MAX_LABELS})
