"""Every read of the drafts, scoped: only users who may handle the inbox see any (others get a 404)."""

from __future__ import annotations

from django.db.models import QuerySet

from aftersales.core.errors import NotFound
from aftersales.inbox import policies
from aftersales.inbox.models import DraftState, IntakeDraft


def draft_queryset(user) -> QuerySet[IntakeDraft]:
    if not policies.may_handle_inbox(user):
        return IntakeDraft.objects.none()
    return IntakeDraft.objects.all()


def drafts(user, *, state: str = DraftState.DRAFT, limit: int = 100) -> list[IntakeDraft]:
    return list(draft_queryset(user).filter(state=state).select_related("customer", "order")
                .prefetch_related("attachments").order_by("-received_at", "-id")[:limit])


def draft_get(user, *, pk: int) -> IntakeDraft:
    try:
        return draft_queryset(user).select_related("customer", "order").prefetch_related("attachments").get(pk=pk)
    except IntakeDraft.DoesNotExist:
        raise NotFound("Draft not found.") from None
