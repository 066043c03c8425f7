"""How many days the 三包 periods are extended by: the days of warranty repair and of waiting for
parts (令第126号: 修理占用和无维修配件待修的时间不计入三包有效期). Pure, like the engine that calls it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from .facts import PartsWait, RepairRecord


def _extension_days(
    current: Sequence[RepairRecord], waits: Sequence[PartsWait], start: date | None, on: date
) -> tuple[int, tuple[int, tuple[str, ...]]]:
    """(days the periods are extended by, (of them waiting for parts, the requests waited on)).

    The user lost calendar days, so each day counts once: a repair of two components on one order,
    or parts awaited during the repair, are the same days, not twice as many.
    """
    if start is None:
        return 0, (0, ())
    days: set[date] = set()
    outside = 0

    def span(started: date, finished: date | None) -> set[date]:
        # An open repair or wait has cost the user every day up to today. Civil Code counting: the
        # first day is not counted (Art. 201), so a repair finished the same day extends nothing.
        until = min(finished or on, on)
        return {started + timedelta(days=i) for i in range(1, (until - started).days + 1)}

    for r in current:
        if not r.under_warranty or r.kind == "exchange" or r.started < start:
            continue
        days |= span(r.started, r.finished)
        outside += r.days_waiting_parts  # days outside the interval, as the record says
    waited: set[date] = set()
    refs: list[str] = []
    for w in waits:
        if not w.under_warranty or w.started < start:
            continue
        lost = span(w.started, w.finished)
        if lost:
            waited |= lost
            if w.reference:
                refs.append(w.reference)
    days |= waited
    return len(days) + outside, (len(waited), tuple(dict.fromkeys(refs)))
