"""The outbox: side effects are written next to the change (same transaction) and delivered after
commit by the worker, with retries and exponential backoff, so nothing owed is lost or sent twice
by two workers."""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from aftersales.core import config
from aftersales.core.phones import mask_phone
from aftersales.notify.gateways import MESSAGE_ID_HEADER, post_json, sms_gateway
from aftersales.notify.models import DELIVERABLE, Channel, OutboxMessage, OutboxStatus, WebhookSubscriber
from aftersales.notify.templates import render
from aftersales.ops.context import reset_request_id, set_request_id

logger = logging.getLogger("aftersales.notify")

# Context keys never sent to outside systems: the confirmation code belongs to the customer's phone.
_PRIVATE_KEYS = frozenset({"code"})
# Set by the worker on SIGTERM/SIGINT: the delivery loop finishes the message in flight, releases the
# rest of its claim at once (for the next worker) and returns.
STOPPING = threading.Event()


def claim_lease() -> timedelta:
    """How long a claim holds without a heartbeat: a dead worker's messages wait at most this."""
    return timedelta(seconds=settings.NOTIFY_CLAIM_SECONDS)


def _require_transaction() -> None:
    if not transaction.get_connection().in_atomic_block:
        # Outside a transaction the message could be written for a change that then fails.
        raise RuntimeError("outbox_enqueue must run inside the transaction of its change")


def outbox_enqueue(
    *, channel: str, recipient: str, template: str, context: dict | None = None, order=None,
    available_at: datetime | None = None, webhooks: bool = True,
) -> OutboxMessage:
    """Queue one message. Call it inside the transaction of the change it reports. With
    ``webhooks`` the event also goes to every webhook subscriber that wants it."""
    if channel not in Channel.values:
        raise ValueError(f"unknown channel {channel!r}")
    _require_transaction()
    message = OutboxMessage.objects.create(
        channel=channel, recipient=recipient, template=template, context=dict(context or {}),
        order=order, available_at=available_at or timezone.now(),
    )
    if webhooks and channel != Channel.WEBHOOK:
        webhook_fanout(template=template, context=context or {}, order=order)
    return message


def outbox_enqueue_many(messages: list[OutboxMessage]) -> list[OutboxMessage]:
    """Queue many messages with one INSERT (the sweeper's notices)."""
    _require_transaction()
    now = timezone.now()
    for m in messages:
        m.available_at = m.available_at or now
    return OutboxMessage.objects.bulk_create(messages, batch_size=1000)


def webhook_subscribers() -> list[WebhookSubscriber]:
    """The active subscribers, from this process's copy (core.config): asked on every order write."""
    return config.cached("notify.webhook_subscribers",
                         lambda: list(WebhookSubscriber.objects.filter(is_active=True).order_by("pk")))


def webhook_messages(*, template: str, context: dict, order_id=None, subscribers: list[WebhookSubscriber]) -> list[OutboxMessage]:
    """One webhook message per subscriber that wants the event (unsaved; the caller inserts them)."""
    public = {k: v for k, v in context.items() if k not in _PRIVATE_KEYS}
    return [OutboxMessage(channel=Channel.WEBHOOK, recipient=str(sub.pk), template=template, context=public,
                          order_id=order_id, available_at=timezone.now())
            for sub in subscribers if sub.wants(template)]


def webhook_fanout(*, template: str, context: dict, order=None) -> int:
    _require_transaction()
    rows = webhook_messages(template=template, context=context, order_id=order.pk if order else None,
                            subscribers=webhook_subscribers())
    OutboxMessage.objects.bulk_create(rows)
    return len(rows)


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff after the n-th failed attempt: base, 2x base, 4x base... up to the cap."""
    seconds = settings.NOTIFY_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, settings.NOTIFY_RETRY_MAX_SECONDS))


def _send(message: OutboxMessage, gateway) -> None:
    language = settings.NOTIFY_LANGUAGE
    message_id = str(message.message_id)
    if message.channel == Channel.SMS:
        gateway.send(message.recipient, render(message.template, message.context, language), message_id=message_id)
    elif message.channel == Channel.EMAIL:
        text = render(message.template, message.context, language)
        EmailMessage(subject=text.split("：")[0][:80], body=text, to=[message.recipient],
                     headers={"Message-ID": f"<{message_id}@aftersales>"}).send()
    else:
        sub = WebhookSubscriber.objects.filter(pk=int(message.recipient), is_active=True).first()
        if sub is None:
            raise LookupError(f"webhook subscriber {message.recipient} is gone or inactive")
        payload = {"id": message.pk, "message_id": message_id, "event": message.template,
                   "created_at": message.created_at.isoformat(), "order_id": message.order_id, "data": message.context}
        post_json(sub.url, payload, secret=sub.secret,
                  headers={"X-Aftersales-Event": message.template, "X-Aftersales-Delivery": str(message.pk),
                           MESSAGE_ID_HEADER: message_id})


def _release(token: str) -> int:
    """Give back the messages of a claim that were not attempted: due again at once, for any worker,
    and their attempt not counted."""
    return OutboxMessage.objects.filter(claim_token=token, status=OutboxStatus.SENDING).update(
        status=OutboxStatus.PENDING, claim_token="", claimed_until=None, attempts=F("attempts") - 1)


def outbox_deliver(*, now: datetime | None = None, limit: int = 200) -> dict[str, int]:
    """Deliver the messages whose time has come. Runs outside any transaction (I/O happens here).

    A batch is claimed with one conditional UPDATE that writes this run's token: two workers may
    read the same candidates, but a row goes to whichever UPDATE reaches it first. The claim holds
    for NOTIFY_CLAIM_SECONDS and is renewed before each message (the heartbeat), so a worker that
    dies leaves its messages to the next one within that time, not after minutes. On ``STOPPING``
    (SIGTERM) the message in flight is finished and the rest released at once.
    """
    started = timezone.now()
    now = now or started
    lease = claim_lease()

    def clock() -> datetime:
        # ``now`` moved on by the real time spent here (a caller may pass a clock of its own).
        return now + (timezone.now() - started)

    token = uuid.uuid4().hex
    due = Q(status__in=DELIVERABLE, available_at__lte=now) | Q(status=OutboxStatus.SENDING, claimed_until__lt=now)
    candidates = list(OutboxMessage.objects.filter(due).order_by("available_at", "id").values_list("pk", flat=True)[:limit])
    if not candidates or STOPPING.is_set():
        return {"sent": 0, "failed": 0, "dead": 0}
    OutboxMessage.objects.filter(due, pk__in=candidates).update(
        status=OutboxStatus.SENDING, claim_token=token, claimed_until=now + lease, attempts=F("attempts") + 1,
    )
    counts = {"sent": 0, "failed": 0, "dead": 0}
    gateway = None
    renewed = clock()
    for message in OutboxMessage.objects.filter(claim_token=token, status=OutboxStatus.SENDING).order_by("id"):
        if STOPPING.is_set():
            _release(token)
            break
        if clock() - renewed > lease / 3:
            renewed = clock()
            OutboxMessage.objects.filter(claim_token=token, status=OutboxStatus.SENDING).update(
                claimed_until=renewed + lease)
        mine = OutboxMessage.objects.filter(pk=message.pk, claim_token=token, status=OutboxStatus.SENDING)
        # The delivery logs under the id of the request that queued the message.
        request_token = set_request_id(message.request_id or None)
        try:
            if message.channel == Channel.SMS and gateway is None:
                gateway = sms_gateway()
            _send(message, gateway)
        except Exception as exc:  # noqa: BLE001 - any failure of a gateway is recorded and retried
            error = f"{type(exc).__name__}: {exc}"[:2000]
            dead = message.attempts >= settings.NOTIFY_MAX_ATTEMPTS
            mine.update(status=OutboxStatus.DEAD if dead else OutboxStatus.FAILED, last_error=error,
                        available_at=now + retry_delay(message.attempts), claimed_until=None)
            counts["dead" if dead else "failed"] += 1
            logger.warning("outbox #%s %s to %s failed (attempt %s): %s", message.pk, message.template,
                           _safe_recipient(message), message.attempts, error)
            continue
        finally:
            reset_request_id(request_token)
        mine.update(status=OutboxStatus.SENT, sent_at=timezone.now(), last_error="", claimed_until=None)
        logger.info("outbox #%s %s sent", message.pk, message.template, extra={"request_id": message.request_id or "-"})
        counts["sent"] += 1
    return counts


def _safe_recipient(message: OutboxMessage) -> str:
    if message.channel == Channel.SMS:
        return mask_phone(message.recipient)
    if message.channel == Channel.EMAIL:
        return "***@" + message.recipient.rpartition("@")[2]
    return f"webhook #{message.recipient}"


def outbox_resend(*, ids) -> int:
    """An administrator sends failed, dead (or even sent) messages again, from a fresh count."""
    return OutboxMessage.objects.filter(pk__in=list(ids)).exclude(status=OutboxStatus.SENDING).update(
        status=OutboxStatus.PENDING, attempts=0, available_at=timezone.now(), last_error="", claimed_until=None,
    )


def on_order_changed(order, events) -> None:
    """The service app's hook: a technician given an order is told (staff SMS on assignment)."""
    from aftersales.accounts.models import User

    for event in events:
        tech_id = (event.data or {}).get("technician_id") if event.action in ("dispatch", "assign") else None
        tech = User.objects.filter(pk=tech_id).only("phone", "email").first() if tech_id else None
        if tech is None or not (tech.phone or tech.email):
            continue
        channel, recipient = (Channel.SMS, tech.phone) if tech.phone else (Channel.EMAIL, tech.email)
        outbox_enqueue(channel=channel, recipient=recipient, template="staff_assigned", order=order,
                       context={"number": order.number}, webhooks=False)
