"""The statistics centre's measures that are not made of one order's events: 三包 cost from the
claims, failures per 1,000 machines in the field and hours to the first failure from the machine
registry and hour-meter readings, return-visit satisfaction, and SLA attainment per hop, organization
and person from the SLA clocks. docs/kpis.md defines each one.

Each reads through its own app's selector taking the user (claims, machines, visits, clocks), so a
partner's figures are its own. They are computed per request (they are small: claims, first failures
and clocks, not every event); each figure carries ``n``, what it rests on, like the event measures.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Count, Min, Sum
from django.db.models.functions import TruncMonth

from aftersales.stats.engine import REPAIR, SHANGHAI, Figure

COST_KINDS = ("part", "labour", "travel")
# measure -> the groupings it answers (others give no row for it)
EXTRA_MEASURES: dict[str, tuple[str, ...]] = {
    "warranty_cost": ("none", "model", "component", "month", "organization"),
    "warranty_cost_part": ("none", "model", "component", "month", "organization"),
    "warranty_cost_labour": ("none", "model", "component", "month", "organization"),
    "warranty_cost_travel": ("none", "model", "component", "month", "organization"),
    "failures_per_1000": ("none", "model", "category"),
    "hours_to_first_failure": ("none", "model", "category"),
    "visit_satisfaction": ("none",),
    "visit_reach_rate": ("none",),
    "sla_attainment": ("none", "organization", "person", "hop"),
}


def _bounds(date_from: date, date_to: date) -> tuple[datetime, datetime]:
    from datetime import time, timedelta

    return (datetime.combine(date_from, time.min, SHANGHAI),
            datetime.combine(date_to + timedelta(days=1), time.min, SHANGHAI))


def _order_filter_prefix(qs, prefix: str, filters: dict):
    """The dashboard's filters on rows that reach the order through ``prefix`` ("" for orders)."""
    from aftersales.stats.selectors import FILTER_FIELDS, org_subtree

    for name, value in (filters or {}).items():
        if not value:
            continue
        if name == "organization":
            qs = qs.filter(**{f"{prefix}assigned_org_id__in": org_subtree(value)})
        else:
            qs = qs.filter(**{prefix + FILTER_FIELDS[name]: value})
    return qs


def warranty_cost(user, *, date_from: date, date_to: date, group_by: str, filters: dict) -> dict[str, dict]:
    """三包费用: approved amounts of the claims completed in the period, by kind (parts, labour,
    travel) and in all, per model (of the machine), component (repaired), month or organization."""
    from aftersales.parts.models import ClaimLine
    from aftersales.parts.selectors import claim_queryset

    start, end = _bounds(date_from, date_to)
    claims = _order_filter_prefix(claim_queryset(user).exclude(approved_total=None)
                                  .filter(completed_at__gte=start, completed_at__lt=end), "order__", filters)
    key = {"none": None, "model": "claim__order__machine__model__code",
           "component": "claim__order__service_record__component", "month": "month",
           "organization": "claim__organization__name"}[group_by]
    lines = ClaimLine.objects.filter(claim__in=claims).exclude(approved_amount=None)
    if key == "month":
        lines = lines.annotate(month=TruncMonth("claim__completed_at", tzinfo=SHANGHAI))
    fields = [key] if key else []
    rows = lines.values(*fields, "kind").annotate(amount=Sum("approved_amount")).order_by()
    out: dict[str, dict] = defaultdict(dict)
    # n of a cost figure: the claims behind it
    counts: dict[str, set] = defaultdict(set)
    for claim_id, *group in lines.values_list("claim_id", *fields):
        counts[_label(group_by, group[0] if group else None)].add(claim_id)
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for r in rows:
        group = _label(group_by, r.get(key) if key else None)
        amount = Decimal(str(r["amount"] or 0)).quantize(Decimal("0.01"))
        n = len(counts[group])
        out[group][f"warranty_cost_{r['kind']}"] = Figure(float(amount), n, "yuan")
        totals[group] += amount
    for group, amount in totals.items():
        for kind in COST_KINDS:
            out[group].setdefault(f"warranty_cost_{kind}", Figure(0.0, len(counts[group]), "yuan"))
        out[group]["warranty_cost"] = Figure(float(amount), len(counts[group]), "yuan")
    return dict(out)


def _label(group_by: str, value) -> str:
    if group_by == "none":
        return ""
    if group_by == "month" and value is not None:
        return value.astimezone(SHANGHAI).strftime("%Y-%m") if hasattr(value, "astimezone") else str(value)[:7]
    return str(value) if value not in (None, "") else "-"


def field_failures(user, *, date_from: date, date_to: date, group_by: str, filters: dict) -> dict[str, dict]:
    """故障率: machines with a repair order in the period per 1,000 machines in the field (in service
    and delivered by the end of the period), and the mean hour-meter reading at each machine's
    first repair ever (首次故障平均工作小时), for the machines whose first repair fell in the period."""
    from aftersales.registry.selectors import machine_queryset
    from aftersales.service.models import ServiceOrder, ServiceRecord
    from aftersales.service.selectors import order_queryset_plain

    start, end = _bounds(date_from, date_to)
    key = {"none": None, "model": "model__code", "category": "model__category"}[group_by]
    machines = machine_queryset(user).filter(status="in_service")
    for name, value in (filters or {}).items():
        if value and name in ("model", "category"):
            machines = machines.filter(**{"model__code" if name == "model" else "model__category": value})
        elif value and name in ("province", "city"):
            machines = machines.filter(**{f"owner__{name}": value})
    machines = machines.exclude(delivery_date__gt=date_to).exclude(invoice_date__gt=date_to)
    in_field = {_label(group_by, g): n for g, n in (
        machines.values_list(key).annotate(n=Count("id")).order_by() if key
        else [(None, machines.count())])}
    repairs = _order_filter_prefix(order_queryset_plain(user).filter(
        order_type__in=REPAIR, created_at__gte=start, created_at__lt=end, machine__isnull=False), "", filters)
    mkey = {"none": None, "model": "machine__model__code", "category": "machine__model__category"}[group_by]
    failed = {_label(group_by, g): n for g, n in (
        repairs.values_list(mkey).annotate(n=Count("machine", distinct=True)).order_by() if mkey
        else [(None, repairs.values("machine").distinct().count())])}

    # First failures: machines of the period's repair orders whose earliest repair order is in the period.
    firsts = (ServiceOrder.objects.filter(order_type__in=REPAIR, machine__in=repairs.values("machine"))
              .values("machine").annotate(first=Min("created_at")).filter(first__gte=start, first__lt=end)
              .values_list("machine", "first"))
    first_of = dict(firsts)
    # Newest first, so the dict is left holding each machine's earliest repair order.
    first_orders: dict[int, tuple[int, datetime]] = {}
    for machine_id, pk, created in (ServiceOrder.objects.filter(machine__in=list(first_of), order_type__in=REPAIR)
                                    .order_by("-created_at").values_list("machine", "pk", "created_at")):
        first_orders[machine_id] = (pk, created)
    meter = dict(ServiceRecord.objects.filter(order__in=[pk for pk, _ in first_orders.values()],
                                              hours_meter__isnull=False).values_list("order_id", "hours_meter"))
    hours: dict[int, float] = {}
    missing = []
    for machine_id, (pk, created) in first_orders.items():
        if pk in meter:
            hours[machine_id] = float(meter[pk])
        else:
            missing.append(machine_id)
    if missing:
        from aftersales.registry.models import HoursReading

        for machine_id, value, read_on in (HoursReading.objects.filter(machine__in=missing)
                                           .order_by("machine", "read_on", "id").values_list("machine", "hours", "read_on")):
            if read_on <= first_orders[machine_id][1].astimezone(SHANGHAI).date():
                hours[machine_id] = float(value)  # the latest reading on or before the failure
    group_of = dict(machine_queryset(user).filter(pk__in=list(hours)).values_list("pk", key)) if key else {}
    per_group: dict[str, list[float]] = defaultdict(list)
    for machine_id, h in hours.items():
        per_group[_label(group_by, group_of.get(machine_id) if key else None)].append(h)

    out: dict[str, dict] = defaultdict(dict)
    for group in set(in_field) | set(failed) | set(per_group):
        n = in_field.get(group, 0)
        out[group]["failures_per_1000"] = Figure(round(failed.get(group, 0) * 1000 / n, 2) if n else None, n, "per_1000")
        values = per_group.get(group, [])
        out[group]["hours_to_first_failure"] = Figure(round(sum(values) / len(values), 1) if values else None,
                                                      len(values), "meter_hours")
    return dict(out)


def visit_satisfaction(user, *, date_from: date, date_to: date) -> dict[str, dict]:
    """回访满意度: the return visits' satisfaction (visits app), beside the ratings."""
    from datetime import timedelta

    from aftersales.visits.selectors import satisfaction

    s = satisfaction(user, since=date_from, until=date_to + timedelta(days=1))
    return {"": {"visit_satisfaction": Figure(s["score_mean"], s["scored"], "score"),
                 "visit_reach_rate": Figure(s["reach_rate"], s["finished"], "ratio")}}


def sla_attainment(user, *, date_from: date, date_to: date, group_by: str) -> dict[str, dict]:
    """SLA 达标率 of the finished clocks started in the period, per hop, organization or person."""
    from aftersales.sla.selectors import attainment

    start, end = _bounds(date_from, date_to)
    if group_by == "none":
        rows = attainment(user, since=start, until=end, by="target")
        n, met = sum(r["n"] for r in rows), sum(r["met"] for r in rows)
        return {"": {"sla_attainment": Figure(round(met / n, 4) if n else None, n, "ratio")}}
    by = {"organization": "holder_org", "person": "holder_user", "hop": "target"}[group_by]
    return {r["group"]: {"sla_attainment": Figure(r["value"], r["n"], "ratio")}
            for r in attainment(user, since=start, until=end, by=by)}


def extra(user, measures: set[str], *, date_from: date, date_to: date, group_by: str,
          filters: dict | None = None) -> dict[str, dict[str, Figure]]:
    """{group: {measure: Figure}} of the requested measures that answer ``group_by``."""
    filters = filters or {}
    out: dict[str, dict[str, Figure]] = defaultdict(dict)
    wanted = {m for m in measures if group_by in EXTRA_MEASURES.get(m, ())}

    def merge(table):
        for group, figures in table.items():
            out[group].update({k: v for k, v in figures.items() if k in wanted})

    if wanted & {"warranty_cost", *(f"warranty_cost_{k}" for k in COST_KINDS)}:
        merge(warranty_cost(user, date_from=date_from, date_to=date_to, group_by=group_by, filters=filters))
    if wanted & {"failures_per_1000", "hours_to_first_failure"}:
        merge(field_failures(user, date_from=date_from, date_to=date_to, group_by=group_by, filters=filters))
    if wanted & {"visit_satisfaction", "visit_reach_rate"}:
        merge(visit_satisfaction(user, date_from=date_from, date_to=date_to))
    if "sla_attainment" in wanted:
        merge(sla_attainment(user, date_from=date_from, date_to=date_to, group_by=group_by))
    return dict(out)


def parts_measures(user, *, since: date | None = None) -> dict:
    """The parts app's own figures (GET /api/v1/stats/parts-measures), for the stats pages."""
    from aftersales.parts import claims

    return {"stock_value": claims.stock_value(user), "claims_per_partner": claims.claims_per_partner(user),
            "old_part_verdicts": claims.old_part_verdicts(user)}
