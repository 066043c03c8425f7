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


# The group_by dimensions stored as their own rows (organization, order_type and time come from the
# cell's own columns), each with the order field that names the group.
DIMENSIONS = {
    "province": "customer__province",
    "model": "machine__model__code",
    "category": "machine__model__category",
    "channel": "channel",
    "service_level": "service_level",
}


# --- reading the daily aggregates (stats/aggregates.py) -------------------------------------

# A period longer than this is read from the daily aggregates (means, no medians) unless the caller
# asks for the events; shorter ones are computed from the events themselves (fresh, with medians).
AGGREGATE_FROM_DAYS = 92


def use_aggregates(date_from: date, date_to: date, source: str = "auto", channel: str | None = None) -> bool:
    if channel:
        return False  # the aggregates are kept per channel for grouping, not for filtering: the events answer it
    if source in ("events", "aggregates"):
        return source == "aggregates"
    return (date_to - date_from).days + 1 > AGGREGATE_FROM_DAYS


def _aggregate_scope(user, qs):
    """The orders' own visibility rule, applied to rows that carry the order's two organization
    columns under the same names (assigned_org_id, owning_org_id): one rule, no second copy."""
    from aftersales.service import policies as order_policies

    q = order_policies.order_visibility_q(user)
    return qs if q is None else qs.filter(q)


def aggregate_sums(user, *, date_from: date, date_to: date, group_by: str = "none",
                   order_type: str | None = None, bucket: str | None = None) -> dict:
    """The additive sums of the orders the user may see, created from date_from to date_to:
    ``{"overall": sums, "groups": {group: sums}, "buckets": {week-or-month: sums}}``."""
    from aftersales.accounts.models import Organization
    from aftersales.stats import engine
    from aftersales.stats.models import DailyAggregate

    qs = _aggregate_scope(user, DailyAggregate.objects.filter(day__gte=date_from, day__lte=date_to))
    if order_type:
        qs = qs.filter(order_type=order_type)
    # Each row is added once, to its (group, bucket) cell; the overall figures, the groups and the
    # buckets are then sums of the few cells (a year network-wide is tens of thousands of rows).
    cells: dict[tuple, dict] = {}
    by_dim = group_by in DIMENSIONS
    for day, org_id, otype, sums in qs.filter(dim="").values_list("day", "assigned_org_id", "order_type", "sums").iterator(
            chunk_size=5_000):
        if group_by == "organization":
            group = org_id
        elif group_by == "order_type":
            group = otype
        elif group_by in ("week", "month"):
            group = day.strftime("%Y-%m") if group_by == "month" else "%d-W%02d" % day.isocalendar()[:2]
        else:
            group = ""
        label = (day.strftime("%Y-%m") if bucket == "month" else "%d-W%02d" % day.isocalendar()[:2]) if bucket else ""
        cell = cells.get((group, label))
        if cell is None:
            cell = cells[(group, label)] = {}
        engine.merge_sums(cell, sums)
    overall: dict = {}
    groups: dict[str, dict] = {}
    buckets: dict[str, dict] = {}
    names = (dict(Organization.objects.filter(pk__in={g for g, _ in cells}).values_list("pk", "name"))
             if group_by == "organization" else {})
    for (group, label), sums in cells.items():
        engine.merge_sums(overall, sums)
        if bucket:
            engine.merge_sums(buckets.setdefault(label, {}), sums)
        if group_by == "organization":
            group = names.get(group, "-") if group else "-"
        if not by_dim:
            engine.merge_sums(groups.setdefault(group, {}), sums)
    if by_dim:
        for value, sums in qs.filter(dim=group_by).values_list("value", "sums").iterator(chunk_size=5_000):
            engine.merge_sums(groups.setdefault(value, {}), sums)
    return {"overall": overall, "groups": groups, "buckets": buckets}


def deviation_examples(user, *, date_from: date, date_to: date, codes, order_type: str | None = None,
                       limit: int = 5) -> dict[str, tuple[int, ...]]:
    """A few orders showing each deviation, read from the orders' recorded shares."""
    from aftersales.stats.models import OrderFact

    out = {}
    for code in codes:
        qs = _aggregate_scope(user, OrderFact.objects.filter(day__gte=date_from, day__lte=date_to,
                                                             deviations__contains=f",{code},"))
        if order_type:
            qs = qs.filter(order_type=order_type)
        out[code] = tuple(qs.order_by("order_id").values_list("order_id", flat=True)[:limit])
    return out


def process_map(user, *, date_from: date, date_to: date, start: datetime, end: datetime,
                order_type: str | None = None, channel: str | None = None, source: str = "events", traces_read=None):
    """The process map from the events (medians) or from the aggregates (means, a few examples per
    deviation from the orders' recorded shares)."""
    from aftersales.stats import engine

    if source == "aggregates":
        sums = aggregate_sums(user, date_from=date_from, date_to=date_to, order_type=order_type)["overall"]
        codes = [k[2:] for k in sums if k.startswith("d:")]
        return engine.process_map_from_sums(sums, deviation_examples(
            user, date_from=date_from, date_to=date_to, codes=codes, order_type=order_type))
    return engine.process_map(traces_read if traces_read is not None
                              else traces(user, start=start, end=end, order_type=order_type, channel=channel))
