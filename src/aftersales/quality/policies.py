"""Who works on product quality: the technical centre's engineers, the service centre's
supervisors and administrators. Quality issues are the maker's own: partners do not see them."""

from __future__ import annotations

from django.utils.translation import gettext as _

from aftersales.accounts.models import RoleCode
from aftersales.accounts.policies import sees_whole_network
from aftersales.core.errors import Forbidden

QUALITY_ROLES = frozenset({RoleCode.TECHNICAL_ENGINEER, RoleCode.SUPERVISOR, RoleCode.ADMINISTRATOR})


def may_see_quality(user) -> bool:
    return bool(user.is_authenticated and user.is_active and sees_whole_network(user))


def may_work_on_quality(user) -> bool:
    return may_see_quality(user) and bool(user.is_superuser or user.role_codes() & QUALITY_ROLES)


def check_work_on_quality(user) -> None:
    if not may_work_on_quality(user):
        raise Forbidden(_("Quality issues are worked on by the technical centre and supervisors."))
