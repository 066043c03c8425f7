"""Every write of the phone-system app: integrations and extensions, each received call event (one
transaction, idempotent per event id), linking a call to the order taken on it, callbacks done."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from functools import lru_cache
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.calls.models import (
    AgentExtension,
    Call,
    CallbackState,
    CallbackTask,
    CallEvent,
    CallEventKind,
    CallOutcome,
    CallState,
    PhoneSystem,
    SeenSignature,
)
from aftersales.core.errors import DomainError, NotFound, ValidationFailed

TOKEN_PREFIX = "cti_"


class SignatureRefused(DomainError):
    """A call event without a valid token, signature or fresh timestamp, or a replay of one."""

    status = 401
    code = "bad_signature"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature a phone system sends: HMAC-SHA256 over ``timestamp + "." + body``, in hex."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


@transaction.atomic
def phone_system_create(*, name: str, organization_id: int, token: str = "", secret: str = "") -> tuple[PhoneSystem, str, str]:
    """A new integration; its token and secret are returned once (only the token's hash is kept).
    ``token``/``secret`` given: the demo's fixed pair, so `cti simulate --demo` can sign."""
    token = token or TOKEN_PREFIX + secrets.token_urlsafe(24)
    secret = secret or secrets.token_hex(32)
    system = PhoneSystem.objects.create(name=name[:60], organization_id=organization_id, token_hash=_hash(token),
                                        token_prefix=token[:12], secret=secret)
    return system, token, secret


@transaction.atomic
def extension_set(*, user, extension: str) -> AgentExtension:
    """Seat an agent at an extension of their organization (moving whoever sat there before)."""
    extension = extension.strip()
    if not extension or len(extension) > 20 or not extension.isalnum():
        raise ValidationFailed(_("Nothing was saved."), fields={"extension": _("Letters and digits, at most 20.")})
    if user.organization_id is None:
        raise ValidationFailed(_("Nothing was saved."), fields={"user": _("The agent belongs to no organization.")})
    AgentExtension.objects.filter(organization_id=user.organization_id, extension=extension).exclude(user=user).delete()
    row, _created = AgentExtension.objects.update_or_create(
        user=user, defaults={"organization_id": user.organization_id, "extension": extension})
    return row


# Active integrations by token hash, per process: the lookup was a statement and a sixth of an event's
# CPU. Keyed by the token (each token is one organization's). Never trusted alone: every signed event's
# replay guard inserts only while the integration is still active in the same organization
# (_refuse_replay), so a deactivation or a move in the admin takes effect on the next event, in every
# process, without a statement more. Inactive or unknown tokens are not kept (a reactivation works at once).
_SYSTEMS: dict[str, PhoneSystem] = {}
_SYSTEMS_MAX = 256


def systems_forget() -> None:
    """Drop every cached integration (tests; the admin's save)."""
    _SYSTEMS.clear()


def _active_system(token_hash: str) -> PhoneSystem | None:
    system = _SYSTEMS.get(token_hash)
    if system is None:
        system = PhoneSystem.objects.filter(token_hash=token_hash, is_active=True).first()
        if system is not None:
            if len(_SYSTEMS) >= _SYSTEMS_MAX:  # a bound, not an LRU: there are a handful of integrations
                _SYSTEMS.clear()
            _SYSTEMS[token_hash] = system
    return system


def _unknown_token() -> SignatureRefused:
    return SignatureRefused(_("Unknown phone-system token."), fields={"X-CTI-Token": _("Unknown or inactive token.")})


def authenticate(*, token: str, timestamp: str, signature: str, body: bytes, now: datetime | None = None) -> PhoneSystem:
    """The integration that signed this request, or SignatureRefused: unknown token, a timestamp
    outside the window (either side), a wrong signature. The same signed request seen before is
    refused by call_event_record's replay guard, which also re-checks that the integration is active."""
    now = now or timezone.now()
    system = _active_system(_hash(token)) if token else None
    if system is None:
        raise _unknown_token()
    try:
        if not timestamp or len(timestamp) > 20:
            raise ValueError
        sent = float(timestamp)
    except (TypeError, ValueError):
        raise SignatureRefused(_("Bad timestamp."), fields={"X-CTI-Timestamp": _("Unix seconds expected.")}) from None
    # NaN and infinities compare false/huge: both fall outside the window.
    if not abs(now.timestamp() - sent) <= settings.CTI_WINDOW_SECONDS:
        raise SignatureRefused(_("The request is too old or from the future."),
                               fields={"X-CTI-Timestamp": _("Outside the allowed window.")})
    expected = sign(system.secret, timestamp, body)
    given = (signature or "").removeprefix("sha256=")
    if not hmac.compare_digest(expected, given):
        raise SignatureRefused(_("The signature does not match."), fields={"X-CTI-Signature": _("Wrong signature.")})
    return system


# --- one event: the hot path ---------------------------------------------------------------------
# Hand-written SQL from here to call_event_record, and only here: an event is a handful of short
# statements, and building them with the ORM cost more CPU than everything else in the request
# (profile in docs/performance.md, "Phone-system events"). Each statement is one that SQLite (3.35+:
# RETURNING, upsert) and PostgreSQL both run as written; tests/calls/test_events.py runs on both
# databases and pins what they store (times, state, outcome, agent, customer, callback task).


def _insert_once(sql: str, params: list) -> bool:
    """One ``INSERT ... ON CONFLICT DO NOTHING``: True if the row was new. One statement where a
    savepoint, the insert and its release (or a read first) were three."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount == 1


class _SystemChanged(Exception):
    """The cached integration was deactivated, deleted or moved to another organization since this
    process read it."""


def _refuse_replay(system: PhoneSystem, signature: str, now: datetime) -> None:
    """Inside the caller's transaction: the signature is recorded once, and only while the
    integration is active in the organization this process has for it; a second time is a replay."""
    table, systems = SeenSignature._meta.db_table, PhoneSystem._meta.db_table
    # INSERT ... SELECT ... WHERE: SQLite needs the WHERE to read ON CONFLICT as the upsert's.
    if _insert_once(f'INSERT INTO "{table}" ("signature", "at") SELECT %s, %s WHERE EXISTS (SELECT 1 FROM "{systems}" '
                    f'WHERE "id" = %s AND "is_active" = %s AND "organization_id" = %s) '
                    f'ON CONFLICT ("signature") DO NOTHING',
                    [signature.removeprefix("sha256=")[:64], connection.ops.adapt_datetimefield_value(now),
                     system.pk, True, system.organization_id]):
        return
    current = PhoneSystem.objects.filter(pk=system.pk).values_list("is_active", "organization_id").first()
    if current != (True, system.organization_id):
        _SYSTEMS.pop(system.token_hash, None)
        raise _SystemChanged
    raise SignatureRefused(_("This request was already received (replay)."),
                           code="replayed", fields={"X-CTI-Signature": _("Seen before.")})


def signatures_prune(*, now: datetime | None = None) -> int:
    """Signatures older than twice the window can never match a fresh request again."""
    now = now or timezone.now()
    deleted, _rows = SeenSignature.objects.filter(at__lt=now - timedelta(seconds=2 * settings.CTI_WINDOW_SECONDS)).delete()
    return deleted


@lru_cache(maxsize=4096)
def _normalized(raw: str) -> str:
    # Pure, and phonenumbers' parse is the dearest step of a new call: the same callers ring again.
    from aftersales.core.phones import normalize_phone

    try:
        return normalize_phone(raw)
    except ValidationFailed:
        return raw.strip()[:32]


def _callback_clock(started: datetime) -> tuple[datetime, datetime]:
    """Due after CTI_CALLBACK_MINUTES of the service network's working time (the SLA calendar)."""
    from aftersales.sla import engine
    from aftersales.sla.services import current_setup

    seconds = settings.CTI_CALLBACK_MINUTES * 60
    setup = current_setup()
    calendar = engine.WorkCalendar(hours=setup.default_hours, seasons=setup.seasons)
    due = calendar.advance(started, seconds, engine.WORKING) or started + timedelta(seconds=seconds)
    warn = calendar.advance(started, seconds * 0.8, engine.WORKING) or due
    return warn, due


def _apply(call: Call, kind: str, at: datetime, data: dict) -> bool:
    """One event on the call's row (locked). Events may come out of order: each time is kept where
    it belongs and the state and outcome are derived from the times, so order does not matter.
    True when the call moves to the event's extension (its agent is then the one seated there)."""
    seated = False
    if data.get("queue"):
        call.queue = data["queue"][:40]
    if data.get("recording"):
        call.recording = data["recording"][:200]
    if kind == CallEventKind.RINGING:
        call.rang_at = min(call.rang_at, at) if call.rang_at else at
    if kind in (CallEventKind.RINGING, CallEventKind.ANSWERED, CallEventKind.TRANSFERRED) and data.get("extension"):
        if not call.answered_at or kind != CallEventKind.RINGING:
            call.extension = data["extension"][:20]
            seated = True
    if kind == CallEventKind.ANSWERED:
        call.answered_at = min(call.answered_at, at) if call.answered_at else at
        call.rang_at = call.rang_at or at
    if kind == CallEventKind.TRANSFERRED:
        call.transfers += 1
    if kind == CallEventKind.ENDED:
        call.ended_at = max(call.ended_at, at) if call.ended_at else at
        call.rang_at = call.rang_at or at
    if call.ended_at:
        call.state = CallState.ENDED
        call.outcome = CallOutcome.ANSWERED if call.answered_at else CallOutcome.ABANDONED
    elif call.answered_at:
        call.state = CallState.ANSWERED
    else:
        call.state = CallState.RINGING
    return seated


def _sync_callback(call: Call, before: str) -> None:
    """An abandoned call is a callback task; if its answer arrives late, the task is cancelled.
    Decided from the outcome before and after this event (the call's row is locked, and a task
    exists exactly when the call was abandoned once): a call that simply ends costs no statement."""
    if call.outcome == CallOutcome.ABANDONED and before != CallOutcome.ABANDONED:
        warn, due = _callback_clock(call.ended_at)
        CallbackTask.objects.bulk_create([CallbackTask(
            call_id=call.pk, organization_id=call.organization_id, customer_id=call.customer_id, number=call.caller,
            started_at=call.ended_at, warn_at=warn, due_at=due)], ignore_conflicts=True)
    elif call.outcome == CallOutcome.ANSWERED and before == CallOutcome.ABANDONED:
        CallbackTask.objects.filter(call_id=call.pk, state=CallbackState.OPEN).update(state=CallbackState.CANCELLED)


_CALL_COLUMNS = ("id", "customer_id", "caller", "queue", "extension", "agent_id", "rang_at", "answered_at",
                 "ended_at", "transfers", "recording", "state", "outcome")
_TIMES = ("rang_at", "answered_at", "ended_at")


def _aware(value):
    # SQLite hands back naive UTC datetimes (Django's converter for the column type); PostgreSQL aware ones.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt_timezone.utc)
    return value


def _call_locked(system: PhoneSystem, call_id: str) -> Call | None:
    """The call's row, locked for this transaction (FOR UPDATE on PostgreSQL; SQLite's IMMEDIATE
    transaction already holds the database's write lock)."""
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    cols = ", ".join(f'"{c}"' for c in _CALL_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT {cols} FROM "{Call._meta.db_table}" WHERE "system_id" = %s AND "call_id" = %s{lock}',
                       [system.pk, call_id])
        row = cursor.fetchone()
    if row is None:
        return None
    values = dict(zip(_CALL_COLUMNS, row))
    for name in _TIMES:
        values[name] = _aware(values[name])
    return Call(system_id=system.pk, organization_id=system.organization_id, call_id=call_id, **values)


def _call_insert(system: PhoneSystem, call_id: str, caller: str, now: datetime) -> Call | None:
    """The call's row on its first event (None if another request inserted it first: then lock
    that one). The caller's customer is looked up in the same statement (the first by id, as the
    registry's phone lookup answers)."""
    from aftersales.registry.models import CustomerPhone

    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO "{Call._meta.db_table}" ("system_id", "organization_id", "call_id", "caller", "customer_id", '
            f'"queue", "extension", "state", "outcome", "transfers", "recording", "created_at") '
            f'VALUES (%s, %s, %s, %s, (SELECT "customer_id" FROM "{CustomerPhone._meta.db_table}" WHERE "number" = %s '
            f'ORDER BY "id" LIMIT 1), %s, %s, %s, %s, %s, %s, %s) '
            f'ON CONFLICT ("system_id", "call_id") DO NOTHING RETURNING "id", "customer_id"',
            [system.pk, system.organization_id, call_id, caller, caller, "", "", CallState.RINGING, "", 0, "",
             connection.ops.adapt_datetimefield_value(now)])
        row = cursor.fetchone()
    if row is None:
        return None
    return Call(id=row[0], system_id=system.pk, organization_id=system.organization_id, call_id=call_id, caller=caller,
                customer_id=row[1], queue="", extension="", agent_id=None, state=CallState.RINGING, outcome="",
                transfers=0, recording="", created_at=now)


def _call_update(call: Call, *, seated: bool) -> None:
    """The columns an event changes, in one statement; when the call moved to an extension, its
    agent is whoever is seated there now (read in the same statement and handed back)."""
    adapt = connection.ops.adapt_datetimefield_value
    if seated:
        agent_sql = (f'(SELECT "user_id" FROM "{AgentExtension._meta.db_table}" WHERE "organization_id" = %s '
                     f'AND "extension" = %s)')
        agent_params = [call.organization_id, call.extension]
    else:
        agent_sql, agent_params = "%s", [call.agent_id]
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE "{Call._meta.db_table}" SET "queue" = %s, "recording" = %s, "rang_at" = %s, "answered_at" = %s, '
            f'"ended_at" = %s, "extension" = %s, "transfers" = %s, "state" = %s, "outcome" = %s, "agent_id" = {agent_sql} '
            f'WHERE "id" = %s RETURNING "agent_id"',
            [call.queue, call.recording, adapt(call.rang_at), adapt(call.answered_at), adapt(call.ended_at),
             call.extension, call.transfers, call.state, call.outcome, *agent_params, call.pk])
        call.agent_id = cursor.fetchone()[0]


def call_event_record(*, system: PhoneSystem, event: dict, signature: str = "",
                      now: datetime | None = None) -> tuple[Call, bool]:
    """Record one event: (the call, whether this event id was already recorded). One transaction:
    the replay check, the call's row (created on its first event, then locked), the event row
    (unique per phone system and event id) and a callback task when the call was abandoned.

    Six statements for an event on a known call, seven on a new one (sixteen in the first version,
    nine after the first pass): BEGIN, the replay guard (one INSERT that also checks the integration
    is active), the call's locked row (or its INSERT with the customer looked up inside), the event
    row (its uniqueness is the duplicate check), the call's UPDATE (the agent looked up inside),
    COMMIT; a callback task is written only when the outcome turns abandoned or back."""
    now = now or timezone.now()
    try:
        return _record(system, event, signature, now)
    except _SystemChanged:
        # Changed since this process cached it: once more with the token's row as it is now (none
        # active: refused like an unknown token).
        fresh = _active_system(system.token_hash)
        if fresh is None:
            raise _unknown_token() from None
    try:
        return _record(fresh, event, signature, now)
    except _SystemChanged:
        raise _unknown_token() from None


def _record(system: PhoneSystem, event: dict, signature: str, now: datetime) -> tuple[Call, bool]:
    with transaction.atomic():
        if signature:
            _refuse_replay(system, signature, now)
        # The first event of a call creates its row; concurrent events of the same call find it
        # (ON CONFLICT DO NOTHING) and then wait on its lock, so they apply one after another.
        call = _call_locked(system, event["call_id"])
        created = False
        if call is None:
            call = _call_insert(system, event["call_id"], _normalized(event["caller"]), now)
            created = call is not None
            call = call or _call_locked(system, event["call_id"])
        data = {k: event.get(k) for k in ("queue", "extension", "recording") if event.get(k)}
        table, field = CallEvent._meta.db_table, CallEvent._meta.get_field
        if not _insert_once(
                f'INSERT INTO "{table}" ("system_id", "event_id", "call_id", "kind", "at", "received_at", "data") '
                f'VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT ("system_id", "event_id") DO NOTHING',
                [system.pk, event["event_id"], call.pk, event["kind"], field("at").get_db_prep_value(event["at"], connection),
                 connection.ops.adapt_datetimefield_value(now), field("data").get_db_prep_value(data, connection)]):
            # Recorded before (a retry, or the same id raced in from another request and won): it
            # acted, this one does not. A retry naming another call must not leave that call behind.
            first = CallEvent.objects.filter(system=system, event_id=event["event_id"]).select_related("call").first()
            if created:
                transaction.set_rollback(True)
            return (first.call if first else call), True
        before = call.outcome
        seated = _apply(call, event["kind"], event["at"], event)
        _call_update(call, seated=seated)
        _sync_callback(call, before)
    return call, False


@transaction.atomic
def call_link_order(*, agent, order) -> Call | None:
    """The order an agent takes on the call in hand (the newest answered or ringing call at their
    extension in the last hour) is linked to that call, so the order's call log starts with it."""
    since = timezone.now() - timedelta(hours=1)
    call = (Call.objects.select_for_update().filter(agent=agent, order=None, rang_at__gte=since)
            .exclude(outcome=CallOutcome.ABANDONED).order_by("-id").first())
    if call is None:
        return None
    call.order = order
    if call.customer_id is None:
        call.customer_id = order.customer_id
    call.save(update_fields=["order", "customer"])
    return call


@transaction.atomic
def callback_done(*, actor, task_id: int, note: str = "") -> CallbackTask:
    """The agent called the customer back."""
    from aftersales.calls import selectors

    try:
        task = selectors.callback_queryset(actor).select_for_update().get(pk=task_id)
    except CallbackTask.DoesNotExist:
        raise NotFound(_("Callback task not found.")) from None
    if task.state != CallbackState.OPEN:
        from aftersales.core.errors import Conflict

        raise Conflict(_("This callback is already closed."), code="invalid_transition")
    if len(note) > 300:
        raise ValidationFailed(_("Nothing was saved."), fields={"note": _("At most 300 characters.")})
    task.state, task.done_at, task.done_by, task.note = CallbackState.DONE, timezone.now(), actor, note
    task.save(update_fields=["state", "done_at", "done_by", "note"])
    return task
