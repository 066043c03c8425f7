"""The inbox API: the asking user's own notifications (the bell's list) and marking them read."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from ninja import Field, Router, Schema

from aftersales.api.errors import COMMON_ERRORS
from aftersales.notify import inbox, selectors

router = Router(tags=["Notifications"])


class NotificationOut(Schema):
    id: int
    kind: str = Field(..., description="What happened: inbox_new_order, inbox_forwarded, inbox_dispatched, "
                                       "staff_assigned, sla_warning, sla_breach, sla_escalation, "
                                       "inbox_escalation_answered...")
    text: str = Field(..., description="The notification in the language asked for (Accept-Language).")
    order_id: int | None
    order_number: str
    url: str = Field(..., description="The order's page on this site.")
    created_at: datetime
    read_at: datetime | None


class InboxOut(Schema):
    unread: int = Field(..., description="How many of your notifications are unread (the bell's number).")
    items: list[NotificationOut]


class ReadIn(Schema):
    ids: list[int] | None = Field(None, description="The notifications to mark read; omitted or null: all of yours.",
                                  max_length=500)


class ReadOut(Schema):
    marked: int
    unread: int


def _out(n) -> dict:
    return {"id": n.pk, "kind": n.kind, "text": selectors.text_of(n), "order_id": n.order_id,
            "order_number": n.order.number if n.order_id else "",
            "url": f"/orders/{n.order_id}/" if n.order_id else "", "created_at": n.created_at, "read_at": n.read_at}


@router.get("/notifications", response={200: InboxOut, **COMMON_ERRORS}, summary="My notifications")
def notification_list(request, unread_only: bool = False, limit: Annotated[int, Field(ge=1, le=200)] = 50):
    """What the system told you (handoffs, dispatches, SLA warnings and breaches, escalation answers),
    newest first, with your unread count. Only your own."""
    items = selectors.inbox(request.user, unread_only=unread_only)[:limit]
    return {"unread": selectors.unread_count(request.user), "items": [_out(n) for n in items]}


@router.post("/notifications/read", response={200: ReadOut, **COMMON_ERRORS}, summary="Mark notifications read")
def notification_read(request, payload: ReadIn):
    """Marks the given notifications of yours read (others' ids are ignored); without ids, all of
    them. Repeating the request changes nothing."""
    marked = inbox.inbox_mark_read(user=request.user, ids=payload.ids)
    return {"marked": marked, "unread": selectors.unread_count(request.user)}
