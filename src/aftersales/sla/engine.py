"""The SLA engine: an order's events + the SLA rules + a working calendar -> the order's clocks.

Pure Python (no ORM, no "now"): the same events always give the same clocks, so a clock can be
recomputed after a policy change and audited against the timeline. ``sla.services`` feeds it from
the database and stores the result for the sweeper.

A clock is a stopwatch over the order's status: it runs while the order is in one of its stage's
statuses and no pause (waiting for the customer, parts, weather) is open, and it counts working
time, calendar time or statutory working days as its rule says. Leaving the stage stops it (met or
breached); coming back (a re-dispatch after a rejection, a reopened order) continues it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from aftersales.core.calendar import is_working_day, statutory_holidays

SHANGHAI = ZoneInfo("Asia/Shanghai")

CALENDAR = "calendar"  # wall-clock time
WORKING = "working"  # the organization's working hours on working days (every day in busy season)
WORKING_DAYS = "working_days"  # whole statutory working days (the 30-working-day repair ceiling)

PAUSE, RESUME = "pause_clock", "resume_clock"
CANCELLED = "cancelled"
# Statuses are the service app's codes; repeated here so the engine imports no Django models.
_BEFORE_FIXED = frozenset({"new", "forwarded", "diagnosing", "awaiting_dispatch", "dispatched", "accepted", "assigned",
                           "tech_accepted", "scheduled", "in_service", "escalated"})
STAGES: dict[str, frozenset[str]] = {
    "handoff": frozenset({"new"}),  # 信息传递: to a hotline technician
    "callback": frozenset({"forwarded"}),  # the hotline technician calls the customer back
    "dispatch_accept": frozenset({"awaiting_dispatch", "dispatched"}),  # dispatched and accepted
    "on_site": frozenset({"awaiting_dispatch", "dispatched", "accepted", "assigned", "tech_accepted", "scheduled"}),
    "fixed": _BEFORE_FIXED,
    "repair_ceiling": _BEFORE_FIXED,  # 三包: repaired within 30 working days
    "complaint_response": frozenset({"new"}),  # first response to a complaint
}


def province_in(province: str, names: Iterable[str]) -> bool:
    """Short names match full ones: '新疆' covers '新疆维吾尔自治区'. No names: every province."""
    names = [n for n in names if n]
    return not names or any(province.startswith(n) or (province and n.startswith(province)) for n in names)


@dataclass(frozen=True)
class Hours:
    """An organization's working hours. ``busy_every_day``: in busy season it serves 7 days a week,
    holidays included (farmers do not stop for a holiday during harvest)."""

    start: time = time(8)
    end: time = time(18)
    weekends: bool = False
    holidays: bool = False
    busy_every_day: bool = True


@dataclass(frozen=True)
class Season:
    """A busy-season (农忙) window, e.g. wheat harvest 05-20..06-10 in Henan and Anhui."""

    name: str
    start: str  # MM-DD, inclusive
    end: str  # MM-DD, inclusive; before start means the window crosses the new year
    provinces: tuple[str, ...] = ()
    crop: str = ""

    def covers(self, day: date, province: str, crop: str) -> bool:
        if self.crop and self.crop != crop:
            return False
        if not province_in(province, self.provinces):
            return False
        md = day.strftime("%m-%d")
        if self.start <= self.end:
            return self.start <= md <= self.end
        return md >= self.start or md <= self.end


@dataclass(frozen=True)
class WorkCalendar:
    hours: Hours = Hours()
    seasons: tuple[Season, ...] = ()
    province: str = ""
    crop: str = ""
    tz: ZoneInfo = SHANGHAI

    def is_busy(self, day: date) -> bool:
        return any(s.covers(day, self.province, self.crop) for s in self.seasons)

    def works(self, day: date) -> bool:
        if self.hours.busy_every_day and self.is_busy(day):
            return True
        if is_working_day(day):
            return True
        if day in statutory_holidays():
            return self.hours.holidays
        return self.hours.weekends

    def windows(self, day: date, basis: str) -> list[tuple[datetime, datetime]]:
        if basis == WORKING_DAYS:
            if not is_working_day(day):
                return []
            return [(datetime.combine(day, time.min, self.tz), datetime.combine(day + timedelta(days=1), time.min, self.tz))]
        if not self.works(day) or self.hours.end <= self.hours.start:
            return []
        return [(datetime.combine(day, self.hours.start, self.tz), datetime.combine(day, self.hours.end, self.tz))]

    def _whole_day(self, day: date, basis: str) -> float:
        # A clock of an order that waits for months counts every day in between: each day's total
        # is remembered on the calendar (the SLA setup keeps its calendars for the process).
        cache = self.__dict__.get("_whole_days")
        if cache is None:
            cache = {}
            object.__setattr__(self, "_whole_days", cache)  # frozen dataclass: a private memo
        seconds = cache.get((day, basis))
        if seconds is None:
            seconds = cache[(day, basis)] = sum((we - ws).total_seconds() for ws, we in self.windows(day, basis))
        return seconds

    def _part_of_day(self, day: date, a: datetime, b: datetime, basis: str) -> float:
        total = 0.0
        for ws, we in self.windows(day, basis):
            s, e = max(ws, a), min(we, b)
            if e > s:
                total += (e - s).total_seconds()
        return total

    def counted(self, a: datetime, b: datetime, basis: str) -> float:
        """Seconds of counted time in [a, b)."""
        if b <= a:
            return 0.0
        if basis == CALENDAR:
            return (b - a).total_seconds()
        first, last = a.astimezone(self.tz).date(), b.astimezone(self.tz).date()
        if first == last:
            return self._part_of_day(first, a, b, basis)
        total = self._part_of_day(first, a, b, basis) + self._part_of_day(last, a, b, basis)
        day = first + timedelta(days=1)
        while day < last:
            total += self._whole_day(day, basis)
            day += timedelta(days=1)
        return total

    def advance(self, t: datetime, seconds: float, basis: str, horizon_days: int = 800) -> datetime | None:
        """The moment ``seconds`` of counted time after ``t``; None if the calendar never works."""
        if basis == CALENDAR or seconds <= 0:
            return t + timedelta(seconds=max(seconds, 0))
        day = t.astimezone(self.tz).date()
        for _ in range(horizon_days):
            for ws, we in self.windows(day, basis):
                s = max(ws, t)
                if s >= we:
                    continue
                available = (we - s).total_seconds()
                if available >= seconds:
                    return s + timedelta(seconds=seconds)
                seconds -= available
            day += timedelta(days=1)
        return None


@dataclass(frozen=True)
class Rule:
    """One SLA target of a policy and the orders it applies to (empty tuples: any)."""

    id: int
    target: str
    seconds: float
    basis: str
    order_types: tuple[str, ...] = ()
    service_levels: tuple[str, ...] = ()
    service_modes: tuple[str, ...] = ()
    provinces: tuple[str, ...] = ()
    season: str = "any"  # any | busy | normal
    warranty_only: bool = False

    def matches(self, facts: Facts, busy: bool) -> bool:
        return ((not self.order_types or facts.order_type in self.order_types)
                and (not self.service_levels or facts.service_level in self.service_levels)
                and (not self.service_modes or facts.service_mode in self.service_modes)
                and province_in(facts.province, self.provinces)
                and (self.season == "any" or (self.season == "busy") == busy)
                and (not self.warranty_only or facts.under_warranty))

    @property
    def specificity(self) -> int:
        return (sum(bool(x) for x in (self.order_types, self.service_levels, self.service_modes, self.provinces))
                + (self.season != "any") + self.warranty_only)


def choose(rules: Iterable[Rule], target: str, facts: Facts, busy: bool) -> Rule | None:
    """The most specific matching rule of a target (ties: the older rule)."""
    matching = [r for r in rules if r.target == target and r.matches(facts, busy)]
    return max(matching, key=lambda r: (r.specificity, -r.id), default=None)


@dataclass(frozen=True)
class Facts:
    order_type: str
    service_level: str = ""
    service_mode: str = ""
    province: str = ""
    crop: str = ""
    under_warranty: bool = False


@dataclass(frozen=True)
class Ev:
    seq: int
    at: datetime
    action: str
    to_status: str = ""
    actor_id: int | None = None
    actor_org_id: int | None = None
    data: dict = field(default_factory=dict)


@dataclass
class Clock:
    target: str
    rule_id: int
    target_seconds: float
    basis: str
    started_at: datetime
    due_at: datetime | None = None
    warn_at: datetime | None = None
    stopped_at: datetime | None = None
    state: str = "running"  # running | paused | met | breached | cancelled
    outcome: str = ""  # met | breached, once known
    counted_seconds: float = 0.0
    pauses: list[dict] = field(default_factory=list)
    hops: list[dict] = field(default_factory=list)
    holder_org_id: int | None = None
    holder_user_id: int | None = None
    holder_pool: str = ""  # a role pool of holder_org while no person has taken the hop


@dataclass(frozen=True)
class _Seg:
    start: datetime
    end: datetime | None
    status: str
    paused: str
    org_id: int | None
    user_id: int | None
    pool: str = ""


# Role pools (岗位池): a hop that belongs to a role, not to a person, is held by the organization's
# members of that role until one of them takes it (the seed: the information coordinators forward a
# call within 15 minutes, whoever of them is free). The codes are the accounts app's role codes;
# ``ACCEPTANCE`` is an organization's answer to a dispatch, given by its repair coordinators (站长)
# or, where it has none, by its field technicians (``sla.services.POOL_ROLES``).
INFORMATION_COORDINATORS = "information_coordinator"
HOTLINE_TECHNICIANS = "hotline_technician"
REPAIR_COORDINATORS = "repair_coordinator"
ACCEPTANCE = "acceptance"
SUPERVISORS = "supervisor"
POOLS = (INFORMATION_COORDINATORS, HOTLINE_TECHNICIANS, REPAIR_COORDINATORS, ACCEPTANCE, SUPERVISORS)

Holder = tuple  # (organization id, person id or None, pool code or "")


def _holder(e: Ev, holder: Holder, dispatcher: Holder, people: dict[int, int | None]) -> tuple[Holder, Holder]:
    """Who holds the order after the event: (organization, person, pool). A person None with a pool
    is the pool's queue in that organization; with no pool, the organization's queue."""
    d = e.data or {}
    if e.action == "create":
        if d.get("order_type") == "complaint":  # 投诉: the supervisors respond
            return (e.actor_org_id, None, SUPERVISORS), dispatcher
        if d.get("order_type") in ("repair", "consultation"):  # 信息传递: the information coordinators forward
            return (e.actor_org_id, None, INFORMATION_COORDINATORS), dispatcher
        return (e.actor_org_id, e.actor_id, ""), dispatcher
    if e.action in ("callback", "diagnose", "accept", "investigate", "resolve"):
        return (e.actor_org_id, e.actor_id, ""), dispatcher
    if e.action == "forward":
        uid = d.get("hotline_technician_id")
        if uid:
            return (people.get(uid, e.actor_org_id), uid, ""), dispatcher
        return (e.actor_org_id, None, HOTLINE_TECHNICIANS), dispatcher
    if e.action == "confirm_mode":
        return (e.actor_org_id, None, REPAIR_COORDINATORS), dispatcher  # the repair coordinators' queue
    if e.action == "dispatch":
        tech = d.get("technician_id")
        return (d.get("organization_id"), tech, "" if tech else ACCEPTANCE), (e.actor_org_id, None, REPAIR_COORDINATORS)
    if e.action == "reject":
        return dispatcher, dispatcher  # back to the dispatching organization's repair coordinators
    if e.action == "assign":
        return (holder[0], d.get("technician_id"), ""), dispatcher
    if e.action == "tech_decline":
        return (holder[0], None, ACCEPTANCE), dispatcher
    return holder, dispatcher


def timeline(events: Sequence[Ev], people: dict[int, int | None]) -> list[_Seg]:
    segs: list[_Seg] = []
    status, paused = "", ""
    holder = dispatcher = (None, None, "")
    ordered = sorted(events, key=lambda e: e.seq)
    for i, e in enumerate(ordered):
        status = e.to_status or status
        if e.action == PAUSE:
            paused = (e.data or {}).get("reason") or "other"
        elif e.action == RESUME:
            paused = ""
        holder, dispatcher = _holder(e, holder, dispatcher, people)
        end = ordered[i + 1].at if i + 1 < len(ordered) else None
        segs.append(_Seg(e.at, end, status, paused, holder[0], holder[1], holder[2]))
    return segs


def _hop(hops: list[dict], seg: _Seg, seconds: float | None) -> None:
    last = hops[-1] if hops else None
    if (last and last["org_id"] == seg.org_id and last["user_id"] == seg.user_id and last.get("pool", "") == seg.pool
            and last["to"] == seg.start.isoformat()):
        last["to"] = seg.end.isoformat() if seg.end else None
        last["seconds"] = None if seconds is None or last["seconds"] is None else last["seconds"] + seconds
        return
    hops.append({"org_id": seg.org_id, "user_id": seg.user_id, "pool": seg.pool, "from": seg.start.isoformat(),
                 "to": seg.end.isoformat() if seg.end else None, "seconds": seconds})


def derive_clocks(
    events: Sequence[Ev], facts: Facts, rules: Sequence[Rule], calendar_for: Callable[[int | None], WorkCalendar],
    people: dict[int, int | None] | None = None,
) -> list[Clock]:
    """Every clock the order has, from its whole history (never from "now")."""
    segs = timeline(events, people or {})
    clocks = []
    for target, running in STAGES.items():
        first = next((i for i, s in enumerate(segs) if s.status in running), None)
        if first is None:
            continue
        mine = segs[first:]
        # The calendar of the organization answerable for the stage now (the last one that held it).
        held = [s for s in mine if s.status in running]
        cal = calendar_for(held[-1].org_id)
        started = mine[0].start
        rule = choose(rules, target, facts, cal.is_busy(started.astimezone(cal.tz).date()))
        if rule is None:
            continue
        clocks.append(_run(target, rule, mine, running, cal))
    return clocks


def _run(target: str, rule: Rule, segs: list[_Seg], running: frozenset[str], cal: WorkCalendar) -> Clock:
    clock = Clock(target=target, rule_id=rule.id, target_seconds=rule.seconds, basis=rule.basis, started_at=segs[0].start)
    warn_seconds = rule.seconds * 0.8
    counted = 0.0
    last_end = segs[0].start
    for seg in segs:
        if seg.status not in running:
            continue
        if seg.paused:
            clock.pauses.append({"reason": seg.paused, "from": seg.start.isoformat(),
                                 "to": seg.end.isoformat() if seg.end else None})
            continue
        if seg.end is None:
            # Running now: project the due and warning times forward from the start of this span.
            if clock.due_at is None:
                clock.due_at = cal.advance(seg.start, rule.seconds - counted, rule.basis)
            if clock.warn_at is None:
                clock.warn_at = cal.advance(seg.start, warn_seconds - counted, rule.basis)
            _hop(clock.hops, seg, None)
            break
        c = cal.counted(seg.start, seg.end, rule.basis)
        if clock.due_at is None and counted + c >= rule.seconds:
            clock.due_at = cal.advance(seg.start, rule.seconds - counted, rule.basis)
        if clock.warn_at is None and counted + c >= warn_seconds:
            clock.warn_at = cal.advance(seg.start, warn_seconds - counted, rule.basis)
        counted += c
        last_end = seg.end
        _hop(clock.hops, seg, c)
    clock.counted_seconds = counted
    final = segs[-1]
    # Answerable for the stage: whoever held the order last while the clock counted (a stopped
    # clock's breach belongs to the hop that let it run out, not to whoever holds the order now).
    answerable = next((s for s in reversed(segs) if s.status in running), final)
    clock.holder_org_id, clock.holder_user_id, clock.holder_pool = answerable.org_id, answerable.user_id, answerable.pool
    if final.status in running:
        clock.state = "paused" if final.paused else "running"
        if clock.state == "paused" and counted > rule.seconds:
            clock.outcome = "breached"
        return clock
    # Stopped: the clock left its stage (and may come back if the order is reopened).
    clock.stopped_at = final.start
    breached = counted > rule.seconds
    if clock.due_at is None:
        clock.due_at = cal.advance(last_end, rule.seconds - counted, rule.basis)
    if clock.warn_at is None and counted < warn_seconds:
        clock.warn_at = cal.advance(last_end, warn_seconds - counted, rule.basis)
    clock.outcome = "breached" if breached else ("" if final.status == CANCELLED else "met")
    clock.state = CANCELLED if final.status == CANCELLED else clock.outcome
    return clock
