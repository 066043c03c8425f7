"""/readyz: the checks a load balancer or orchestrator runs before sending a node traffic.

/healthz (core.health) says whether the site as a whole is healthy (sweeps recent, outbox
flowing). /readyz adds what several nodes need: the database answers *from this node*, at least
one worker process has reported within READY_WORKER_STALE_SECONDS (its heartbeat, not only the
last sweep), and the outbox lag. The replica is reported but never makes a node unready: reads fall
back to the primary when it is down or behind.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection

from aftersales.ops import routing, selectors


def readiness(*, node_only: bool = False) -> tuple[bool, dict]:
    """node_only (the load balancer's check, /readyz?scope=node): only that this node reaches the
    database; a worker outage must not take every web node out of the pool at once."""
    report: dict = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        report["database"] = {"ok": True}
    except Exception as exc:  # noqa: BLE001 - the answer is the report, not a 500
        report["database"] = {"ok": False, "error": type(exc).__name__}
        report["status"] = "unready"
        return False, report
    if node_only:
        report["status"] = "ready"
        return True, report
    workers = selectors.live_workers()
    report["workers"] = {"alive": workers, "ok": workers > 0,
                         "stale_after_seconds": settings.READY_WORKER_STALE_SECONDS}
    lag = selectors.outbox()["oldest_due_age"]
    report["outbox"] = {"lag_seconds": int(lag), "ok": lag <= settings.HEALTH_OUTBOX_LAG_SECONDS}
    if routing.replica_configured():
        replica_lag = routing.replica_lag(fresh=True)
        report["replica"] = {"lag_seconds": replica_lag, "used": replica_lag is not None
                             and replica_lag <= settings.REPLICA_MAX_LAG_SECONDS}
    ready = report["workers"]["ok"] and report["outbox"]["ok"]
    report["status"] = "ready" if ready else "unready"
    return ready, report
