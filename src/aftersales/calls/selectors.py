"""Every read of calls and callbacks, scoped to the user (another organization's call is a 404)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, QuerySet
from django.utils import timezone

from aftersales.calls import policies
from aftersales.calls.models import Call, CallbackState, CallbackTask, CallOutcome, CallState
from aftersales.core.errors import NotFound

POP_WINDOW = timedelta(minutes=10)


def call_queryset(user) -> QuerySet[Call]:
    scope = policies.organization_filter(user)
    if scope is None:
        return Call.objects.none()
    return Call.objects.filter(**scope)


def callback_queryset(user) -> QuerySet[CallbackTask]:
    scope = policies.organization_filter(user)
    if scope is None:
        return CallbackTask.objects.none()
    return CallbackTask.objects.filter(**scope)


def call_log(user, *, customer_id: int | None = None, order=None, limit: int = 50) -> list[Call]:
    """The calls of a customer, or of an order: the call it was taken on and the customer's calls since."""
    qs = call_queryset(user).select_related("agent", "order")
    if order is not None:
        qs = qs.filter(Q(order=order) | Q(customer_id=order.customer_id, rang_at__gte=order.created_at))
    elif customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    return list(qs.order_by("-rang_at", "-id")[:limit])


def ringing_for(user, *, after: int = 0) -> Call | None:
    """The newest call ringing (or just answered) at this agent's extension that the desk has not
    shown yet (id above ``after``)."""
    since = timezone.now() - POP_WINDOW
    return (Call.objects.filter(agent=user, state__in=[CallState.RINGING, CallState.ANSWERED], pk__gt=after, order=None,
                                created_at__gte=since)
            .select_related("customer").order_by("-id").first())


CALL_REFERENCE_WINDOW = timedelta(hours=2)


def caller_of_my_call(user, call_pk) -> str | None:
    """The number of a call that rang at this agent's extension in the last two hours, for the
    new-customer form's call reference: the page carries the call's id and shows the masked number
    (the phone rule), the saved customer gets the real one. Anyone else's call: None."""
    if not str(call_pk).isdigit() or not user.is_authenticated:
        return None
    return (Call.objects.filter(pk=int(call_pk), agent=user, created_at__gte=timezone.now() - CALL_REFERENCE_WINDOW)
            .values_list("caller", flat=True).first())


def agent_figures(user, *, start: datetime, end: datetime) -> list[dict]:
    """Per agent, calls in [start, end): answered, average rings-to-answer and talk time (seconds),
    answered after the three-rings limit. One grouped query."""
    ring = ExpressionWrapper(F("answered_at") - F("rang_at"), output_field=DurationField())
    talk = ExpressionWrapper(F("ended_at") - F("answered_at"), output_field=DurationField())
    late_after = timedelta(seconds=settings.CTI_THREE_RINGS_SECONDS)
    rows = (call_queryset(user).filter(rang_at__gte=start, rang_at__lt=end, agent__isnull=False,
                                       answered_at__isnull=False)
            .annotate(ring=ring, talk=talk)
            .values("agent_id", "agent__username", "agent__display_name", "extension")
            .annotate(answered=Count("id"), ring_avg=Avg("ring"), talk_avg=Avg("talk", filter=Q(ended_at__isnull=False)),
                      late=Count("id", filter=Q(ring__gt=late_after)))
            .order_by("agent__username"))
    result = []
    for r in rows:
        result.append({"agent_id": r["agent_id"], "agent": r["agent__display_name"] or r["agent__username"],
                       "extension": r["extension"], "answered": r["answered"], "late": r["late"],
                       "ring_seconds": _seconds(r["ring_avg"]), "talk_seconds": _seconds(r["talk_avg"])})
    return result


def _seconds(value) -> float | None:
    if value is None:
        return None
    if isinstance(value, timedelta):
        return round(value.total_seconds(), 1)
    return round(float(value) / 1_000_000, 1)  # SQLite averages durations as microseconds


def late_calls(user, *, start: datetime, end: datetime, limit: int = 50) -> list[Call]:
    late_after = timedelta(seconds=settings.CTI_THREE_RINGS_SECONDS)
    return list(call_queryset(user).filter(rang_at__gte=start, rang_at__lt=end, answered_at__isnull=False)
                .annotate(ring=ExpressionWrapper(F("answered_at") - F("rang_at"), output_field=DurationField()))
                .filter(ring__gt=late_after).select_related("agent", "customer").order_by("-rang_at")[:limit])


def abandoned_calls(user, *, start: datetime, end: datetime, limit: int = 50) -> list[Call]:
    return list(call_queryset(user).filter(rang_at__gte=start, rang_at__lt=end, outcome=CallOutcome.ABANDONED)
                .select_related("customer", "callback").order_by("-rang_at")[:limit])


def open_callbacks(user, *, limit: int = 100) -> list[CallbackTask]:
    return list(callback_queryset(user).filter(state=CallbackState.OPEN).select_related("customer", "call")
                .order_by("due_at")[:limit])


def callback_get(user, *, pk: int) -> CallbackTask:
    try:
        return callback_queryset(user).select_related("customer", "call").get(pk=pk)
    except CallbackTask.DoesNotExist:
        raise NotFound("Callback task not found.") from None
