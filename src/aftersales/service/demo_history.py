"""A year of demo history. The demo makes every order through the real services, so all its events
happen within a few seconds of "now"; a service manager would not believe that. This module moves
each scenario's orders to a believable time and spaces their steps as people take them:

- finished orders over the past twelve months, more in the harvests (夏收 in June, 秋收 in
  September and October) and the spring ploughing, few in winter; open orders in the last hours
  or days, because an order is not left open for months;
- calls received in working hours (08:00–18:00) and some in the evening (until 21:30), never at night;
- the handoffs minutes apart, the dispatch within the hour or two, the appointment in the daytime
  (08:00–17:30), the check-in at the appointment, the rating call the next day;
- the promised time after the received time; the order number from the day it was received.

Times are drawn from the generator the caller passes, so the same seed gives the same history
(relative to the day the demo is loaded). Nothing here decides a state: the orders' statuses,
events and records are the services' own; only their times move, and the SLA clocks and the
search index are then brought up to date through the order-changed hooks."""

from __future__ import annotations

import bisect
import random
from datetime import date, datetime, time, timedelta

from django.db import models
from django.utils import timezone

from aftersales.service import hooks
from aftersales.service.models import (
    OPEN_STATUSES,
    Attachment,
    Escalation,
    OrderEvent,
    OrderNumberSequence,
    Quote,
    Rating,
    ReturnRequest,
    ServiceOrder,
    ServiceRecord,
)

# 夏收 (June) and 秋收 (September, October) are the peaks; 春耕 (March, April) a smaller one.
MONTH_WEIGHT = {1: 0.45, 2: 0.4, 3: 1.0, 4: 1.3, 5: 1.4, 6: 2.8, 7: 1.3, 8: 1.0, 9: 2.3, 10: 2.7, 11: 1.1, 12: 0.5}
HISTORY_DAYS = 365
WORKDAY = (8 * 60, 18 * 60)  # minutes of the day when the hotline takes most calls
EVENING = (18 * 60, 21 * 60 + 30)
EVENING_SHARE = 0.2
APPOINTMENTS = (8 * 60, 17 * 60 + 30)
# Minutes from the previous step to this one (lowest, highest).
GAP = {
    "forward": (3, 14), "callback": (5, 40), "diagnose": (5, 30), "confirm_mode": (2, 20), "answer": (2, 15),
    "solve_by_phone": (10, 40), "dispatch": (10, 90), "accept": (5, 60), "reject": (10, 60), "assign": (2, 30),
    "tech_accept": (5, 40), "quote": (10, 60), "quote_accept": (30, 240), "schedule": (5, 30),
    "record_service": (60, 180), "check_out": (5, 30), "confirm": (2, 15), "escalate": (20, 120),
    "answer_escalation": (30, 240), "cancel": (30, 600), "investigate": (30, 240), "resolve": (240, 2880),
    "customer_accept": (120, 1440), "approve_return": (240, 2880), "reject_return": (240, 2880),
    "complete_exchange": (1440, 4320), "record_refund": (1440, 4320),
}
DEFAULT_GAP = (5, 60)
# The rows of an order whose times are the times of its steps.
CHILDREN = (ServiceRecord, Escalation, Rating, Quote, ReturnRequest, Attachment)
INSTANT_FIELDS = ("forwarded_at", "callback_at", "dispatched_at", "completed_at", "closed_at", "confirmed_at")


def _at(day: date, minutes: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, time()) + timedelta(minutes=minutes))


class History:
    def __init__(self, rng: random.Random, *, now: datetime) -> None:
        self.rng, self.now = rng, now
        today = timezone.localdate(now)
        self.today = today
        self.days = [today - timedelta(days=d) for d in range(3, HISTORY_DAYS)]
        self.weights = [MONTH_WEIGHT[d.month] for d in self.days]
        self.first_id: int | None = None

    # --- when --------------------------------------------------------------------------------

    def received_on(self, day: date) -> datetime:
        window = EVENING if self.rng.random() < EVENING_SHARE else WORKDAY
        return _at(day, self.rng.randint(window[0], window[1] - 1))

    def history_day(self) -> date:
        return self.rng.choices(self.days, self.weights)[0]

    def recent_start(self) -> datetime:
        """An open order: received in the last hours, now and then a day or two ago."""
        t = self.now - timedelta(hours=self.rng.expovariate(1 / 5))
        local = timezone.localtime(t)
        minutes = local.hour * 60 + local.minute
        if WORKDAY[0] <= minutes < EVENING[1]:
            return t
        # At night the hotline is quiet: the call came in the evening before.
        day = local.date() if minutes >= EVENING[1] else local.date() - timedelta(days=1)
        return _at(day, self.rng.randint(19 * 60, EVENING[1] - 1))

    def daytime_after(self, t: datetime) -> datetime:
        """The first half-hour slot of the working day at or after ``t``."""
        local = timezone.localtime(t)
        minutes = local.hour * 60 + local.minute
        day = local.date()
        if minutes > APPOINTMENTS[1]:
            day, minutes = day + timedelta(days=1), APPOINTMENTS[0] + 30 * self.rng.randint(0, 4)
        elif minutes < APPOINTMENTS[0]:
            minutes = APPOINTMENTS[0] + 30 * self.rng.randint(0, 4)
        else:
            minutes = min(APPOINTMENTS[1], -(-minutes // 30) * 30)
        return _at(day, minutes)

    def appointment_after(self, t: datetime) -> datetime:
        """A half-hour slot in the working day, at least an hour ahead: today if there is time, else
        on one of the next two days."""
        earliest = timezone.localtime(t + timedelta(hours=1))
        day = earliest.date()
        first = max(APPOINTMENTS[0], -(-(earliest.hour * 60 + earliest.minute) // 30) * 30)
        if first > APPOINTMENTS[1] or self.rng.random() < 0.5:
            day += timedelta(days=self.rng.randint(1, 2))
            first = APPOINTMENTS[0]
        return _at(day, first + 30 * self.rng.randint(0, (APPOINTMENTS[1] - first) // 30))

    def steps(self, events: list[OrderEvent], start: datetime) -> tuple[list[datetime], datetime | None]:
        """New times of the events (the first at ``start``) and the appointment, if one was made."""
        rng, t, out, appointment = self.rng, start, [start], None
        for event in events[1:]:
            action = event.action
            if action == "schedule":
                t += timedelta(minutes=rng.randint(*GAP["schedule"]))
                appointment = self.appointment_after(t)
            elif action == "check_in":
                t = max(t + timedelta(minutes=1), (appointment or t) + timedelta(minutes=rng.randint(-10, 25)))
            elif action == "receive":  # the machine arrives at the workshop by lorry or courier
                t = self.daytime_after(t + timedelta(hours=rng.randint(20, 60)))
            elif action == "rate":  # the information coordinator's call-back, the next working day
                t = self.daytime_after(t + timedelta(hours=rng.randint(14, 30)))
            else:
                t += timedelta(minutes=rng.randint(*GAP.get(action, DEFAULT_GAP)))
            out.append(t)
        return out, appointment

    # --- placing a scenario ------------------------------------------------------------------

    def place(self, orders: list[ServiceOrder]) -> None:
        """Move the orders one scenario made (in the order they were made) to their new times."""
        if self.first_id is None:
            self.first_id = orders[0].pk
        recent = orders[-1].status in OPEN_STATUSES
        previous = None  # (old times, new times) of the previous order of the scenario
        for i, order in enumerate(orders):
            events = list(order.events.order_by("seq"))
            old = [e.at for e in events]
            if previous and order.created_at <= previous[0][-1] + timedelta(seconds=1):
                # Made by a step of the previous order (a low rating opens a complaint).
                start = _remap(previous, order.created_at)
            elif previous:
                day = timezone.localdate(previous[1][-1]) + timedelta(days=self.rng.randint(1, 4))
                start = self.received_on(min(day, self.today))
            elif recent and len(orders) == 1:
                start = self.recent_start()
            elif recent:  # an open complaint about an order of the last weeks
                start = self.received_on(self.today - timedelta(days=self.rng.randint(5, 25)))
            else:
                start = self.received_on(self.history_day())
            new, appointment = self.steps(events, start)
            # Nothing has happened after now (an appointment may still be ahead).
            while new[-1] > self.now - timedelta(minutes=1):
                new = [t - timedelta(days=1) for t in new]
                appointment = appointment - timedelta(days=1) if appointment else None
            self._apply(order, events, old, new, appointment)
            previous = (old, new)

    def _apply(self, order: ServiceOrder, events, old, new, appointment) -> None:
        for event, at in zip(events, new):
            event.at = at
        OrderEvent.objects.bulk_update(events, ["at"])
        fields = {"created_at": new[0], "updated_at": new[-1]}
        for name in INSTANT_FIELDS:
            if getattr(order, name):
                fields[name] = _nearest(old, new, getattr(order, name))
        if order.appointment_at and appointment:
            fields["appointment_at"] = appointment
        if order.promised_at:
            if order.appointment_at and order.promised_at == order.appointment_at and appointment:
                fields["promised_at"] = appointment  # scheduling promises the appointment
            else:
                # Promised at intake or at dispatch: the same distance after that step.
                step = next((i for i, e in reversed(list(enumerate(events))) if e.action == "dispatch"), 0)
                fields["promised_at"] = new[step] + (order.promised_at - old[step])
        ServiceOrder.objects.filter(pk=order.pk).update(**fields)
        for model in CHILDREN:
            names = [f.name for f in model._meta.concrete_fields if isinstance(f, models.DateTimeField)]
            for row in model.objects.filter(order_id=order.pk).values("pk", *names):
                moved = {n: _nearest(old, new, row[n]) for n in names if row[n]}
                if moved:
                    model.objects.filter(pk=row["pk"]).update(**moved)

    def finish(self) -> None:
        """Number the orders by the day they were received, in the order received, and let the
        SLA clocks and the search index see the new times (the order-changed hooks)."""
        if self.first_id is None:
            return
        orders = list(ServiceOrder.objects.filter(pk__gte=self.first_id).select_related("customer").order_by("created_at", "pk"))
        # Two passes: a final number may still be held by another order of this run.
        for order in orders:
            ServiceOrder.objects.filter(pk=order.pk).update(number=f"DEMO{order.pk}")
        counters: dict[date, int] = {}
        for order in orders:
            day = timezone.localdate(order.created_at)
            counters[day] = counters.get(day, 0) + 1
            order.number = f"FW{day:%Y%m%d}-{counters[day]:05d}"
            ServiceOrder.objects.filter(pk=order.pk).update(number=order.number)
        # The demo loads into an empty database: these days' counters are exactly the demo's.
        OrderNumberSequence.objects.filter(day__in=[self.today]).delete()
        OrderNumberSequence.objects.bulk_create(
            [OrderNumberSequence(day=day, last=n) for day, n in counters.items()],
            update_conflicts=True, unique_fields=["day"], update_fields=["last"],
        )
        for order in orders:
            hooks.order_changed(order, [])


def _nearest(old: list[datetime], new: list[datetime], value: datetime) -> datetime:
    """A time set by one of the steps (a few microseconds from its event): that step's new time."""
    i = bisect.bisect_left(old, value)
    candidates = [j for j in (i - 1, i) if 0 <= j < len(old)]
    j = min(candidates, key=lambda k: abs(old[k] - value))
    return new[j] + (value - old[j]) if abs(value - old[j]) > timedelta(minutes=1) else new[j]


def _remap(previous, value: datetime) -> datetime:
    old, new = previous
    return _nearest(old, new, value)
