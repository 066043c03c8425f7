"""Reads where they belong: reports, statistics, search and exports on the streaming replica.

With DATABASE_REPLICA_URL set, settings add a `replica` database and this router. The router
itself knows nothing of requests: ReplicaReadsMiddleware decides per request whether its reads
may go to the replica and says so in a context variable the router reads. Writes always go to the
primary (`default`), and only GET/HEAD requests to the paths in REPLICA_READ_PATHS (or asking for
an export) are routed, never an order page or a queue a user works from.

Two guards keep a user from seeing the past:
- read-your-writes: a successful POST/PUT/PATCH/DELETE answers with the cookie
  `aftersales_primary` (its expiry time); while it holds (REPLICA_STICKY_SECONDS) that browser's
  reads stay on the primary. A cookie, not process memory, so it holds whichever web node the
  load balancer picks next.
- the lag guard: when the replica's last replayed transaction is more than REPLICA_MAX_LAG_SECONDS
  behind (pg_last_xact_replay_timestamp(), zero when it has replayed all it received) or the
  replica does not answer, reads go to the primary. Checked at most once a second per process.
"""

from __future__ import annotations

import contextvars
import logging
import re
import threading
import time

from django.conf import settings
from django.db import connections

logger = logging.getLogger("aftersales.ops.routing")

REPLICA = "replica"
STICKY_COOKIE = "aftersales_primary"
_reads: contextvars.ContextVar[str | None] = contextvars.ContextVar("aftersales_read_db", default=None)

LAG_SQL = """
SELECT CASE
    WHEN NOT pg_is_in_recovery() THEN 0
    WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
    ELSE coalesce(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0)
END
"""


class ReplicaRouter:
    """Reads go where the request's context says (None: the primary); everything else to the primary."""

    def db_for_read(self, model, **hints):
        return _reads.get()

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replica holds the primary's rows: an object read there relates to one here

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db != REPLICA  # the replica replays the primary's schema


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


class _LagCache:
    def __init__(self):
        self.lock = threading.Lock()
        self.checked = 0.0
        self.lag: float | None = None

    def reset(self) -> None:
        with self.lock:
            self.checked, self.lag = 0.0, None


_lag = _LagCache()


def replica_lag(*, fresh: bool = False) -> float | None:
    """Seconds the replica is behind, or None when it does not answer. Cached for
    REPLICA_LAG_CHECK_SECONDS per process."""
    now = time.monotonic()
    with _lag.lock:
        if not fresh and now - _lag.checked < settings.REPLICA_LAG_CHECK_SECONDS:
            return _lag.lag
    try:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute(LAG_SQL)
            lag = float(cursor.fetchone()[0])
    except Exception as exc:  # noqa: BLE001 - a replica that is down means: read the primary
        logger.warning("replica unavailable, reading the primary: %s", exc)
        connections[REPLICA].close()
        lag = None
    with _lag.lock:
        _lag.checked, _lag.lag = time.monotonic(), lag
    return lag


def _routed(request) -> bool:
    if request.method not in ("GET", "HEAD"):
        return False
    if request.GET.get("export") or request.GET.get("format") == "csv":
        return True
    return any(pattern.search(request.path) for pattern in _patterns())


_compiled: tuple[str, list[re.Pattern]] | None = None


def _patterns() -> list[re.Pattern]:
    global _compiled
    source = tuple(settings.REPLICA_READ_PATHS)
    if _compiled is None or _compiled[0] != source:
        _compiled = (source, [re.compile(p) for p in source])
    return _compiled[1]


def decide(request) -> tuple[str | None, str]:
    """(alias for this request's reads or None, why) — the why labels a metric."""
    if not _routed(request):
        return None, "not_routed"
    try:
        until = float(request.COOKIES.get(STICKY_COOKIE, "0"))
    except ValueError:
        until = 0.0
    if until > time.time():
        return None, "sticky"
    lag = replica_lag()
    if lag is None:
        return None, "replica_down"
    if lag > settings.REPLICA_MAX_LAG_SECONDS:
        return None, "lagging"
    return REPLICA, "replica"


class ReplicaReadsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not replica_configured():
            return self.get_response(request)
        from aftersales.ops.metrics import REPLICA_READS

        alias, why = decide(request)
        if why != "not_routed":
            REPLICA_READS.labels("replica" if alias else "primary", why).inc()
        token = _reads.set(alias)
        try:
            response = self.get_response(request)
        finally:
            _reads.reset(token)
        response["X-Aftersales-Read-Db"] = alias or "default"
        if request.method not in ("GET", "HEAD", "OPTIONS") and response.status_code < 400:
            seconds = settings.REPLICA_STICKY_SECONDS
            response.set_cookie(STICKY_COOKIE, str(int(time.time() + seconds) + 1), max_age=seconds, httponly=True,
                                samesite="Lax", secure=settings.SESSION_COOKIE_SECURE)
        return response
