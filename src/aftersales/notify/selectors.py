"""Reads of the inbox: always the asking user's own notifications, never another person's."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import get_language, gettext as _

from aftersales.core.errors import NotFound
from aftersales.notify.models import Notification
from aftersales.notify.templates import render


def inbox(user, *, unread_only: bool = False) -> QuerySet[Notification]:
    qs = Notification.objects.filter(user=user).select_related("order").only(
        "id", "kind", "context", "created_at", "read_at", "order_id", "order__number")
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs.order_by("-created_at", "-id")


def unread_count(user) -> int:
    if not user.is_authenticated:
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def notification_get(user, pk: int) -> Notification:
    found = Notification.objects.filter(user=user, pk=pk).only("id", "order_id", "read_at", "kind", "context").first()
    if found is None:
        raise NotFound(_("Notification not found."))
    return found


def text_of(n: Notification, language: str | None = None) -> str:
    """The notification's words in the reader's language (the outbox's templates)."""
    return render(n.kind, n.context, language or get_language() or "zh-hans", plain=True)
