"""Who makes return visits: the service center's people (the maker's network-wide centres), the
hotline roles and supervisors. Partners do not call the maker's customers back; to them a visit
is a 404 like any record outside their scope."""

from __future__ import annotations

from aftersales.accounts.models import RoleCode
from aftersales.accounts.policies import sees_whole_network

VISIT_ROLES = frozenset({RoleCode.CALL_AGENT, RoleCode.INFORMATION_COORDINATOR, RoleCode.HOTLINE_TECHNICIAN,
                         RoleCode.SUPERVISOR, RoleCode.ADMINISTRATOR})
PLAN_ROLES = frozenset({RoleCode.SUPERVISOR, RoleCode.ADMINISTRATOR})


def may_visit(user) -> bool:
    return bool(user.is_authenticated and user.is_active and sees_whole_network(user)
                and user.role_codes() & VISIT_ROLES)


def may_plan(user) -> bool:
    return may_visit(user) and bool(user.role_codes() & PLAN_ROLES)
