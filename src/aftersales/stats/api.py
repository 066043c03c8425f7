"""The statistics centre's API: KPIs per group and the mined process map, scoped to the caller."""

from __future__ import annotations

from datetime import date
from typing import Literal

from django.utils import timezone
from ninja import Field, Query, Router, Schema

from aftersales.api.errors import COMMON_ERRORS
from aftersales.stats import engine, policies, selectors, services

router = Router(tags=["Statistics"])

GroupBy = Literal["none", "organization", "province", "model", "category", "order_type", "channel",
                  "service_level", "week", "month"]
OrderTypeFilter = Literal["repair", "consultation", "complaint", "return_exchange"]
ChannelFilter = Literal["phone", "fax", "email", "portal", "api", "visit", "campaign"]


class StatsQuery(Schema):
    date_from: date | None = Field(None, description="First day (Asia/Shanghai), inclusive. Default: 29 days before date_to. / 起始日期")
    date_to: date | None = Field(None, description="Last day, inclusive. Default: today. At most 366 days in all. / 截止日期")
    order_type: OrderTypeFilter | None = Field(None, description="Only orders of this type. / 任务单类型")
    channel: ChannelFilter | None = Field(None, description="Only orders that came in by this channel. / 受理渠道")
    source: Literal["auto", "events", "aggregates"] = Field(
        "auto", description="auto: periods over 92 days from the daily aggregates (means; median and p90 null; "
        "at most a worker tick behind), shorter ones from the events. / 数据来源")


class KpiQuery(StatsQuery):
    group_by: GroupBy = Field("none", description="One row per group. / 分组")


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
    if selectors.use_aggregates(date_from, date_to, filters.source, filters.channel):
        sums = selectors.aggregate_sums(request.user, date_from=date_from, date_to=date_to, group_by=filters.group_by,
                                        order_type=filters.order_type)
        table = {g: engine.figures_from_sums(s) for g, s in sums["groups"].items()}
        source = "aggregates"
    else:
        table = engine.kpis(selectors.traces(request.user, start=start, end=end, group_by=filters.group_by,
                                             order_type=filters.order_type, channel=filters.channel))
        source = "events"
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
    source = "aggregates" if selectors.use_aggregates(date_from, date_to, filters.source, filters.channel) else "events"
    pm = selectors.process_map(request.user, date_from=date_from, date_to=date_to, start=start, end=end,
                               order_type=filters.order_type, channel=filters.channel, source=source)
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
