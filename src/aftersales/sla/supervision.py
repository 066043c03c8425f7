"""督查 numbers: what the supervisor's page shows before any list (today's and this month's intake,
open, overdue, breaches per hop and per organization, average handoff and arrival time,
satisfaction, the last 30 days of intake). Every figure is over the orders the user may see, read
in a fixed number of aggregate queries whatever the size of the tables.

"Overdue" here is one rule for the tile and the list below it: an open order whose current clock
has run out (read against now, sweep or no sweep) or whose time promised to the customer has
passed. The statistics centre is separate work; this is the supervisor's daily glance."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Avg, Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from aftersales.sla import selectors as sla_selectors
from aftersales.sla.models import ClockState, SlaClock


def _open_statuses():
    from aftersales.service.models import OPEN_STATUSES, OrderStatus

    return [s for s in OPEN_STATUSES if s != OrderStatus.COMPLETED]


def overdue_q(now: datetime) -> Q:
    """An open order past the time promised to the customer, or with a clock run out."""
    late_clock = SlaClock.objects.filter(state=ClockState.RUNNING, due_at__lte=now).values("order_id")
    return Q(status__in=_open_statuses()) & (Q(promised_at__lt=now) | Q(pk__in=late_clock))


def overdue_orders(user, now: datetime | None = None) -> QuerySet:
    """The overdue orders the user sees, as list rows (``service.selectors.order_rows``), the
    longest-waiting first."""
    from aftersales.service import selectors

    now = now or timezone.now()
    return selectors.order_rows(user).filter(overdue_q(now)).order_by("created_at", "id")


@dataclass
class Bar:
    label: str
    value: int
    title: str = ""
    width: float = 0.0  # 0..100, the share of the largest bar (drawn by the template as SVG)
    x: int = 0  # a column chart's column: left edge, top and height in a 300 x 80 viewBox
    y: float = 0.0
    height: float = 0.0


@dataclass
class Numbers:
    today_intake: int
    month_intake: int
    open: int
    overdue: int
    month_breaches: int
    average_handoff_minutes: int | None
    average_arrival_hours: float | None
    satisfaction: float | None
    ratings: int
    by_hop: list[Bar] = field(default_factory=list)
    by_org: list[Bar] = field(default_factory=list)
    intake_days: list[Bar] = field(default_factory=list)
    month_start: date | None = None


def _scaled(bars: list[Bar]) -> list[Bar]:
    top = max((b.value for b in bars), default=0)
    for b in bars:
        b.width = round(100 * b.value / top, 1) if top else 0.0
    return bars


def _columns(bars: list[Bar], height: float = 80.0, step: int = 10) -> list[Bar]:
    for i, b in enumerate(bars):
        b.x, b.height = i * step, round(height * b.width / 100, 1)
        b.y = round(height - b.height, 1)
    return bars


def numbers(user, now: datetime | None = None) -> Numbers:
    from aftersales.service import selectors
    from aftersales.service.models import Rating

    now = now or timezone.now()
    local = timezone.localtime(now)
    tz = timezone.get_current_timezone()
    today = datetime.combine(local.date(), time.min, tz)
    month = datetime.combine(local.date().replace(day=1), time.min, tz)
    window = datetime.combine(local.date() - timedelta(days=29), time.min, tz)

    orders = selectors.order_queryset_plain(user)
    counts = orders.aggregate(
        today=Count("id", filter=Q(created_at__gte=today)),
        month=Count("id", filter=Q(created_at__gte=month)),
        open=Count("id", filter=Q(status__in=_open_statuses())),
        overdue=Count("id", filter=overdue_q(now)),
    )
    per_day = dict(orders.filter(created_at__gte=window).annotate(day=TruncDate("created_at", tzinfo=tz))
                   .values_list("day").annotate(n=Count("id")).order_by())
    days = [local.date() - timedelta(days=29 - i) for i in range(30)]
    intake = [Bar(label=d.strftime("%m-%d"), value=per_day.get(d, 0), title=d.isoformat()) for d in days]

    clocks = sla_selectors.month_figures(user, since=month)
    hops, handoff, arrival = clocks["by_hop"], clocks["handoff_seconds"], clocks["arrival_seconds"]
    orgs = sla_selectors.breaches_by_organization(user, since=month)
    rated = Rating.objects.filter(order__in=orders, recorded_at__gte=month).aggregate(avg=Avg("score"), n=Count("id"))
    return Numbers(
        today_intake=counts["today"], month_intake=counts["month"], open=counts["open"], overdue=counts["overdue"],
        month_breaches=sum(n for _c, _l, n in hops),
        average_handoff_minutes=None if handoff is None else round(handoff / 60),
        average_arrival_hours=None if arrival is None else round(arrival / 3600, 1),
        satisfaction=None if rated["avg"] is None else round(float(rated["avg"]), 2), ratings=rated["n"],
        by_hop=_scaled([Bar(label=label, value=n, title=code) for code, label, n in hops]),
        by_org=_scaled([Bar(label=name, value=n) for name, n in orgs]),
        intake_days=_columns(_scaled(intake)), month_start=month.date(),
    )
