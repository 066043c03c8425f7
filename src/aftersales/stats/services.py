"""Writes of the statistics centre: report subscriptions and the weekly / monthly reports.

A report is the figures of the last complete week (Monday to Sunday) or month, Asia/Shanghai, of
the orders its subscriber may see, sent by e-mail through the outbox with a link to the dashboard.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from aftersales.core.errors import ValidationFailed
from aftersales.notify.services import outbox_enqueue
from aftersales.stats import engine, policies, selectors
from aftersales.stats.models import ReportDelivery, ReportFrequency, ReportSubscription


def subscriptions_set(*, actor, frequencies: list[str]) -> list[str]:
    """The reports the actor receives from now on (an empty list ends them all)."""
    policies.check_read_stats(actor)
    unknown = [f for f in frequencies if f not in ReportFrequency.values]
    if unknown:
        raise ValidationFailed(_("Nothing was changed."), fields={"frequencies": _("Pick weekly and/or monthly.")})
    if frequencies and not actor.email:
        raise ValidationFailed(_("Nothing was changed."),
                               fields={"frequencies": _("Your account has no e-mail address to send reports to.")})
    with transaction.atomic():
        ReportSubscription.objects.filter(user=actor).exclude(frequency__in=frequencies).delete()
        for f in frequencies:
            ReportSubscription.objects.get_or_create(user=actor, frequency=f)
    return sorted(set(frequencies))


def last_period(frequency: str, today: date) -> tuple[date, date]:
    """The last complete week (Monday–Sunday) or calendar month before ``today``."""
    if frequency == ReportFrequency.WEEKLY:
        end = today - timedelta(days=today.weekday() + 1)
        return end - timedelta(days=6), end
    end = today.replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


def _fmt(figure: engine.Figure, *, percent: bool = False) -> str:
    if figure.value is None:
        return "–"
    if percent:
        return f"{figure.value * 100:.1f}%"
    shown = figure.median if figure.median is not None else figure.value
    return f"{shown:g}"


def reports_send(*, now: datetime | None = None) -> int:
    """Queue every report whose period has ended and was not sent yet; answers how many were queued."""
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    queued = 0
    for sub in ReportSubscription.objects.select_related("user").filter(user__is_active=True).order_by("pk"):
        start_day, end_day = last_period(sub.frequency, today)
        if ReportDelivery.objects.filter(subscription=sub, period_start=start_day).exists():
            continue
        if not policies.may_read_stats(sub.user) or not sub.user.email:
            continue
        start, end, _f, _t = selectors.period(start_day, end_day, today=today)
        figures = engine.summary(selectors.traces(sub.user, start=start, end=end))
        context = {
            "period": f"{start_day:%Y-%m-%d} – {end_day:%Y-%m-%d}",
            "intake": int(figures["intake"].value or 0),
            "handoff": _fmt(figures["handoff_attainment"], percent=True),
            "arrival": _fmt(figures["arrival"]),
            "first_time_fix": _fmt(figures["first_time_fix_rate"], percent=True),
            "rating": _fmt(figures["rating"]),
            "complaints": _fmt(figures["complaint_rate"], percent=True),
            "link": f"{settings.SITE_URL}/stats/?" + urlencode({"date_from": start_day.isoformat(),
                                                                 "date_to": end_day.isoformat(),
                                                                 "group_by": "organization"}),
        }
        try:
            with transaction.atomic():
                ReportDelivery.objects.create(subscription=sub, period_start=start_day, period_end=end_day,
                                              figures={k: f.as_dict() for k, f in figures.items()})
                outbox_enqueue(channel="email", recipient=sub.user.email, template=f"stats_report_{sub.frequency}",
                               context=context, webhooks=False)
        except IntegrityError:
            continue  # another worker made this report at the same moment
        queued += 1
    return queued


def aggregates_refresh() -> int:
    """The worker's tick: recount the changed orders into the daily aggregates (stats/aggregates.py)."""
    from aftersales.stats import aggregates

    total = 0
    while (done := aggregates.refresh()) > 0:
        total += done
    return total


def aggregates_rebuild(progress=None) -> int:
    """`aftersales stats rebuild`: every aggregate recomputed from the orders' events."""
    from aftersales.stats import aggregates

    return aggregates.rebuild(progress)
