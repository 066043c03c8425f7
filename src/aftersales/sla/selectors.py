"""Scoped reads of clocks: one's own overdue clocks, an organization's clocks at risk, an order's."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.accounts.policies import sees_whole_network
from aftersales.core.errors import NotFound
from aftersales.sla.models import ClockState, SlaClock, SlaPolicy


def _clocks() -> QuerySet[SlaClock]:
    return SlaClock.objects.select_related("order")


def my_overdue(user) -> QuerySet[SlaClock]:
    """Running clocks past due that the user holds, the longest overdue first."""
    return _clocks().filter(state=ClockState.RUNNING, holder_user=user, due_at__lte=timezone.now()).order_by("due_at", "id")


def at_risk(user, organization_id: int | None = None) -> QuerySet[SlaClock]:
    """Running clocks of an organization past their warning time (overdue included), least time left
    first. Only one's own organization, unless one sees the whole network."""
    org_id = organization_id or user.organization_id
    if org_id != user.organization_id and not sees_whole_network(user):
        raise NotFound(_("Organization not found."))
    return _clocks().filter(state=ClockState.RUNNING, holder_org_id=org_id, warn_at__lte=timezone.now()).order_by("due_at", "id")


def order_clocks(user, order_id: int) -> list[SlaClock]:
    from aftersales.service.selectors import order_get

    order = order_get(user, order_id)  # 404 for an order the user cannot see
    return list(_clocks().filter(order=order).order_by("started_at", "id"))


def policy_list() -> QuerySet[SlaPolicy]:
    return SlaPolicy.objects.order_by("target", "id")
