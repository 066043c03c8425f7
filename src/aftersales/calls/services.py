"""Every write of the phone-system app: integrations and extensions, each received call event (one
transaction, idempotent per event id), linking a call to the order taken on it, callbacks done."""

from __future__ import annotations

import hashlib
import hmac
import secrets
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


def authenticate(*, token: str, timestamp: str, signature: str, body: bytes, now: datetime | None = None) -> PhoneSystem:
    """The integration that signed this request, or SignatureRefused: unknown token, a timestamp
    outside the window (either side), a wrong signature, or the same signed request seen before."""
    now = now or timezone.now()
    system = PhoneSystem.objects.filter(token_hash=_hash(token or ""), is_active=True).first() if token else None
    if system is None:
        raise SignatureRefused(_("Unknown phone-system token."), fields={"X-CTI-Token": _("Unknown or inactive token.")})
    try:
        if not timestamp or len(timestamp) > 20:
            raise ValueError
        sent = datetime.fromtimestamp(float(timestamp), tz=dt_timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        raise SignatureRefused(_("Bad timestamp."), fields={"X-CTI-Timestamp": _("Unix seconds expected.")})
    if sent != sent:  # NaN
        raise SignatureRefused(_("Bad timestamp."), fields={"X-CTI-Timestamp": _("Unix seconds expected.")}) from None
    if abs((now - sent).total_seconds()) > settings.CTI_WINDOW_SECONDS:
        raise SignatureRefused(_("The request is too old or from the future."),
                               fields={"X-CTI-Timestamp": _("Outside the allowed window.")})
    expected = sign(system.secret, timestamp, body)
    given = (signature or "").removeprefix("sha256=")
    if not hmac.compare_digest(expected, given):
        raise SignatureRefused(_("The signature does not match."), fields={"X-CTI-Signature": _("Wrong signature.")})
    return system


def _insert_once(sql: str, params: list) -> bool:
    """One ``INSERT ... ON CONFLICT DO NOTHING`` (SQLite and PostgreSQL alike): True if the row was
    new. One statement where a savepoint, the insert and its release (or a read first) were three:
    the event endpoint's write transaction is what bounds its throughput (docs/performance.md)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount == 1


def _refuse_replay(signature: str, now: datetime) -> None:
    """Inside the caller's transaction: the signature is recorded once; a second time is a replay."""
    table, at = SeenSignature._meta.db_table, SeenSignature._meta.get_field("at").get_db_prep_value(now, connection)
    if not _insert_once(f'INSERT INTO "{table}" ("signature", "at") VALUES (%s, %s) ON CONFLICT ("signature") DO NOTHING',
                        [signature.removeprefix("sha256=")[:64], at]):
        raise SignatureRefused(_("This request was already received (replay)."),
                               code="replayed", fields={"X-CTI-Signature": _("Seen before.")})


def signatures_prune(*, now: datetime | None = None) -> int:
    """Signatures older than twice the window can never match a fresh request again."""
    now = now or timezone.now()
    deleted, _rows = SeenSignature.objects.filter(at__lt=now - timedelta(seconds=2 * settings.CTI_WINDOW_SECONDS)).delete()
    return deleted


def _customer_id_for(number: str) -> int | None:
    from aftersales.registry.models import CustomerPhone

    return CustomerPhone.objects.filter(number=number).values_list("customer_id", flat=True).first()


def _normalized(raw: str) -> str:
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


def _apply(call: Call, kind: str, at: datetime, data: dict, agent_id: int | None) -> None:
    """One event on the call's row (locked). Events may come out of order: each time is kept where
    it belongs and the state and outcome are derived from the times, so order does not matter."""
    if data.get("queue"):
        call.queue = data["queue"][:40]
    if data.get("recording"):
        call.recording = data["recording"][:200]
    if kind == CallEventKind.RINGING:
        call.rang_at = min(call.rang_at, at) if call.rang_at else at
    if kind in (CallEventKind.RINGING, CallEventKind.ANSWERED, CallEventKind.TRANSFERRED) and data.get("extension"):
        if not call.answered_at or kind != CallEventKind.RINGING:
            call.extension = data["extension"][:20]
            call.agent_id = agent_id
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


def _sync_callback(call: Call) -> None:
    """An abandoned call is a callback task; if its answer arrives late, the task is cancelled."""
    if not call.outcome:  # neither abandoned nor answered-and-ended yet: no task to make or cancel
        return
    task = CallbackTask.objects.filter(call=call).first()
    if call.outcome == CallOutcome.ABANDONED and task is None:
        warn, due = _callback_clock(call.ended_at)
        CallbackTask.objects.create(call=call, organization_id=call.organization_id, customer=call.customer,
                                    number=call.caller, started_at=call.ended_at, warn_at=warn, due_at=due)
    elif call.outcome == CallOutcome.ANSWERED and task is not None and task.state == CallbackState.OPEN:
        task.state = CallbackState.CANCELLED
        task.save(update_fields=["state"])


# The columns an event can change (a save of these only: the row's other columns stay as they are).
_EVENT_FIELDS = ["queue", "recording", "rang_at", "answered_at", "ended_at", "extension", "agent", "transfers",
                 "state", "outcome"]


def call_event_record(*, system: PhoneSystem, event: dict, signature: str = "",
                      now: datetime | None = None) -> tuple[Call, bool]:
    """Record one event: (the call, whether this event id was already recorded). One transaction:
    the replay check, the call's row (created on its first event, then locked), the event row
    (unique per phone system and event id) and a callback task when the call was abandoned.

    About nine statements an event (sixteen before): the replay guard and the event row are each one
    ``INSERT ... ON CONFLICT DO NOTHING`` (the event's uniqueness is the duplicate check, no read
    first), the agent is read as an id, the callback task only once the call has ended."""
    now = now or timezone.now()
    with transaction.atomic():
        if signature:
            _refuse_replay(signature, now)
        # The first event of a call creates its row; concurrent events of the same call find it
        # (ON CONFLICT DO NOTHING) and then wait on its lock, so they apply one after another.
        call = Call.objects.select_for_update().filter(system=system, call_id=event["call_id"]).first()
        created = call is None
        if created:
            caller = _normalized(event["caller"])
            Call.objects.bulk_create([Call(system=system, organization_id=system.organization_id,
                                           call_id=event["call_id"], caller=caller, customer_id=_customer_id_for(caller))],
                                     ignore_conflicts=True)
            call = Call.objects.select_for_update().get(system=system, call_id=event["call_id"])
        data = {k: event.get(k) for k in ("queue", "extension", "recording") if event.get(k)}
        table, field = CallEvent._meta.db_table, CallEvent._meta.get_field
        if not _insert_once(
                f'INSERT INTO "{table}" ("system_id", "event_id", "call_id", "kind", "at", "received_at", "data") '
                f'VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT ("system_id", "event_id") DO NOTHING',
                [system.pk, event["event_id"], call.pk, event["kind"], field("at").get_db_prep_value(event["at"], connection),
                 field("received_at").get_db_prep_value(now, connection), field("data").get_db_prep_value(data, connection)]):
            # Recorded before (a retry, or the same id raced in from another request and won): it
            # acted, this one does not. A retry naming another call must not leave that call behind.
            first = CallEvent.objects.filter(system=system, event_id=event["event_id"]).select_related("call").first()
            if created:
                transaction.set_rollback(True)
            return (first.call if first else call), True
        agent_id = None
        if event.get("extension"):
            agent_id = (AgentExtension.objects.filter(organization_id=system.organization_id, extension=event["extension"])
                        .values_list("user_id", flat=True).first())
        _apply(call, event["kind"], event["at"], event, agent_id)
        call.save(update_fields=_EVENT_FIELDS)
        _sync_callback(call)
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
