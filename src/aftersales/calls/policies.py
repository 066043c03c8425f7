"""Who may see the phone system's records: staff with a role see their organization's calls;
administrators and the maker's own centres see every organization's."""

from __future__ import annotations

from aftersales.accounts.policies import sees_whole_network


def may_read_calls(user) -> bool:
    return bool(user.is_authenticated and user.is_active and user.role_codes()
                and (sees_whole_network(user) or user.organization_id))


def organization_filter(user) -> dict | None:
    """{} for the whole network, {"organization_id": ...} for one organization, None for nothing."""
    if not may_read_calls(user):
        return None
    if sees_whole_network(user):
        return {}
    return {"organization_id": user.organization_id}
