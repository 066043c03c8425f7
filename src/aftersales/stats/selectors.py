"""Reads for the statistics centre: the timelines of the orders a user may see, as engine traces.

Scoped like every read: the orders come from ``service.selectors.order_queryset_plain(user)``, so
a partner's figures are made of its own orders only and a network-wide user's of all of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models.functions import Coalesce
from django.db.models import F, Value
from django.utils.translation import gettext as _

from aftersales.core.errors import ValidationFailed
from aftersales.service import selectors as order_selectors
from aftersales.service.models import OrderEvent
from aftersales.stats.engine import Step, Trace

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Figures are computed from the raw events per request; beyond this many orders the caller is asked
# for a shorter period or a filter rather than holding a worker for minutes.
MAX_ORDERS = 200_000
MAX_DAYS = 366
CHUNK = 2_000

# group_by -> the order field that names the group ("" for none); week and month come from created_at.
GROUP_FIELDS = {
    "none": None,
    "organization": "assigned_org__name",
    "province": "customer__province",
    "model": "machine__model__code",
    "category": "machine__model__category",
    "order_type": "order_type",
    "channel": "channel",
    "service_level": "service_level",
    "week": None,
    "month": None,
}
ORDER_TYPES = ("repair", "consultation", "complaint", "return_exchange")


def period(date_from: date | None, date_to: date | None, *, today: date) -> tuple[datetime, datetime, date, date]:
    """[from, to] as whole Shanghai days; by default the last 30 days up to today."""
    date_to = date_to or today
    date_from = date_from or date_to - timedelta(days=29)
    if date_from > date_to:
        raise ValidationFailed(_("Nothing was computed."), fields={"date_from": _("Must not be after date_to.")})
    if (date_to - date_from).days + 1 > MAX_DAYS:
        raise ValidationFailed(_("Nothing was computed."),
                               fields={"date_to": _("A period is at most %(days)s days.") % {"days": MAX_DAYS}})
    start = datetime.combine(date_from, time.min, SHANGHAI)
    end = datetime.combine(date_to + timedelta(days=1), time.min, SHANGHAI)
    return start, end, date_from, date_to


def group_label(group_by: str, value, created_at: datetime) -> str:
    if group_by == "month":
        return created_at.astimezone(SHANGHAI).strftime("%Y-%m")
    if group_by == "week":
        year, week, _day = created_at.astimezone(SHANGHAI).isocalendar()
        return f"{year}-W{week:02d}"
    if group_by == "none":
        return ""
    return str(value) if value not in (None, "") else "-"


def traces(user, *, start: datetime, end: datetime, group_by: str = "none",
           order_type: str | None = None, channel: str | None = None) -> Iterator[Trace]:
    """One trace per visible order created in [start, end), with its whole timeline."""
    orders = order_selectors.order_queryset_plain(user).filter(created_at__gte=start, created_at__lt=end)
    if order_type:
        orders = orders.filter(order_type=order_type)
    if channel:
        orders = orders.filter(channel=channel)
    field = GROUP_FIELDS[group_by]
    group_expr = F(field) if field else Value("")
    rows = orders.annotate(g=Coalesce(group_expr, Value(""))).values_list("pk", "order_type", "created_at", "g")
    count = orders.count()
    if count > MAX_ORDERS:
        raise ValidationFailed(_("Nothing was computed."), fields={"date_from": _(
            "The period holds %(count)s orders, more than %(max)s: choose a shorter period or a filter."
        ) % {"count": count, "max": MAX_ORDERS}})
    batch: list[tuple] = []
    for row in rows.order_by("pk").iterator(chunk_size=CHUNK):
        batch.append(row)
        if len(batch) == CHUNK:
            yield from _traces_of(batch, group_by)
            batch = []
    if batch:
        yield from _traces_of(batch, group_by)


def _traces_of(batch: list[tuple], group_by: str) -> Iterator[Trace]:
    ids = [row[0] for row in batch]
    steps: dict[int, list[Step]] = {pk: [] for pk in ids}
    scores = dict(
        ((order_id, seq), (data or {}).get("score"))
        for order_id, seq, data in OrderEvent.objects.filter(order_id__in=ids, action="rate")
        .values_list("order_id", "seq", "data")
    )
    events = (OrderEvent.objects.filter(order_id__in=ids).order_by("order_id", "seq")
              .values_list("order_id", "seq", "at", "action", "from_status", "to_status"))
    for order_id, seq, at, action, from_status, to_status in events:
        score = scores.get((order_id, seq)) if action == "rate" else None
        steps[order_id].append(Step(at, action, from_status, to_status, score if isinstance(score, int) else None))
    for pk, order_type, created_at, value in batch:
        yield Trace(pk, order_type, tuple(steps[pk]), group_label(group_by, value, created_at), created_at)
