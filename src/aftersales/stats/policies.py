"""Who may read the statistics centre: every member of the service network with a role (each
sees the figures of the orders it may see; the selectors scope them), and administrators."""

from __future__ import annotations

from django.utils.translation import gettext as _

from aftersales.core.errors import Forbidden


def may_read_stats(user) -> bool:
    return bool(user.is_authenticated and user.is_active and (user.is_superuser or user.role_codes()))


def check_read_stats(user) -> None:
    if not may_read_stats(user):
        raise Forbidden(_("Statistics are for members of the service network with a role."))
