"""Scoped reads of the service network."""

from __future__ import annotations

from django.db.models import QuerySet

from aftersales.accounts import policies
from aftersales.accounts.models import Organization, User
from aftersales.core.errors import NotFound


def organization_queryset(user) -> QuerySet[Organization]:
    qs = Organization.objects.all()
    if policies.sees_whole_network(user):
        return qs
    if user.is_authenticated and user.organization_id:
        return qs.filter(pk=user.organization_id)
    return qs.none()


def user_queryset(user) -> QuerySet[User]:
    """An agency sees only its own people; the maker's centres see everyone."""
    qs = User.objects.select_related("organization").prefetch_related("roles")
    if policies.sees_whole_network(user):
        return qs
    if user.is_authenticated and user.organization_id:
        return qs.filter(organization_id=user.organization_id)
    return qs.none()


def user_get(user, *, pk: int) -> User:
    try:
        return user_queryset(user).get(pk=pk)
    except User.DoesNotExist:
        raise NotFound("User not found.") from None
