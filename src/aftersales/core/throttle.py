"""The shared throttle: counters in the database, so every process and every node counts together.

Why the database and not the cache: the default cache is Django's per-process LocMem, so a limit of
10 became 10 × workers and was forgotten on every restart (issue 12, M5); a database row works the
same on SQLite and PostgreSQL and needs no extra service. A hit is one short write transaction.

The API (keys are free-form strings; build them with ``key()`` so they stay short and readable)::

    from aftersales.core import throttle

    throttle.hit(throttle.key("lookup", user.pk), limit=30, window=60)      # counts, raises Throttled
    throttle.check(k, limit=10, window=900)      # raises Throttled if k is already at its limit
    throttle.record(k, window=900)               # counts one (e.g. a failure) without raising
    throttle.reset(k)                            # forget k (e.g. after a success)

Lockouts with growing delays (the login throttle uses these)::

    throttle.locked(k)                           # seconds k is still locked for, 0 if free
    throttle.fail(k, free=5, base=60, cap=3600, forget=900)  # a failure; locks after `free`, doubling

Client addresses: ``client_ip(request)`` is the real client behind ``settings.TRUSTED_PROXIES``
reverse proxies (AFTERSALES_TRUSTED_PROXIES, default 0: REMOTE_ADDR). Key on it, never on
REMOTE_ADDR directly: behind a proxy REMOTE_ADDR is the proxy, and one client would lock out all.

Call these outside a transaction that may roll back (a view, the login backend): a rolled-back
hit is not counted.
"""

from __future__ import annotations

import hashlib
import ipaddress
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.core.errors import Throttled
from aftersales.core.models import ThrottleCounter

MAX_KEY = 200
# Rows untouched for this long are deleted when a new key is first counted.
KEEP = timedelta(days=2)


def key(scope: str, *parts: object) -> str:
    """``scope:part|part``, e.g. ``login:agent|203.0.113.9``; a key over 200 characters keeps its
    readable start and ends with a hash of the whole, so two long keys never collide."""
    text = f"{scope}:" + "|".join(str(p).lower() for p in parts)
    if len(text) <= MAX_KEY:
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[:32]
    return text[: MAX_KEY - 33] + "#" + digest


def client_ip(request) -> str:
    """The client's address as the outermost of ``settings.TRUSTED_PROXIES`` proxies saw it.

    Each trusted proxy appends the address it received the request from to X-Forwarded-For, so
    with N proxies the client is the N-th entry from the right; whatever the client itself put
    further left is not trusted. Without enough entries (the request bypassed a proxy) or with a
    malformed entry, REMOTE_ADDR is used."""
    if request is None:
        return ""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    trusted = settings.TRUSTED_PROXIES
    if trusted <= 0:
        return remote
    entries = [e.strip() for e in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if e.strip()]
    if len(entries) < trusted:
        return remote
    candidate = entries[-trusted]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


def _retry_message(seconds: int) -> str:
    minutes = max(1, -(-seconds // 60))
    return _("Too many attempts. Please try again in %(minutes)d minutes.") % {"minutes": minutes}


def _row(k: str, now) -> tuple[ThrottleCounter, bool]:
    """The counter of ``k``, locked for this transaction (created at zero if new)."""
    row = ThrottleCounter.objects.select_for_update().filter(key=k).first()
    if row is not None:
        return row, False
    try:
        with transaction.atomic():
            return ThrottleCounter.objects.create(key=k, count=0, window_start=now, last_at=now), True
    except IntegrityError:  # another process created it a moment ago
        return ThrottleCounter.objects.select_for_update().get(key=k), False


def _count(k: str, window: int) -> ThrottleCounter:
    now = timezone.now()
    with transaction.atomic():
        row, created = _row(k, now)
        if row.window_start + timedelta(seconds=window) <= now:
            row.count, row.window_start = 0, now
        row.count += 1
        row.last_at = now
        row.save(update_fields=["count", "window_start", "last_at"])
        if created:
            ThrottleCounter.objects.filter(last_at__lt=now - KEEP).exclude(locked_until__gt=now).delete()
    return row


def _retry_after(row: ThrottleCounter, window: int) -> int:
    left = row.window_start + timedelta(seconds=window) - timezone.now()
    return max(1, int(left.total_seconds()) + 1)


def record(k: str, *, window: int) -> int:
    """Count one hit of ``k`` in its window (which starts at its first hit); returns the count."""
    return _count(k, window).count


def hit(k: str, *, limit: int, window: int) -> None:
    """Count one hit of ``k``; raise ``Throttled`` (429, with retry_after) once more than ``limit``
    hits fell in the current ``window`` seconds."""
    row = _count(k, window)
    if row.count > limit:
        seconds = _retry_after(row, window)
        raise Throttled(_retry_message(seconds), retry_after=seconds)


def check(k: str, *, limit: int, window: int) -> None:
    """Raise ``Throttled`` if ``k`` already has ``limit`` hits in its current window; counts nothing.
    With ``record`` after a failure this limits failures only (a tracking look-up, a code)."""
    row = ThrottleCounter.objects.filter(key=k).first()
    if row is None or row.window_start + timedelta(seconds=window) <= timezone.now():
        return
    if row.count >= limit:
        seconds = _retry_after(row, window)
        raise Throttled(_retry_message(seconds), retry_after=seconds)


def reset(k: str) -> None:
    ThrottleCounter.objects.filter(key=k).delete()


def clear(prefix: str, *, suffix: str = "") -> int:
    """Delete every counter and lockout whose key starts with ``prefix`` (and ends with ``suffix``):
    the administrators' `aftersales unlock` and admin action. Returns how many were cleared."""
    rows = ThrottleCounter.objects.filter(key__startswith=prefix)
    if suffix:
        rows = rows.filter(key__endswith=suffix)
    return rows.delete()[0]


# --- lockouts with growing delays -------------------------------------------------------------

def locked(k: str) -> int:
    """Seconds ``k`` is still locked out for; 0 when it is free."""
    row = ThrottleCounter.objects.filter(key=k).only("locked_until").first()
    if row is None or row.locked_until is None:
        return 0
    left = (row.locked_until - timezone.now()).total_seconds()
    return max(0, int(left) + 1) if left > 0 else 0


def fail(k: str, *, free: int, base: int, cap: int, forget: int) -> int:
    """Count a failure of ``k``. The ``free``-th failure locks ``k`` for ``base`` seconds and each
    further one for twice as long as the one before, at most ``cap``. Failures are forgotten after
    ``forget`` seconds without one (counted from the end of the last lockout). Returns the seconds
    ``k`` is now locked for (0 if not)."""
    now = timezone.now()
    with transaction.atomic():
        row, _created = _row(k, now)
        quiet_since = max(row.last_at, row.locked_until or row.last_at)
        if row.count and quiet_since + timedelta(seconds=forget) <= now:
            row.count, row.window_start, row.locked_until = 0, now, None
        row.count += 1
        row.last_at = now
        seconds = 0
        if row.count >= free:
            seconds = min(cap, base * 2 ** (row.count - free))
            row.locked_until = now + timedelta(seconds=seconds)
        row.save(update_fields=["count", "window_start", "last_at", "locked_until"])
    return seconds
