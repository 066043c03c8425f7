"""The fax and e-mail inbox is the hotline's: staff of the maker's own centres (and administrators)
with a desk role handle it; partners never see it."""

from __future__ import annotations

from aftersales.accounts.models import RoleCode
from aftersales.accounts.policies import is_administrator, sees_whole_network

DESK_ROLES = (RoleCode.CALL_AGENT, RoleCode.INFORMATION_COORDINATOR, RoleCode.SUPERVISOR)


def may_handle_inbox(user) -> bool:
    return bool(user.is_authenticated and user.is_active and
                (is_administrator(user) or (sees_whole_network(user) and user.has_role(*DESK_ROLES))))
