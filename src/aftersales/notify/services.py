"""The outbox: side effects are written next to the change and delivered later (a later issue)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from aftersales.notify.models import Channel, OutboxMessage


def outbox_enqueue(
    *, channel: str, recipient: str, template: str, context: dict | None = None, order=None,
    available_at: datetime | None = None,
) -> OutboxMessage:
    """Queue one message. Call it inside the transaction of the change it reports."""
    if channel not in Channel.values:
        raise ValueError(f"unknown channel {channel!r}")
    if not transaction.get_connection().in_atomic_block:
        # Outside a transaction the message could be written for a change that then fails.
        raise RuntimeError("outbox_enqueue must run inside the transaction of its change")
    return OutboxMessage.objects.create(
        channel=channel, recipient=recipient, template=template, context=dict(context or {}),
        order=order, available_at=available_at or timezone.now(),
    )
