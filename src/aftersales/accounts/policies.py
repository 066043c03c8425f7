"""Who may do and see what in the service network. Pure questions about a user; no queries
beyond the user's own roles and organization."""

from __future__ import annotations

from aftersales.accounts.models import NETWORK_WIDE_KINDS, RoleCode


def is_administrator(user) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or user.has_role(RoleCode.ADMINISTRATOR)))


def sees_whole_network(user) -> bool:
    """Administrators and the maker's own centres see every organization's records."""
    if not user.is_authenticated:
        return False
    if is_administrator(user):
        return True
    org = user.organization
    return bool(org is not None and org.kind in NETWORK_WIDE_KINDS)


def may_manage_customers(user) -> bool:
    """Customer and machine archives are kept by the hotline and by the organizations serving them."""
    return bool(user.is_authenticated and user.is_active and (sees_whole_network(user) or user.organization_id))


def may_manage_api_tokens_of(actor, owner) -> bool:
    return actor.pk == owner.pk or is_administrator(actor)
