"""统计中心: service KPIs and the process map, mined from the orders' own timelines.

Pure Python, no Django and no "now", like the warranty and SLA engines: the caller hands in one
``Trace`` per order (its events in sequence order) and gets numbers back, each with the count of
orders it rests on, so a figure from three orders is never mistaken for one from three thousand.
``docs/kpis.md`` defines every measure in words; the tables below are the same definitions in code.

Times here are calendar time (the clock on the wall between two events). Business-hour measures
belong to the SLA clocks, which already count working time per hop.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from math import ceil
from zoneinfo import ZoneInfo

from aftersales.core.calendar import add_working_days

SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True, slots=True)
class Step:
    """One event of an order's timeline (任务单日志)."""

    at: datetime
    action: str
    from_status: str
    to_status: str
    score: int | None = None  # the rating of a "rate" event


@dataclass(frozen=True, slots=True)
class Trace:
    order_id: int
    order_type: str
    steps: tuple[Step, ...]
    group: str = ""
    created_at: datetime | None = None  # lets a caller regroup (by week or month) without reading again
    # When the same machine's previous repair was completed (before this order was created), for the
    # repeat-repair rates; None when there was none (or the order has no machine).
    prior_fix_at: datetime | None = None


# --- measures ------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Span:
    """A duration from the first ``start`` event to the first ``end`` event after it."""

    name: str
    start: frozenset[str]
    end: frozenset[str] = frozenset()
    end_statuses: frozenset[str] = frozenset()  # or the first event that enters one of these
    unit: str = "minutes"
    order_types: frozenset[str] = frozenset()  # empty: every type
    target_seconds: int | None = None  # the commitment; gives "<name>_attainment"


REPAIR = frozenset({"repair", "return_exchange"})

SPANS: tuple[Span, ...] = (
    # Seed: 信息协调员 hands every call on within 15 minutes.
    Span("handoff", frozenset({"create"}), frozenset({"forward"}), unit="minutes", target_seconds=15 * 60),
    Span("callback", frozenset({"forward"}), frozenset({"callback"}), unit="minutes"),
    Span("dispatch_acceptance", frozenset({"dispatch"}), frozenset({"accept"}), unit="minutes", order_types=REPAIR),
    Span("arrival", frozenset({"dispatch"}), frozenset({"check_in", "receive"}), unit="hours", order_types=REPAIR),
    Span("fix", frozenset({"check_in", "receive"}), frozenset({"check_out"}), unit="hours", order_types=REPAIR),
    Span("turnaround", frozenset({"create"}), end_statuses=frozenset({"completed", "closed"}), unit="hours"),
    Span("escalation_answer", frozenset({"escalate"}), frozenset({"answer_escalation"}), unit="hours"),
    Span("complaint_resolution", frozenset({"create"}), frozenset({"customer_accept"}), unit="hours",
         order_types=frozenset({"complaint"})),
)
UNIT_SECONDS = {"minutes": 60, "hours": 3600}

RATES = (
    "first_time_fix_rate", "phone_resolution_rate", "escalation_rate", "low_rating_rate", "complaint_rate",
    "compliance_30wd_rate", "repeat_repair_30_rate", "repeat_repair_90_rate",
)
# 三包 (Art. 28 of the 三包 rules as the seed cites them): a repair is done within 30 working days of intake.
COMPLIANCE_WORKING_DAYS = 30
REPEAT_WINDOWS = (30, 90)


@lru_cache(maxsize=4096)
def compliance_deadline(created: date) -> date:
    """The last day a repair taken in on ``created`` may be completed: the 30th working day after it
    (statutory calendar with 调休, ``core/calendar``)."""
    return add_working_days(created, COMPLIANCE_WORKING_DAYS)


def completed_at(trace: Trace) -> datetime | None:
    """The first move into completed or closed (the end of ``turnaround``)."""
    for step in trace.steps:
        if step.to_status in ("completed", "closed") and step.to_status != step.from_status:
            return step.at
    return None


def compliance_30wd(trace: Trace) -> float | None:
    """1.0 when a repair was completed by its 30-working-day deadline, 0.0 when later, None while open
    (or not a repair)."""
    if trace.order_type not in REPAIR or not trace.steps:
        return None
    done = completed_at(trace)
    if done is None:
        return None
    created = (trace.created_at or trace.steps[0].at).astimezone(SHANGHAI).date()
    return 1.0 if done.astimezone(SHANGHAI).date() <= compliance_deadline(created) else 0.0


def repeat_repair(trace: Trace, days: int) -> float | None:
    """For a repair order: 1.0 when the same machine's previous repair was completed at most ``days``
    days before this order came in, else 0.0; None for other order types."""
    if trace.order_type not in REPAIR:
        return None
    if trace.prior_fix_at is None:
        return 0.0
    created = trace.created_at or (trace.steps[0].at if trace.steps else None)
    return 1.0 if created is not None and created - trace.prior_fix_at <= timedelta(days=days) else 0.0


@dataclass(frozen=True, slots=True)
class Figure:
    """A measure's value and the number of orders behind it. Durations also give median and p90."""

    value: float | None
    n: int
    unit: str = ""
    median: float | None = None
    p90: float | None = None

    def as_dict(self) -> dict:
        return {"value": self.value, "n": self.n, "unit": self.unit, "median": self.median, "p90": self.p90}


def percentile(sorted_values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (the value a person can find in the list), None for no values."""
    if not sorted_values:
        return None
    rank = max(1, ceil(q * len(sorted_values)))
    return sorted_values[rank - 1]


def span_seconds(trace: Trace, span: Span) -> float | None:
    started = None
    for step in trace.steps:
        if started is None:
            if step.action in span.start:
                started = step.at
            continue
        if step.action in span.end or (step.to_status in span.end_statuses and step.to_status != step.from_status):
            return max(0.0, (step.at - started).total_seconds())
    return None


def _duration_figure(seconds: list[float], unit: str) -> Figure:
    per = UNIT_SECONDS[unit]
    values = sorted(s / per for s in seconds)
    if not values:
        return Figure(None, 0, unit)
    return Figure(round(sum(values) / len(values), 2), len(values), unit,
                  round(percentile(values, 0.5), 2), round(percentile(values, 0.9), 2))


def _rate(hits: int, n: int) -> Figure:
    return Figure(round(hits / n, 4) if n else None, n, "ratio")


def kpis(traces: Iterable[Trace]) -> dict[str, dict[str, Figure]]:
    """{group: {measure: Figure}} for every group the traces carry (one pass over the traces)."""
    groups: dict[str, list[Trace]] = defaultdict(list)
    for trace in traces:
        groups[trace.group].append(trace)
    return {group: _kpis_of(members) for group, members in groups.items()}


def summary(traces: Iterable[Trace]) -> dict[str, Figure]:
    """Every measure over all the traces as one group (an empty list gives figures with n = 0)."""
    return _kpis_of(list(traces))


def _kpis_of(traces: list[Trace]) -> dict[str, Figure]:
    out: dict[str, Figure] = {}
    by_type = Counter(t.order_type for t in traces)
    out["intake"] = Figure(float(len(traces)), len(traces), "orders")
    for order_type, count in sorted(by_type.items()):
        out[f"intake_{order_type}"] = Figure(float(count), count, "orders")

    for span in SPANS:
        seconds = [s for t in traces if not span.order_types or t.order_type in span.order_types
                   if (s := span_seconds(t, span)) is not None]
        out[span.name] = _duration_figure(seconds, span.unit)
        if span.target_seconds is not None:
            out[f"{span.name}_attainment"] = _rate(sum(1 for s in seconds if s <= span.target_seconds), len(seconds))

    repairs = [t for t in traces if t.order_type in REPAIR]
    visited = [_actions(t) for t in repairs]
    fixed = [a for a in visited if a["check_out"]]
    # 一次修复率: the work was done on the first visit: one dispatch, one arrival.
    out["first_time_fix_rate"] = _rate(
        sum(1 for a in fixed if a["dispatch"] <= 1 and a["check_in"] + a["receive"] <= 1), len(fixed))
    resolved = [a for a in visited if a["solve_by_phone"] or a["check_out"]]
    out["phone_resolution_rate"] = _rate(sum(1 for a in resolved if a["solve_by_phone"]), len(resolved))
    out["escalation_rate"] = _rate(sum(1 for a in visited if a["escalate"]), len(visited))
    compliant = [c for t in repairs if (c := compliance_30wd(t)) is not None]
    out["compliance_30wd_rate"] = _rate(int(sum(compliant)), len(compliant))
    for days in REPEAT_WINDOWS:
        repeats = [repeat_repair(t, days) for t in repairs]
        out[f"repeat_repair_{days}_rate"] = _rate(int(sum(repeats)), len(repeats))

    scores = [s.score for t in traces for s in t.steps if s.action == "rate" and s.score is not None]
    out["rating"] = Figure(round(sum(scores) / len(scores), 2) if scores else None, len(scores), "score")
    out["low_rating_rate"] = _rate(sum(1 for s in scores if s <= 2), len(scores))
    served = sum(1 for t in traces if t.order_type != "complaint")
    out["complaint_rate"] = _rate(by_type.get("complaint", 0), served)
    return out


def _actions(trace: Trace) -> Counter:
    return Counter(step.action for step in trace.steps)


# --- the process map -----------------------------------------------------------------------

START, END = "start", "end"
TERMINAL = frozenset({"closed", "cancelled"})

# The flow the seed designs (the flow chart of 服务流程), status by status, per order type. Edges of
# the mined map that are not on it are shown as deviations from the design.
DESIGNED_PATHS: dict[str, tuple[str, ...]] = {
    "repair": ("new", "forwarded", "diagnosing", "awaiting_dispatch", "dispatched", "accepted", "assigned",
               "tech_accepted", "scheduled", "in_service", "awaiting_confirmation", "completed", "closed"),
    "consultation": ("new", "forwarded", "diagnosing", "closed"),
    "complaint": ("new", "investigating", "awaiting_confirmation", "completed", "closed"),
    "return_exchange": ("awaiting_approval", "in_service", "completed", "closed"),
}
DESIGNED_EXTRA = frozenset({
    ("new", "closed"),  # a consultation answered at once
    ("diagnosing", "closed"),  # solved by phone
    ("tech_accepted", "in_service"),  # carried in or mailed: received without an appointment
    ("assigned", "in_service"),
})


def designed_edges() -> frozenset[tuple[str, str]]:
    edges = set(DESIGNED_EXTRA)
    for path in DESIGNED_PATHS.values():
        edges.add((START, path[0]))
        edges.update(zip(path, path[1:]))
        edges.add((path[-1], END))
    return frozenset(edges)


@dataclass
class _Edge:
    count: int = 0
    waits: list[float] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Deviation:
    code: str
    count: int
    examples: tuple[int, ...]


@dataclass(frozen=True)
class ProcessMap:
    nodes: list[dict]
    edges: list[dict]
    deviations: list[Deviation]
    slowest: list[dict]
    orders: int


def _path(trace: Trace) -> list[tuple[str, datetime]]:
    """The statuses the order went through, each with the time it was entered."""
    path: list[tuple[str, datetime]] = []
    for step in trace.steps:
        if not path:
            path.append((step.to_status, step.at))
        elif step.to_status and step.to_status != path[-1][0]:
            path.append((step.to_status, step.at))
    return path


def _deviations(trace: Trace, path: list[tuple[str, datetime]]) -> list[str]:
    codes = []
    statuses = [s for s, _ in path]
    actions = _actions(trace)
    if trace.order_type == "repair" and "dispatched" in statuses and "forwarded" not in statuses:
        codes.append("skipped_hotline")  # dispatched without the hotline technician's diagnosis
    if actions["dispatch"] >= 2:
        codes.append("dispatch_ping_pong")  # rejected and dispatched again
    if actions["tech_decline"]:
        codes.append("technician_declined")
    if actions["customer_reject"]:
        codes.append("complaint_reopened")
    if actions["escalate"] >= 2:
        codes.append("escalated_repeatedly")
    return codes


def process_map(traces: Iterable[Trace], *, examples: int = 5, slowest: int = 5) -> ProcessMap:
    """The directly-follows graph of the real process: statuses as nodes, each observed move as an
    edge with its count and the median / p90 time spent before moving on."""
    edges: dict[tuple[str, str], _Edge] = defaultdict(_Edge)
    entered: Counter = Counter()
    deviations: dict[str, list[int]] = defaultdict(list)
    orders = 0
    for trace in traces:
        path = _path(trace)
        if not path:
            continue
        orders += 1
        edges[(START, path[0][0])].count += 1
        for (a, at_a), (b, at_b) in zip(path, path[1:]):
            edge = edges[(a, b)]
            edge.count += 1
            edge.waits.append((at_b - at_a).total_seconds())
        for status, _ in path:
            entered[status] += 1
        if path[-1][0] in TERMINAL:
            edges[(path[-1][0], END)].count += 1
        for code in _deviations(trace, path):
            deviations[code].append(trace.order_id)

    designed = designed_edges()
    edge_rows = []
    for (a, b), edge in sorted(edges.items(), key=lambda kv: -kv[1].count):
        waits = sorted(w / 3600 for w in edge.waits)
        edge_rows.append({
            "source": a, "target": b, "count": edge.count, "designed": (a, b) in designed,
            "median_hours": round(percentile(waits, 0.5), 2) if waits else None,
            "p90_hours": round(percentile(waits, 0.9), 2) if waits else None,
            "mean_hours": round(sum(waits) / len(waits), 2) if waits else None,
        })
    node_rows = [{"status": s, "entered": c} for s, c in entered.most_common()]
    timed = [e for e in edge_rows if e["median_hours"] is not None]
    slow = sorted(timed, key=lambda e: -e["median_hours"])[:slowest]
    devs = [Deviation(code, len(ids), tuple(sorted(ids)[:examples]))
            for code, ids in sorted(deviations.items(), key=lambda kv: -len(kv[1]))]
    return ProcessMap(node_rows, edge_rows, devs, slow, orders)



SPANS_BY_NAME = {span.name: span for span in SPANS}


def drill(traces: Iterable[Trace], measure: str) -> list[tuple[Trace, float | None]]:
    """The orders behind one figure, each with its own value (in the measure's unit), slowest first.

    For a duration: the orders that reached its end; for ``intake`` (or ``intake_<type>``): every
    order counted."""
    span = SPANS_BY_NAME.get(measure.removesuffix("_attainment"))
    if span is not None:
        per = UNIT_SECONDS[span.unit]
        rows = [(t, round(s / per, 2)) for t in traces if not span.order_types or t.order_type in span.order_types
                if (s := span_seconds(t, span)) is not None]
        return sorted(rows, key=lambda row: -row[1])
    if measure.startswith("move:"):
        # A hop of the process map ("move:<a>><b>"): the orders that made it, each with the hours it
        # waited in <a> before moving (the longest, if it moved so more than once).
        a, _sep, b = measure.removeprefix("move:").partition(">")
        rows = []
        for t in traces:
            path = _path(t)
            waits = [(at_b - at_a).total_seconds() / 3600 for (x, at_a), (y, at_b) in zip(path, path[1:])
                     if x == a and y == b]
            if waits:
                rows.append((t, round(max(waits), 2)))
        return sorted(rows, key=lambda row: -row[1])
    if measure in DRILLABLE_RATES:
        # A rate: the orders of its base, each with 1 (counted) or 0, the counted ones first.
        rows = [(t, c[1]) for t in traces if (c := contributions(t).get(measure)) is not None and c[0]]
        return sorted(rows, key=lambda row: -row[1])
    if measure == "intake":
        return [(t, None) for t in traces]
    if measure.startswith("intake_"):
        wanted = measure.removeprefix("intake_")
        return [(t, None) for t in traces if t.order_type == wanted]
    raise KeyError(measure)


DRILLABLE_RATES = ("first_time_fix_rate", "phone_resolution_rate", "escalation_rate", "compliance_30wd_rate",
                   "repeat_repair_30_rate", "repeat_repair_90_rate")
DRILLABLE = ("intake", *(s.name for s in SPANS), *DRILLABLE_RATES)


# --- additive sums: what the daily aggregates hold ---------------------------------------------
#
# Each order contributes {key: (n, total)} to the aggregate rows of its creation day; sums of these
# pairs are exact, so the aggregates of any set of days and groups equal the recomputation from the
# raw events (what tests/stats/test_aggregates.py proves). Medians and p90 are not additive: figures
# read from the aggregates give the mean only (`median`/`p90` None). Keys:
#   intake, intake_<type>   (1, 1)
#   <span>                  (1, seconds) once the order reached the span's end
#   handoff_attainment      (1, 1 if within the target else 0), and so for every targeted span
#   <rate>                  (1 if in the rate's base, 1 if counted)
#   rating, low_rating_rate (number of scores, sum of scores / number of low scores)
#   s:<status>              (1, 0) the order entered the status (process-map nodes)
#   e:<a>><b>               (moves, seconds waited in a) (process-map edges)
#   d:<code>                (1, 0) the order shows the deviation


def contributions(trace: Trace, memo: dict | None = None) -> dict[str, tuple[int, float]]:
    """One order's additive share of every measure and of the process map.

    ``memo`` (a dict the caller keeps, e.g. for a whole rebuild): orders whose timelines have the same
    shape (type, actions, statuses, scores and the seconds between them) share every part of the
    share except the two that depend on the calendar date and the machine's history, so the shape's
    part is computed once."""
    if memo is None:
        out = shape_contributions(trace)
    else:
        t0 = trace.steps[0].at if trace.steps else None
        key = (trace.order_type, tuple((s.action, s.from_status, s.to_status, s.score, (s.at - t0).total_seconds())
                                       for s in trace.steps))
        shape = memo.get(key)
        if shape is None:
            shape = memo[key] = shape_contributions(trace)
        out = dict(shape)
    if trace.order_type in REPAIR:
        compliant = compliance_30wd(trace)
        if compliant is not None:
            out["compliance_30wd_rate"] = (1, compliant)
        for days in REPEAT_WINDOWS:
            out[f"repeat_repair_{days}_rate"] = (1, repeat_repair(trace, days))
    return out


def shape_contributions(trace: Trace) -> dict[str, tuple[int, float]]:
    """The part of ``contributions`` that follows from the timeline alone (not its date)."""
    out: dict[str, tuple[int, float]] = {"intake": (1, 1.0), f"intake_{trace.order_type}": (1, 1.0)}
    for span in SPANS:
        if span.order_types and trace.order_type not in span.order_types:
            continue
        seconds = span_seconds(trace, span)
        if seconds is None:
            continue
        out[span.name] = (1, seconds)
        if span.target_seconds is not None:
            out[f"{span.name}_attainment"] = (1, 1.0 if seconds <= span.target_seconds else 0.0)
    if trace.order_type in REPAIR:
        a = _actions(trace)
        if a["check_out"]:
            out["first_time_fix_rate"] = (1, 1.0 if a["dispatch"] <= 1 and a["check_in"] + a["receive"] <= 1 else 0.0)
        if a["solve_by_phone"] or a["check_out"]:
            out["phone_resolution_rate"] = (1, 1.0 if a["solve_by_phone"] else 0.0)
        out["escalation_rate"] = (1, 1.0 if a["escalate"] else 0.0)
    scores = [s.score for s in trace.steps if s.action == "rate" and s.score is not None]
    if scores:
        out["rating"] = (len(scores), float(sum(scores)))
        out["low_rating_rate"] = (len(scores), float(sum(1 for s in scores if s <= 2)))
    path = _path(trace)
    if path:
        moves: dict[str, list] = {}
        for key in [f"e:{START}>{path[0][0]}"] + ([f"e:{path[-1][0]}>{END}"] if path[-1][0] in TERMINAL else []):
            moves.setdefault(key, [0, 0.0])[0] += 1
        for (a_, at_a), (b, at_b) in zip(path, path[1:]):
            m = moves.setdefault(f"e:{a_}>{b}", [0, 0.0])
            m[0] += 1
            m[1] += (at_b - at_a).total_seconds()
        out.update({k: (n, t) for k, (n, t) in moves.items()})
        entered = Counter(status for status, _ in path)
        out.update({f"s:{status}": (c, 0.0) for status, c in entered.items()})
        out.update({f"d:{code}": (1, 0.0) for code in _deviations(trace, path)})
    return out


def add_sums(into: dict[str, list], sums: dict, sign: int = 1) -> None:
    """into += sign * sums, pairwise; keys that reach (0, 0) are dropped so a removal leaves no trace."""
    for key, (n, total) in sums.items():
        cur = into.get(key)
        if cur is None:
            cur = into[key] = [0, 0.0]
        cur[0] += sign * n
        cur[1] += sign * total
        if cur[0] == 0 and abs(cur[1]) < 1e-6:
            del into[key]


def merge_sums(into: dict[str, list], sums: dict) -> None:
    """into += sums for sums that only add (reading stored aggregates): add_sums without the check
    for pairs that cancel out, the reader's inner loop (a year network-wide is thousands of rows)."""
    get = into.get
    for key, pair in sums.items():
        cur = get(key)
        if cur is None:
            into[key] = [pair[0], pair[1]]
        else:
            cur[0] += pair[0]
            cur[1] += pair[1]


def figures_from_sums(sums: dict) -> dict[str, Figure]:
    """The measures of kpis() from additive sums: durations and rates as means, medians None."""
    def pair(key):
        n, total = sums.get(key, (0, 0.0))
        return int(n), float(total)

    out: dict[str, Figure] = {}
    n_all, _ = pair("intake")
    out["intake"] = Figure(float(n_all), n_all, "orders")
    for key in sorted(k for k in sums if k.startswith("intake_")):
        n, _ = pair(key)
        if n:
            out[key] = Figure(float(n), n, "orders")
    for span in SPANS:
        n, total = pair(span.name)
        per = UNIT_SECONDS[span.unit]
        out[span.name] = Figure(round(total / per / n, 2) if n else None, n, span.unit)
        if span.target_seconds is not None:
            n, hits = pair(f"{span.name}_attainment")
            out[f"{span.name}_attainment"] = _rate(round(hits), n)
    for rate in ("first_time_fix_rate", "phone_resolution_rate", "escalation_rate", "low_rating_rate",
                 "compliance_30wd_rate", "repeat_repair_30_rate", "repeat_repair_90_rate"):
        n, hits = pair(rate)
        out[rate] = _rate(round(hits), n)
    n, total = pair("rating")
    out["rating"] = Figure(round(total / n, 2) if n else None, n, "score")
    complaints, _ = pair("intake_complaint")
    out["complaint_rate"] = _rate(complaints, n_all - complaints)
    return out


def process_map_from_sums(sums: dict, examples: dict[str, tuple[int, ...]] | None = None, *,
                          slowest: int = 5) -> ProcessMap:
    """The process map from additive sums: counts exact, waiting times as means (median None)."""
    designed = designed_edges()
    edge_rows = []
    for key, (n, total) in sums.items():
        if not key.startswith("e:") or n <= 0:
            continue
        a, b = key[2:].split(">", 1)
        timed = a != START and b != END
        mean = round(total / n / 3600, 2) if timed else None
        edge_rows.append({"source": a, "target": b, "count": int(n), "designed": (a, b) in designed,
                          "median_hours": None, "p90_hours": None, "mean_hours": mean})
    edge_rows.sort(key=lambda e: (-e["count"], e["source"], e["target"]))
    nodes = sorted(({"status": k[2:], "entered": int(n)} for k, (n, _) in sums.items() if k.startswith("s:") and n > 0),
                   key=lambda r: -r["entered"])
    devs = sorted((Deviation(k[2:], int(n), tuple((examples or {}).get(k[2:], ())))
                   for k, (n, _) in sums.items() if k.startswith("d:") and n > 0), key=lambda d: -d.count)
    slow = sorted((e for e in edge_rows if e["mean_hours"] is not None), key=lambda e: -e["mean_hours"])[:slowest]
    orders = int(sum(n for k, (n, _) in sums.items() if k.startswith(f"e:{START}>")))
    return ProcessMap(nodes, edge_rows, devs, slow, orders)
