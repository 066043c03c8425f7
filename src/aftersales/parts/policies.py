"""Who may do what with parts and claims. The maker's centres keep the central stock, approve and
ship requisitions, inspect old parts and review claims; a partner (branch, agency) sees and moves
only its own stock and files only its own claims."""

from __future__ import annotations

from django.utils.translation import gettext as _

from aftersales.accounts.models import RoleCode as R
from aftersales.accounts.policies import is_administrator, sees_whole_network
from aftersales.core.errors import Forbidden

DESK_ROLES = frozenset({R.REPAIR_COORDINATOR, R.SUPERVISOR, R.ADMINISTRATOR})
REVIEW_ROLES = frozenset({R.SUPERVISOR, R.ADMINISTRATOR, R.TECHNICAL_ENGINEER})
INSPECT_ROLES = frozenset({R.TECHNICAL_ENGINEER, R.ADMINISTRATOR})
PARTNER_ROLES = frozenset({R.REPAIR_COORDINATOR, R.FIELD_TECHNICIAN, R.SUPERVISOR, R.ADMINISTRATOR})


def _active(user) -> bool:
    return bool(user.is_authenticated and user.is_active)


def is_parts_desk(user) -> bool:
    """The centre's parts desk: ships from the central warehouse, approves requisitions, books receipts."""
    return _active(user) and sees_whole_network(user) and (is_administrator(user) or bool(user.role_codes() & DESK_ROLES))


def may_review_claims(user) -> bool:
    return _active(user) and sees_whole_network(user) and (is_administrator(user) or bool(user.role_codes() & REVIEW_ROLES))


def may_inspect(user) -> bool:
    return _active(user) and sees_whole_network(user) and (is_administrator(user) or bool(user.role_codes() & INSPECT_ROLES))


def may_use_parts(user) -> bool:
    """Anyone of the network with a working role: asks for parts, moves its organization's stock."""
    return _active(user) and user.organization_id is not None and bool(user.role_codes() & PARTNER_ROLES)


def may_move_stock_of(user, warehouse) -> bool:
    if is_parts_desk(user):
        return True
    if not may_use_parts(user) or warehouse.organization_id != user.organization_id:
        return False
    # A technician moves his own van's stock and the organization's; another technician's van is his.
    return warehouse.technician_id in (None, user.pk) or user.has_role(R.REPAIR_COORDINATOR, R.SUPERVISOR)


def check(allowed: bool, message: str | None = None) -> None:
    if not allowed:
        raise Forbidden(message or _("You may not do this with parts."))
