"""What /healthz reports: the database answers, the SLA sweeps run, the outbox is being delivered.

A site whose worker died still answers pages, but its clocks stop escalating and its SMS stop going
out; a health check that only pinged the database said "ok" through that (issue 12, M4). Here the
check fails (503) when the last successful sweep is older than HEALTH_SWEEP_STALE_SECONDS or a due
message has waited longer than HEALTH_OUTBOX_LAG_SECONDS, so a load balancer or monitor sees it.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Max, Min, Q
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from aftersales.notify.models import DELIVERABLE, OutboxMessage, OutboxStatus

# A process that has never seen a sweep counts from its own start: a fresh install or a restarted
# server is not "stale" before a worker has had the time to sweep once.
_STARTED = timezone.now()


def _seconds(delta: timedelta) -> int:
    return max(0, int(delta.total_seconds()))


def health() -> tuple[bool, dict]:
    """(healthy, report). The report names no customer data: counts and ages only."""
    from aftersales.sla.tasks import sweep_clocks

    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    last_sweep = (DBTaskResult.objects.filter(task_path=sweep_clocks.module_path,
                                              status=TaskResultStatus.SUCCESSFUL)
                  .aggregate(last=Max("finished_at"))["last"])
    since = last_sweep or _STARTED
    sweep_age = _seconds(now - since)
    sweep_ok = sweep_age <= settings.HEALTH_SWEEP_STALE_SECONDS

    due = Q(status__in=DELIVERABLE, available_at__lte=now) | Q(status=OutboxStatus.SENDING, claimed_until__lt=now)
    oldest_due = OutboxMessage.objects.filter(due).aggregate(oldest=Min("available_at"))["oldest"]
    lag = _seconds(now - oldest_due) if oldest_due else 0
    outbox_ok = lag <= settings.HEALTH_OUTBOX_LAG_SECONDS

    healthy = sweep_ok and outbox_ok
    report = {
        "status": "ok" if healthy else "stale",
        "database": "ok",
        "sla_sweep": {"last": last_sweep.isoformat() if last_sweep else None, "age_seconds": sweep_age,
                      "ok": sweep_ok},
        "outbox": {"lag_seconds": lag, "ok": outbox_ok},
    }
    return healthy, report
