"""The engine every order action runs through (`_perform`: one transaction, the row lock, the
version check, the timeline event) and the small helpers the flows share.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.accounts.models import Organization, RoleCode, User
from aftersales.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from aftersales.core.rawrows import JoinedRead, fits_key
from aftersales.service import hooks, policies, workflow
from aftersales.service import selectors as order_selectors
from aftersales.service.models import (
    OrderEvent,
    OrderStatus,
    ServiceOrder,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
DUPLICATE_WINDOW = timedelta(days=7)
CONFIRMATION_MAX_FAILURES = 5




def _text(value, limit: int | None = None) -> str:
    text = (value or "").strip()
    return text[:limit] if limit else text


def _required_text(errors: dict, name: str, value, limit: int | None = None) -> str:
    text = _text(value, limit)
    if not text:
        errors[name] = _("This field is required.")
    return text


def _required(name: str, value, limit: int | None = None) -> str:
    """One required text field, or a 422 naming it."""
    errors: dict[str, str] = {}
    text = _required_text(errors, name, value, limit)
    _raise_if(errors)
    return text


def _raise_if(errors: dict, message: str | None = None) -> None:
    if errors:
        raise ValidationFailed(message or _("Nothing was changed."), fields=errors)


def _decimal(errors: dict, name: str, value, *, minimum: Decimal = Decimal(0), allow_none: bool = False) -> Decimal | None:
    if value in (None, ""):
        if not allow_none:
            errors[name] = _("This field is required.")
        return None
    try:
        number = Decimal(str(value))
        if not number.is_finite() or number < minimum:
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        errors[name] = _("Enter a number of at least %(min)s.") % {"min": minimum}
        return None
    return number


def _shanghai_today() -> date:
    return timezone.localtime(timezone.now(), SHANGHAI).date()


def _org_of(actor) -> Organization:
    if actor.organization_id is None:
        raise Forbidden(_("You belong to no organization of the service network."))
    return actor.organization



def _lock(actor, order_id: int) -> ServiceOrder:
    """The order as ``actor`` may see it, its row locked until the action commits. Only the order's
    row is locked; the joined rows come along because the hooks (SLA clocks, search document) and
    the answer need them, and reading them here saves a query each.

    Hand-written (issue 14): the ORM's eleven-table select_related took a quarter of an action's
    CPU to build, every action, for the same statement. core.rawrows.JoinedRead writes it once per
    process from the models (every column, the same joins, the instances linked as select_related
    links them); the visibility condition is policies.order_visibility rendered as SQL.
    tests/service/test_order_lock_read.py pins it against the ORM's read on both databases."""
    if not fits_key(order_id):
        raise NotFound(_("Service order not found."))
    conn = connection
    read = _LOCK_READS.get(conn.vendor)
    if read is None:
        read = _LOCK_READS[conn.vendor] = JoinedRead(ServiceOrder, _HELD_RELATIONS, conn)
    where, params = policies.order_visibility_sql(actor, "t0", conn.ops.quote_name)
    suffix = "FOR UPDATE OF t0" if conn.features.has_select_for_update_of else ""
    order = read.get(conn, order_id, where=where, params=params, suffix=suffix)
    if order is None:
        raise NotFound(_("Service order not found."))
    return order


_LOCK_READS: dict[str, JoinedRead] = {}


_SAVED_FIELDS = [f for f in ServiceOrder._meta.concrete_fields if not f.primary_key]
# What an action's order carries in memory: an action that changes one of these goes through the
# instance (``_set`` or ``Model.objects.create(order=order)``), so the copy stays true.
_HELD_RELATIONS = (*order_selectors.ORDER_PAGE_RELATED, *order_selectors.ORDER_CHILDREN)


def _save_if_version(order: ServiceOrder, expected_version: int) -> None:
    """Write the whole row only if nobody moved it on since we read it."""
    order.updated_at = timezone.now()
    values = {f.attname: getattr(order, f.attname) for f in _SAVED_FIELDS}
    if ServiceOrder.objects.filter(pk=order.pk, version=expected_version).update(**values) != 1:
        raise Conflict(_("The order was changed by someone else; reload it and decide again."), code="stale_version")


@dataclass(frozen=True)
class Position:
    """Where the actor was, from the browser's geolocation: degrees and the radius in metres."""

    latitude: Decimal
    longitude: Decimal
    accuracy_m: int | None = None

    def fields(self) -> dict:
        return {"latitude": self.latitude, "longitude": self.longitude, "accuracy_m": self.accuracy_m}


def _position(latitude, longitude, accuracy_m) -> Position | None:
    """Both coordinates or neither (sharing the position is optional); out of range is a 422 naming
    the field. Six decimals are about 0.1 m, more than any phone knows."""
    if latitude in (None, "") and longitude in (None, ""):
        return None
    errors: dict[str, str] = {}
    values = {}
    for name, value, limit in (("latitude", latitude, 90), ("longitude", longitude, 180)):
        try:
            number = Decimal(str(value)).quantize(Decimal("0.000001"))
            if not number.is_finite() or abs(number) > limit:
                raise InvalidOperation
            values[name] = number
        except (InvalidOperation, ValueError):
            errors[name] = _("Enter a number from %(low)s to %(high)s.") % {"low": -limit, "high": limit}
    accuracy = None
    if accuracy_m not in (None, ""):
        try:
            accuracy = int(accuracy_m)
            if accuracy < 0:
                raise ValueError
        except (TypeError, ValueError):
            errors["accuracy_m"] = _("Enter a number of at least %(min)s.") % {"min": 0}
    _raise_if(errors)
    return Position(values["latitude"], values["longitude"], accuracy)


def _append_event(order: ServiceOrder, *, actor, action: str, from_status: str, to_status: str,
                  data: dict | None = None, note: str = "", at: datetime | None = None,
                  seq: int | None = None, position: Position | None = None) -> OrderEvent:
    """The caller holds the order's row lock, so ``event_seq`` cannot be taken twice. ``seq``: the
    number the order row already counts (a new order is inserted with its first event counted)."""
    if seq is None:
        order.event_seq += 1
        seq = order.event_seq
    event = OrderEvent.objects.create(
        order=order, seq=seq, at=at or timezone.now(), actor=actor,
        actor_org_id=getattr(actor, "organization_id", None), action=action,
        from_status=from_status, to_status=to_status, data=data or {}, note=note or "",
        **(position.fields() if position else {}),
    )
    order.__dict__.setdefault("_new_events", []).append(event)
    if "_timeline" in order.__dict__:  # held by a guard or a hook: keep it whole
        order.__dict__["_timeline"].append(event)
    return event


def _changed(order: ServiceOrder) -> None:
    """Tell the registered hooks (SLA clocks, search index) about the events just appended."""
    events = order.__dict__.pop("_new_events", [])
    if events:
        hooks.order_changed(order, events)


def _set(obj, **fields) -> None:
    """Change a related row through the instance the order holds, so the answer shows the change."""
    for name, value in fields.items():
        setattr(obj, name, value)
    obj.save(update_fields=list(fields))


def _perform(*, actor, order_id: int, action: str, version: int, note: str = "",
             apply: Callable[[ServiceOrder], dict | None] | None = None,
             position: Position | None = None) -> ServiceOrder:
    t = workflow.TRANSITIONS_BY_ACTION[action]
    with transaction.atomic():
        order = _lock(actor, order_id)
        policies.check_action(actor, order, action, version)
        from_status = order.status
        promised_before = order.promised_at
        resume = None
        if t.target == workflow.RESUME:
            esc = order_selectors.open_escalation(order)
            resume = esc.resume_status if esc else None
        data = (apply(order) if apply else None) or {}
        order.forget_children()  # the action may have written quotes or escalations
        order.status = t.target_for(order, resume)
        if order.status in (OrderStatus.CLOSED, OrderStatus.CANCELLED) and order.closed_at is None:
            order.closed_at = timezone.now()
        order.version = version + 1
        _append_event(order, actor=actor, action=action, from_status=from_status, to_status=order.status,
                      data=data, note=_text(note, 2000), position=position)
        if order.promised_at != promised_before:
            _append_promise_change(order, actor, promised_before)
        _save_if_version(order, version)
        _changed(order)
        return order


def _append_promise_change(order: ServiceOrder, actor, previous: datetime | None) -> None:
    """The timeline's own event for a new promised time (守时服务 is measured against it, so the
    supervisor and the next holder see when, by whom and from what it was moved), whichever action
    moved it."""
    _append_event(order, actor=actor, action=workflow.PROMISE_CHANGE, from_status=order.status, to_status=order.status,
                  data={"promised_at": order.promised_at.isoformat() if order.promised_at else None,
                        "previous": previous.isoformat() if previous else None})


def _user_with_role(errors: dict, name: str, user_id: int | None, role: str, org_id: int | None = None) -> User | None:
    qs = User.objects.filter(pk=user_id, is_active=True, roles__code=role)
    if org_id is not None:
        qs = qs.filter(organization_id=org_id)
    user = qs.select_related("organization").first() if user_id is not None else None
    if user_id is not None and user is None:
        errors[name] = _("Not an active %(role)s here.") % {"role": RoleCode(role).label}
    return user

def _steps(errors: dict, steps, *, required: bool = False) -> list[str]:
    cleaned = [_text(s, 500) for s in (steps or []) if _text(s)]
    if required and not cleaned:
        errors["steps"] = _("Record at least one diagnosis step.")
    return cleaned
