"""号码查看记录 for supervisors: who was shown which customer's full phone number, when and why
(the audit the phone rule in registry/policies.py writes), with a CSV export of the same rows."""

from __future__ import annotations

from datetime import datetime, time

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from aftersales.core.errors import Forbidden
from aftersales.registry import selectors


def _day(value: str, *, end: bool = False):
    try:
        day = datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        return None
    moment = timezone.make_aware(datetime.combine(day, time.min))
    return moment + timezone.timedelta(days=1) if end else moment


@login_required
@require_GET
def phone_reveals(request):
    since, until = _day(request.GET.get("since", "")), _day(request.GET.get("until", ""), end=True)
    try:
        qs = selectors.phone_reveal_list(request.user, since=since, until=until)
    except Forbidden:
        raise PermissionDenied from None
    if request.GET.get("format") == "csv":
        from aftersales.registry.api import phone_reveals_csv_response

        return phone_reveals_csv_response(qs)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "web/phone_reveals.html", {
        "page": page, "since": request.GET.get("since", ""), "until": request.GET.get("until", ""),
    })
