"""Who may see and do what with service orders. Visibility answers 404; permission answers 403."""

from __future__ import annotations

from django.db.models import Q

from aftersales.accounts.models import RoleCode
from aftersales.accounts.policies import sees_whole_network
from aftersales.service.models import OPEN_STATUSES

# Who takes requests (首问): the hotline and the maker's centres, and dealers reporting for customers.
INTAKE_ROLES = frozenset({
    RoleCode.CALL_AGENT, RoleCode.INFORMATION_COORDINATOR, RoleCode.HOTLINE_TECHNICIAN,
    RoleCode.SUPERVISOR, RoleCode.ADMINISTRATOR,
})


NOTHING = 0  # order_visibility's answer for a user who sees no order


def order_visibility(user) -> int | None:
    """The one visibility rule, as data: None means every order; an organization id means the
    orders dispatched to it or recorded by it (a partner sees what is dispatched to it; a dealer
    what it recorded); NOTHING means none. Rendered as a Q below and as SQL by the order lock
    (service.services.common), so both say the same."""
    if sees_whole_network(user):
        return None
    if not (user.is_authenticated and user.organization_id):
        return NOTHING
    return user.organization_id


def order_visibility_sql(user, alias: str, quote) -> tuple[str, list]:
    """order_visibility as a condition on the orders table under ``alias`` for the hand-written
    hot reads (the order lock, the duplicate guard): ("", []) for every order. ``quote``: the
    connection's quote_name."""
    org_id = order_visibility(user)
    if org_id is None:
        return "", []
    if org_id == NOTHING:
        return "1 = 0", []
    return f"({alias}.{quote('assigned_org_id')} = %s OR {alias}.{quote('owning_org_id')} = %s)", [org_id, org_id]


def order_visibility_q(user) -> Q | None:
    """None means every order (see order_visibility)."""
    org_id = order_visibility(user)
    if org_id is None:
        return None
    if org_id == NOTHING:
        return Q(pk__in=[])
    return Q(assigned_org_id=org_id) | Q(owning_org_id=org_id)


def may_create_order(user) -> bool:
    return bool(user.is_authenticated and user.is_active and user.organization_id and user.role_codes() & INTAKE_ROLES)


def may_see_full_phone(user, order) -> bool:
    """The one phone rule is ``registry.policies.full_phone_reason``; this asks it for an order."""
    from aftersales.registry.policies import may_see_full_phone as rule

    return rule(user, order=order)


def may_attach(user, order) -> bool:
    """Anyone who can see an open order may add photos and documents to it."""
    return order.status in OPEN_STATUSES and bool(user.role_codes())


def check_action(user, order, action: str, version: int | None = None) -> None:
    """Raise what the caller must hear, in this order: unknown action (404), not this user's
    action (403), stale version (409 stale_version), not from this status (409 invalid_transition),
    a guard on the order's state (409 guard_failed). Services call it again under the row lock."""
    from django.utils.translation import gettext as _

    from aftersales.core.errors import Conflict, Forbidden, NotFound
    from aftersales.service import workflow

    t = workflow.transition(action)
    if t is None:
        raise NotFound(_("Unknown action %(action)s.") % {"action": action}, code="unknown_action")
    if not workflow.may_take(user, order, t):
        raise Forbidden(_("You may not take the action “%(action)s” on this order.") % {"action": t.label})
    if version is not None and order.version != version:
        raise Conflict(
            _("The order was changed by someone else; reload it and decide again."), code="stale_version",
            current=order_brief(order),
        )
    if order.status not in t.sources:
        raise Conflict(workflow.blocked_by(order, t), code="invalid_transition", current=order_brief(order))
    reason = t.guard(order) if t.guard else None
    if reason:
        raise Conflict(reason, code="guard_failed", current=order_brief(order))


def order_brief(order) -> dict:
    return {"id": order.pk, "number": order.number, "status": order.status, "version": order.version}
