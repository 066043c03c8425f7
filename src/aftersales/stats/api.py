"""The statistics centre's API: KPIs per group and the mined process map, scoped to the caller."""

from __future__ import annotations

from datetime import date
from typing import Literal

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from aftersales.api.errors import COMMON_ERRORS
from aftersales.core.errors import ValidationFailed
from aftersales.core.types import DbId
from aftersales.stats import engine, measures as extra_measures, policies, selectors, services

router = Router(tags=["Statistics"])

GroupBy = Literal["none", "organization", "province", "city", "model", "category", "component", "order_type",
                  "channel", "service_level", "person", "hop", "week", "month"]
OrderTypeFilter = Literal["repair", "consultation", "complaint", "return_exchange"]
ChannelFilter = Literal["phone", "fax", "email", "portal", "api", "visit", "campaign"]


class StatsQuery(Schema):
    date_from: date | None = Field(None, description="First day (Asia/Shanghai), inclusive. Default: 29 days before date_to. / 起始日期")
    date_to: date | None = Field(None, description="Last day, inclusive. Default: today. At most 366 days in all. / 截止日期")
    order_type: OrderTypeFilter | None = Field(None, description="Only orders of this type. / 任务单类型")
    channel: ChannelFilter | None = Field(None, description="Only orders that came in by this channel. / 受理渠道")
    organization: DbId | None = Field(None, description="Only orders served by this organization or one below it. / 服务组织（含下级）")
    province: str | None = Field(None, max_length=20, description="The customer's province. / 省")
    city: str | None = Field(None, max_length=30, description="The customer's city. / 市")
    model: str | None = Field(None, max_length=40, description="The machine's model code. / 机型")
    category: str | None = Field(None, max_length=32, description="The machine's product category. / 产品类别")
    service_level: str | None = Field(None, max_length=20, description="The order's service level. / 服务级别")
    source: Literal["auto", "events", "aggregates"] = Field(
        "auto", description="auto: periods over 92 days from the daily aggregates (means; median and p90 null; "
        "at most a worker tick behind), shorter ones from the events. / 数据来源")


class KpiQuery(StatsQuery):
    group_by: GroupBy = Field("none", description="One row per group. / 分组")
    measures: str | None = Field(None, max_length=1000, description=(
        "Comma-separated measure names (docs/kpis.md); default: every measure of the events. Besides those: "
        "warranty_cost[_part|_labour|_travel], failures_per_1000, hours_to_first_failure, visit_satisfaction, "
        "visit_reach_rate, sla_attainment. / 指标"))


FILTER_NAMES = ("organization", "province", "city", "model", "category", "service_level")


def filters_of(q: StatsQuery) -> dict:
    return {name: getattr(q, name) for name in FILTER_NAMES if getattr(q, name)}


def event_measure_names() -> set[str]:
    """The names the event measures answer under (intake per type included)."""
    names = {"intake", "rating", *engine.RATES, *(f"intake_{t}" for t in selectors.ORDER_TYPES)}
    for span in engine.SPANS:
        names.add(span.name)
        if span.target_seconds is not None:
            names.add(f"{span.name}_attainment")
    return names


def wanted_measures(text: str | None) -> set[str] | None:
    if not text:
        return None
    names = {m.strip() for m in text.split(",") if m.strip()}
    unknown = sorted(names - event_measure_names() - set(extra_measures.EXTRA_MEASURES))
    if unknown:
        raise ValidationFailed(_("Nothing was computed."), fields={"measures": _("Unknown measure: %(names)s.") % {"names": ", ".join(unknown)}})
    return names


def kpi_table(user, q: KpiQuery, *, date_from, date_to, start, end) -> tuple[dict, str]:
    """{group: {measure: Figure}} and the source, for the API and the pages."""
    wanted = wanted_measures(q.measures)
    filters = filters_of(q)
    table: dict = {}
    source = "events"
    events_wanted = wanted is None or bool(wanted & event_measure_names())
    if events_wanted and q.group_by != "hop":
        if selectors.use_aggregates(date_from, date_to, q.source, q.channel, filters, q.group_by):
            sums = selectors.aggregate_sums(user, date_from=date_from, date_to=date_to, group_by=q.group_by,
                                            order_type=q.order_type, channel=q.channel, filters=filters)
            table = {g: engine.figures_from_sums(s) for g, s in sums["groups"].items()}
            source = "aggregates"
        else:
            table = engine.kpis(selectors.traces(user, start=start, end=end, group_by=q.group_by,
                                                 order_type=q.order_type, channel=q.channel, filters=filters))
    if wanted is not None:
        table = {g: {k: f for k, f in m.items() if k in wanted} for g, m in table.items()}
        more = extra_measures.extra(user, wanted, date_from=date_from, date_to=date_to, group_by=q.group_by,
                                    filters=filters)
        for group, figures in more.items():
            table.setdefault(group, {}).update(figures)
    return table, source


class FigureOut(Schema):
    value: float | None = Field(..., description="Mean for durations, share (0-1) for rates, count for intake.")
    n: int = Field(..., description="How many orders (or ratings) the figure rests on.")
    unit: str
    median: float | None = None
    p90: float | None = None


class KpiRow(Schema):
    group: str
    measures: dict[str, FigureOut]


class KpiOut(Schema):
    date_from: date
    date_to: date
    group_by: str
    source: str = Field(..., description="events or aggregates: where these figures were read from.")
    rows: list[KpiRow]


class EdgeOut(Schema):
    source: str
    target: str
    count: int
    designed: bool = Field(..., description="On the seed's designed flow; false marks a deviation.")
    median_hours: float | None
    p90_hours: float | None
    mean_hours: float | None = Field(None, description="From the aggregates (which hold no medians).")


class DeviationOut(Schema):
    code: str = Field(..., description="skipped_hotline, dispatch_ping_pong, technician_declined, complaint_reopened, escalated_repeatedly")
    count: int
    examples: list[int] = Field(..., description="Ids of a few orders that show it.")


class ProcessMapOut(Schema):
    date_from: date
    date_to: date
    source: str
    orders: int
    nodes: list[dict]
    edges: list[EdgeOut]
    deviations: list[DeviationOut]
    slowest: list[EdgeOut]


def _today() -> date:
    return timezone.localdate()


@router.get("/stats/kpis", response={200: KpiOut, **COMMON_ERRORS}, summary="KPIs per group / 服务指标")
def kpis(request, filters: Query[KpiQuery]):
    """The measures defined in docs/kpis.md (handoff, callback, dispatch acceptance, arrival, fix and
    turnaround times with median and p90; first-time-fix, phone-resolution, escalation, low-rating and
    complaint rates; intake per type; the average rating), computed from the orders' events for the
    orders created in the period that the caller may see. Every figure carries `n`, the orders behind it.
    按分组统计的服务指标（来自任务单日志），每个数字附带其依据的单数。"""
    policies.check_read_stats(request.user)
    start, end, date_from, date_to = selectors.period(filters.date_from, filters.date_to, today=_today())
    table, source = kpi_table(request.user, filters, date_from=date_from, date_to=date_to, start=start, end=end)
    rows = [{"group": g, "measures": {k: f.as_dict() for k, f in m.items()}} for g, m in sorted(table.items())]
    return {"date_from": date_from, "date_to": date_to, "group_by": filters.group_by, "source": source, "rows": rows}


@router.get("/stats/process-map", response={200: ProcessMapOut, **COMMON_ERRORS}, summary="The process map / 流程地图")
def process_map(request, filters: Query[StatsQuery]):
    """The directly-follows graph of the real process mined from the orders' events: statuses as
    nodes, each observed move as an edge with its count and median / p90 waiting time, marked when it
    is not on the seed's designed flow; deviations with example orders; the slowest hops first.
    从任务单日志挖掘出的实际流程：节点为状态，边为实际发生的流转（次数、等待时间中位数与 p90）。"""
    policies.check_read_stats(request.user)
    start, end, date_from, date_to = selectors.period(filters.date_from, filters.date_to, today=_today())
    chosen = filters_of(filters)
    source = ("aggregates" if selectors.use_aggregates(date_from, date_to, filters.source, filters.channel, chosen)
              else "events")
    pm = selectors.process_map(request.user, date_from=date_from, date_to=date_to, start=start, end=end,
                               order_type=filters.order_type, channel=filters.channel, source=source, filters=chosen)
    return {"date_from": date_from, "date_to": date_to, "source": source, "orders": pm.orders, "nodes": pm.nodes, "edges": pm.edges,
            "deviations": [{"code": d.code, "count": d.count, "examples": list(d.examples)} for d in pm.deviations],
            "slowest": pm.slowest}


class SubscriptionsIn(Schema):
    frequencies: list[Literal["weekly", "monthly"]] = Field(..., description="weekly and/or monthly; [] to stop. / 订阅周报、月报")


class SubscriptionsOut(Schema):
    frequencies: list[str]


@router.get("/stats/subscriptions", response={200: SubscriptionsOut, **COMMON_ERRORS}, summary="My report subscriptions")
def subscriptions_get(request):
    policies.check_read_stats(request.user)
    return {"frequencies": sorted(request.user.report_subscriptions.values_list("frequency", flat=True))}


@router.put("/stats/subscriptions", response={200: SubscriptionsOut, **COMMON_ERRORS}, summary="Subscribe to reports / 订阅统计报告")
def subscriptions_put(request, payload: SubscriptionsIn):
    """The weekly report (last Monday to Sunday) and the monthly report (last calendar month) go to your
    e-mail address once each, with the figures of the orders you may see and a link to the dashboard."""
    return {"frequencies": services.subscriptions_set(actor=request.user, frequencies=list(payload.frequencies))}
