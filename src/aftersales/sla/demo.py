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


def _shift_for(order, setup: Setup, target: str, want: str, now) -> timedelta | None:
    events, facts = order_events(order), order_facts(order)
    for minutes in SHIFTS:
        if not _received_in_hours(order.created_at - timedelta(minutes=minutes)):
            continue
        moved = [replace(e, at=e.at - timedelta(minutes=minutes)) for e in events]
        clocks = engine.derive_clocks(moved, facts, setup.rules, setup.calendar_for(order))
        if any(c.target == target and _fits(c, want, now) for c in clocks):
            return timedelta(minutes=minutes)
    return None


def build(stdout, *, per_kind: int = 6) -> dict[str, int]:
    now, setup = timezone.now(), Setup()
    running = (SlaClock.objects.filter(state=ClockState.RUNNING).exclude(target="repair_ceiling")
               .select_related("order", "order__customer").order_by("order_id", "id"))
    made = {"warning": 0, "breach": 0}
    done: set[int] = set()
    for clock in running:
        want = "warning" if made["warning"] < per_kind else "breach"
        if made[want] >= per_kind or clock.order_id in done:
            continue
        shift = _shift_for(clock.order, setup, clock.target, want, now)
        if shift is None:
            continue
        OrderEvent.objects.filter(order_id=clock.order_id).update(at=F("at") - shift)
        ServiceOrder.objects.filter(pk=clock.order_id).update(created_at=F("created_at") - shift)
        order = ServiceOrder.objects.select_related("customer").get(pk=clock.order_id)
        clocks_sync(order, setup=setup, now=now)
        done.add(clock.order_id)
        made[want] += 1
        if made["breach"] >= per_kind:
            break
    stdout.write(f"SLA clocks: {SlaClock.objects.count()} ({made['warning']} orders moved into warning, "
                 f"{made['breach']} into breach; `aftersales worker --once` notifies and escalates)")
    return made
