"""Demo clocks: some open demo orders are moved back in time so that the demo shows promises at
risk (warning) and broken (breach, long enough ago for every escalation level). The shift is found
with the pure engine, so the demo works whatever the hour, weekday or holiday it is loaded on."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from django.db.models import F
from django.utils import timezone

from aftersales.service.models import OrderEvent, ServiceOrder
from aftersales.sla import engine
from aftersales.sla.models import ClockState, SlaClock
from aftersales.sla.services import Setup, clocks_sync, order_events, order_facts

# Candidate shifts in minutes: fine steps first, so a warning lands between 80 % and 100 %.
SHIFTS = [*range(5, 60, 5), *range(60, 24 * 60, 15), *range(24 * 60, 15 * 24 * 60, 60)]
ESCALATED_AFTER = timedelta(hours=2, minutes=30)
ORDER_TIMES = ("created_at", "updated_at", "forwarded_at", "callback_at", "dispatched_at", "completed_at", "closed_at",
               "confirmed_at", "promised_at")


def _fits(clock: engine.Clock, want: str, now) -> bool:
    if clock.state != "running" or clock.due_at is None or clock.warn_at is None:
        return False
    if want == "warning":
        return clock.warn_at <= now < clock.due_at
    return clock.due_at <= now - ESCALATED_AFTER


def _received_in_hours(at) -> bool:
    # The demo's calls come in working hours and evenings (service/demo_history.py): a shift must
    # not move one into the night.
    local = timezone.localtime(at)
    return 8 * 60 <= local.hour * 60 + local.minute < 21 * 60 + 30


def _forward_shifts(events, clocks, target: str, now) -> list[timedelta]:
    """Negative shifts (later in time) that would put ``now`` inside the target clock's warning
    window: the demo's open orders come with a year of history behind them and their clocks are
    mostly past due already; an order made a little more recent shows a promise at risk. Never
    later than now: the last event stays in the past."""
    room = now - max(e.at for e in events)
    out = []
    for c in clocks:
        if c.target != target or c.state != "running" or c.warn_at is None or c.due_at is None:
            continue
        for share in (0.5, 0.25, 0.75):
            later = now - (c.warn_at + (c.due_at - c.warn_at) * share)
            if timedelta(0) < later <= room:
                out.append(-later)
    return out


def _shift_for(order, setup: Setup, target: str, want: str, now) -> timedelta | None:
    events, facts = order_events(order), order_facts(order)
    calendar = setup.calendar_for(order)
    candidates = [timedelta(minutes=m) for m in SHIFTS]
    if want == "warning":
        candidates = _forward_shifts(events, engine.derive_clocks(events, facts, setup.rules, calendar), target, now) + candidates
    for shift in candidates:
        # Received in hours, on the day its number says.
        moved_at = order.created_at - shift
        if not _received_in_hours(moved_at) or timezone.localdate(moved_at) != timezone.localdate(order.created_at):
            continue
        moved = [replace(e, at=e.at - shift) for e in events]
        clocks = engine.derive_clocks(moved, facts, setup.rules, calendar)
        if any(c.target == target and _fits(c, want, now) for c in clocks):
            return shift
    return None


def build(stdout, *, per_kind: int = 6) -> dict[str, int]:
    now, setup = timezone.now(), Setup()
    running = (SlaClock.objects.filter(state=ClockState.RUNNING).exclude(target="repair_ceiling")
               .select_related("order", "order__customer").order_by("order_id", "id"))
    made = {"warning": 0, "breach": 0}
    done: set[int] = set()
    for clock in running:
        if clock.order_id in done:
            continue
        for want in ("warning", "breach"):
            if made[want] >= per_kind:
                continue
            shift = _shift_for(clock.order, setup, clock.target, want, now)
            if shift is None:
                continue
            # The whole order moves: its steps and the times they set. An appointment is a time agreed
            # with the farmer in the daytime and stays (and with it a promise made by scheduling).
            OrderEvent.objects.filter(order_id=clock.order_id).update(at=F("at") - shift)
            old = clock.order
            times = {name: getattr(old, name) - shift for name in ORDER_TIMES if getattr(old, name)}
            if old.promised_at and old.promised_at == old.appointment_at:
                times.pop("promised_at")
            ServiceOrder.objects.filter(pk=clock.order_id).update(**times)
            order = ServiceOrder.objects.select_related("customer").get(pk=clock.order_id)
            clocks_sync(order, setup=setup, now=now)
            done.add(clock.order_id)
            made[want] += 1
            break
        if min(made.values()) >= per_kind:
            break
    stdout.write(f"SLA clocks: {SlaClock.objects.count()} ({made['warning']} orders moved into warning, "
                 f"{made['breach']} into breach; `aftersales worker --once` notifies and escalates)")
    return made
