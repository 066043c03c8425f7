"""What the metrics and /readyz read: counts and ages only, never customer data. Operators' reads,
not a user's: nothing here is scoped to an organization, and nothing here is shown to a user."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import connections
from django.db.models import Count, Min, Q
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from aftersales.notify.models import DELIVERABLE, OutboxMessage, OutboxStatus
from aftersales.ops.models import WorkerHeartbeat
from aftersales.service.models import ServiceOrder
from aftersales.sla.models import ClockState, SlaClock


def orders_by_status() -> dict[str, int]:
    return dict(ServiceOrder.objects.order_by().values_list("status").annotate(n=Count("id")))


def sla_clocks() -> dict[str, int]:
    """running (on time), at_risk (past the warning, not yet due), breached (running past due, or
    closed as breached), paused."""
    now = timezone.now()
    running = Q(state=ClockState.RUNNING)
    return SlaClock.objects.aggregate(
        running=Count("id", filter=running & (Q(warn_at__isnull=True) | Q(warn_at__gt=now)) & (Q(due_at__isnull=True) | Q(due_at__gt=now))),
        at_risk=Count("id", filter=running & Q(warn_at__lte=now, due_at__gt=now)),
        breached=Count("id", filter=(running & Q(due_at__lte=now)) | Q(state=ClockState.BREACHED)),
        paused=Count("id", filter=Q(state=ClockState.PAUSED)),
    )


def outbox() -> dict[str, float]:
    """Messages waiting (due or not), being sent, dead; the age of the oldest due one."""
    now = timezone.now()
    due = Q(status__in=DELIVERABLE, available_at__lte=now) | Q(status=OutboxStatus.SENDING, claimed_until__lt=now)
    counts = dict(OutboxMessage.objects.filter(~Q(status=OutboxStatus.SENT)).order_by()
                  .values_list("status").annotate(n=Count("id")))
    oldest = OutboxMessage.objects.filter(due).aggregate(oldest=Min("available_at"))["oldest"]
    return {"counts": counts, "oldest_due_age": max(0.0, (now - oldest).total_seconds()) if oldest else 0.0}


def task_queue() -> dict[str, int]:
    """Queued task rows by state (READY waiting, RUNNING in hand)."""
    return dict(DBTaskResult.objects.filter(status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING])
                .order_by().values_list("status").annotate(n=Count("id")))


def worker_heartbeats() -> list[WorkerHeartbeat]:
    return list(WorkerHeartbeat.objects.filter(stopped=False).order_by("worker_id"))


def live_workers(*, within: timedelta | None = None) -> int:
    within = within or timedelta(seconds=settings.READY_WORKER_STALE_SECONDS)
    return WorkerHeartbeat.objects.filter(stopped=False, seen_at__gte=timezone.now() - within).count()


def database_connections(alias: str = "default") -> dict[str, int] | None:
    """PostgreSQL's view of this database's connections by state, and its max_connections; None on
    SQLite (one file, no server connections to count)."""
    connection = connections[alias]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(state, 'unknown'), count(*) FROM pg_stat_activity "
                       "WHERE datname = current_database() GROUP BY 1")
        states = {state: n for state, n in cursor.fetchall()}
        cursor.execute("SELECT setting::int FROM pg_settings WHERE name = 'max_connections'")
        states["max_connections"] = cursor.fetchone()[0]
    return states
