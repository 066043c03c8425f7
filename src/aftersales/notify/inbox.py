"""Writes of the in-app inbox (站内通知): notifications are added inside the transaction of the
change they report (an action, a sweep), so a notification exists exactly when its change
committed; the reader marks them read. The SMS and e-mail of the same events still leave through
the outbox (``notify.services``); this is the copy a person finds behind the bell."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from aftersales.notify.models import Notification


def inbox_add_many(notes: Iterable[tuple]) -> list[Notification]:
    """One INSERT for (user id, order id, kind, context[, at]) rows; the same person is told once
    per kind and order in one change (a person in two pools of one organization). ``at``: when
    the reported event happened (default now)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("inbox_add_many must run inside the transaction of its change")
    seen, rows, now = set(), [], timezone.now()
    for user_id, order_id, kind, context, *at in notes:
        key = (user_id, order_id, kind)
        if user_id is None or key in seen:
            continue
        seen.add(key)
        rows.append(Notification(user_id=user_id, order_id=order_id, kind=kind, context=dict(context),
                                 created_at=at[0] if at else now))
    return Notification.objects.bulk_create(rows) if rows else []


def inbox_mark_read(*, user, ids: Iterable[int] | None = None) -> int:
    """Mark the user's own notifications read (``ids``; None: all of them). Another person's ids
    are ignored, and marking twice changes nothing (a retried request is harmless)."""
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=timezone.now())
