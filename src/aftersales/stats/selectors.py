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
    "city": "customer__city",
    "component": "service_record__component",
    "person": "assigned_technician__username",
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


# The dashboard's filters (besides period, order type and channel) and the order field each reads.
FILTER_FIELDS = {
    "province": "customer__province",
    "city": "customer__city",
    "model": "machine__model__code",
    "category": "machine__model__category",
    "service_level": "service_level",
}


def filter_orders(orders, filters: dict | None):
    """Narrow a (visible) order queryset by the dashboard's filters; ``organization`` is a subtree."""
    for name, value in (filters or {}).items():
        if not value:
            continue
        if name == "organization":
            orders = orders.filter(assigned_org_id__in=org_subtree(value))
        else:
            orders = orders.filter(**{FILTER_FIELDS[name]: value})
    return orders


def traces(user, *, start: datetime, end: datetime, group_by: str = "none",
           order_type: str | None = None, channel: str | None = None, filters: dict | None = None) -> Iterator[Trace]:
    """One trace per visible order created in [start, end), with its whole timeline."""
    orders = order_selectors.order_queryset_plain(user).filter(created_at__gte=start, created_at__lt=end)
    if order_type:
        orders = orders.filter(order_type=order_type)
    if channel:
        orders = orders.filter(channel=channel)
    orders = filter_orders(orders, filters)
    field = GROUP_FIELDS[group_by]
    group_expr = F(field) if field else Value("")
    rows = orders.annotate(g=Coalesce(group_expr, Value(""))).values_list("pk", "order_type", "created_at", "g",
                                                                          "machine_id")
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


def repairs_completed(machine_ids=None) -> dict[int, list[datetime]]:
    """{machine id: the completion times of its repair orders, ascending}, of the given machines or
    (None) of every machine: the rebuild reads them once for the whole archive instead of once per
    batch (a machine's orders are spread over many batches)."""
    from aftersales.service.models import ServiceOrder
    from aftersales.stats.engine import REPAIR

    rows = ServiceOrder.objects.filter(order_type__in=REPAIR, completed_at__isnull=False)
    if machine_ids is not None:
        rows = rows.filter(machine_id__in=machine_ids)
    done: dict[int, list[datetime]] = {}
    for machine_id, completed in rows.filter(machine_id__isnull=False).values_list(
            "machine_id", "completed_at").iterator(chunk_size=20_000):
        done.setdefault(machine_id, []).append(completed)
    for times in done.values():
        times.sort()
    return done


def prior_fixes(batch: list[tuple], done: dict[int, list[datetime]] | None = None) -> dict[int, datetime]:
    """{order id: when its machine's previous repair was completed} for the repair orders of the batch
    (rows of (pk, order_type, created_at, group, machine_id)); one query per batch unless ``done``
    (``repairs_completed()``) is given. The previous repair is the latest repair order of the same
    machine completed before this one was created, so the figure is fixed once the order exists."""
    from bisect import bisect_left

    from aftersales.stats.engine import REPAIR

    wanted = [(r[0], r[2], r[4]) for r in batch if len(r) > 4 and r[4] and r[1] in REPAIR]
    if not wanted:
        return {}
    if done is None:
        done = repairs_completed({m for _, _, m in wanted})
    out = {}
    for pk, created, machine_id in wanted:
        times = done.get(machine_id)
        if times:
            i = bisect_left(times, created)  # times[i - 1] is the latest completed before created
            if i:
                out[pk] = times[i - 1]
    return out


def _traces_of(batch: list[tuple], group_by: str, done: dict[int, list[datetime]] | None = None) -> Iterator[Trace]:
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
    prior = prior_fixes(batch, done)
    for pk, order_type, created_at, value, *_rest in batch:
        yield Trace(pk, order_type, tuple(steps[pk]), group_label(group_by, value, created_at), created_at,
                    prior.get(pk))


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


def use_aggregates(date_from: date, date_to: date, source: str = "auto", channel: str | None = None,
                   filters: dict | None = None, group_by: str = "none") -> bool:
    """Whether the daily aggregates can answer: they hold one dimension per row, so a filter on one
    dimension (province, model, category, service level) with a grouping by organization, order
    type or time is read from them; a city, a second dimension filter or a dimension grouping under
    a dimension filter is answered from the events."""
    dims = aggregate_dim_filter(filters)
    if channel:
        dims = False if dims else ("channel", channel)
    if dims is False or (dims and group_by in DIMENSIONS) or group_by not in AGGREGATE_GROUPS:
        return False
    if source in ("events", "aggregates"):
        return source == "aggregates"
    return (date_to - date_from).days + 1 > AGGREGATE_FROM_DAYS


# The groupings the aggregate rows can give (person, component and city are the events').
AGGREGATE_GROUPS = ("none", "organization", "order_type", "week", "month", *DIMENSIONS)


def aggregate_dim_filter(filters: dict | None):
    """The one (dimension, value) filter of the aggregates, None for none, False when the filters
    need the events (a city, or more than one dimension)."""
    filters = {k: v for k, v in (filters or {}).items() if v}
    if filters.get("city"):
        return False
    dims = [(d, filters[d]) for d in ("province", "model", "category", "service_level") if d in filters]
    if len(dims) > 1:
        return False
    return dims[0] if dims else None


def _grain_q(date_from: date, date_to: date, *, daily_only: bool = False):
    """Rows of [date_from, date_to]: whole calendar months from the month rows, the days of the
    partial months at the edges from the day rows."""
    from django.db.models import Q

    if daily_only:
        return Q(grain="d", day__gte=date_from, day__lte=date_to)
    first_full = date_from if date_from.day == 1 else (date_from.replace(day=28) + timedelta(days=4)).replace(day=1)
    after_last = (date_to + timedelta(days=1))
    end_full = after_last.replace(day=1)  # months before this one end inside the period
    if first_full >= end_full:
        return Q(grain="d", day__gte=date_from, day__lte=date_to)
    q = Q(grain="m", day__gte=first_full, day__lt=end_full)
    if date_from < first_full:
        q |= Q(grain="d", day__gte=date_from, day__lt=first_full)
    if end_full <= date_to:
        q |= Q(grain="d", day__gte=end_full, day__lte=date_to)
    return q


def aggregate_sums(user, *, date_from: date, date_to: date, group_by: str = "none",
                   order_type: str | None = None, bucket: str | None = None, channel: str | None = None,
                   filters: dict | None = None) -> dict:
    """The additive sums of the orders the user may see, created from date_from to date_to:
    ``{"overall": sums, "groups": {group: sums}, "buckets": {week-or-month: sums}}``. ``filters``:
    ``organization`` (an id: that organization and every one below it), and one of province, model,
    category and service level (see ``use_aggregates``)."""
    from aftersales.accounts.models import Organization
    from aftersales.stats import engine
    from aftersales.stats.models import DailyAggregate

    filters = filters or {}
    daily_only = group_by == "week" or bucket == "week"
    qs = _aggregate_scope(user, DailyAggregate.objects.filter(_grain_q(date_from, date_to, daily_only=daily_only)))
    if order_type:
        qs = qs.filter(order_type=order_type)
    if filters.get("organization"):
        qs = qs.filter(assigned_org_id__in=org_subtree(filters["organization"]))
    dim_filter = aggregate_dim_filter(filters) or None
    if channel:
        dim_filter = ("channel", channel)
    base_dim, base_value = dim_filter if dim_filter else ("", "")
    # Each row is added once, to its (group, bucket) cell; the overall figures, the groups and the
    # buckets are then sums of the few cells (a year network-wide is a few thousand rows).
    cells: dict[tuple, dict] = {}
    by_dim = group_by in DIMENSIONS
    for day, org_id, otype, sums in qs.filter(dim=base_dim, value=base_value).values_list(
            "day", "assigned_org_id", "order_type", "sums").iterator(chunk_size=5_000):
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


def _aggregate_scope(user, qs):
    """The orders' own visibility rule, applied to rows that carry the order's two organization
    columns under the same names (assigned_org_id, owning_org_id): one rule, no second copy."""
    from aftersales.service import policies as order_policies

    q = order_policies.order_visibility_q(user)
    return qs if q is None else qs.filter(q)


def org_subtree(org_id: int) -> list[int]:
    """The organization and every organization below it (a region's agencies and their stations)."""
    from aftersales.accounts.models import Organization

    parents = dict(Organization.objects.values_list("pk", "parent_id"))
    found, frontier = {int(org_id)}, {int(org_id)}
    while frontier:
        frontier = {pk for pk, parent in parents.items() if parent in frontier and pk not in found}
        found |= frontier
    return sorted(found)


def deviation_examples(user, *, date_from: date, date_to: date, codes, order_type: str | None = None,
                       channel: str | None = None, filters: dict | None = None,
                       limit: int = 5) -> dict[str, tuple[int, ...]]:
    """A few orders showing each deviation (the newest), read through the deviations' index
    (``OrderDeviation``: by code and day, so a rare deviation costs no scan of the period)."""
    from aftersales.stats.models import OrderDeviation

    filters = filters or {}
    base = OrderDeviation.objects.filter(day__gte=date_from, day__lte=date_to)
    if order_type:
        base = base.filter(order_type=order_type)
    if filters.get("organization"):
        base = base.filter(assigned_org_id__in=org_subtree(filters["organization"]))
    dim = ("channel", channel) if channel else aggregate_dim_filter(filters)
    if dim:
        base = base.filter(**{f"dims__{dim[0]}": dim[1]})
    out = {}
    for code in codes:
        qs = _aggregate_scope(user, base.filter(code=code))
        out[code] = tuple(qs.order_by("-day", "-order_id").values_list("order_id", flat=True)[:limit])
    return out


def process_map(user, *, date_from: date, date_to: date, start: datetime, end: datetime,
                order_type: str | None = None, channel: str | None = None, source: str = "events", traces_read=None,
                filters: dict | None = None, sums: dict | None = None):
    """The process map from the events (medians) or from the aggregates (means, a few examples per
    deviation from the orders' recorded shares). ``sums``: the overall sums of the same period and
    filters when the caller has read them already (the dashboard), so the rows are read once."""
    from aftersales.stats import engine

    if source == "aggregates":
        if sums is None:
            sums = aggregate_sums(user, date_from=date_from, date_to=date_to, order_type=order_type, channel=channel,
                                  filters=filters)["overall"]
        codes = [k[2:] for k in sums if k.startswith("d:")]
        return engine.process_map_from_sums(sums, deviation_examples(
            user, date_from=date_from, date_to=date_to, codes=codes, order_type=order_type, channel=channel,
            filters=filters))
    return engine.process_map(traces_read if traces_read is not None
                              else traces(user, start=start, end=end, order_type=order_type, channel=channel,
                                          filters=filters))
