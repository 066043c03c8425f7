"""Who may see and judge a person's standards record. A person's inspections, violations, scores
and statements are seen by the person, their superiors and administrators only; partners' staff
(agencies, dealers) are managed by their own organization alone."""

from __future__ import annotations

from django.db.models import Q

from aftersales.accounts.models import NETWORK_WIDE_KINDS, OrganizationKind, RoleCode
from aftersales.accounts.policies import is_administrator

# The maker's own organizations: a network-wide supervisor also supervises the direct branches.
OWN_KINDS = frozenset(NETWORK_WIDE_KINDS | {OrganizationKind.DIRECT_BRANCH})


def _is_supervisor(user) -> bool:
    return bool(user.is_authenticated and user.is_active and user.has_role(RoleCode.SUPERVISOR))


def leads_a_team(user) -> bool:
    return bool(user.is_authenticated and user.led_teams.exists())


def managed_people_q(actor) -> Q | None:
    """The people ``actor`` is a superior of, as a filter on User; None: everyone (administrators);
    ``Q(pk__in=[])``: nobody."""
    if is_administrator(actor):
        return None
    q = Q(teams__leader=actor)
    if _is_supervisor(actor) and actor.organization_id:
        q |= Q(organization_id=actor.organization_id)
        if actor.organization.kind in NETWORK_WIDE_KINDS:
            q |= Q(organization__kind__in=OWN_KINDS)
    return q & ~Q(pk=actor.pk)


def is_superior_of(actor, person) -> bool:
    if not (actor.is_authenticated and actor.is_active) or person is None:
        return False
    if is_administrator(actor):
        return True
    if actor.pk == person.pk:
        return False
    if _is_supervisor(actor) and actor.organization_id:
        if person.organization_id == actor.organization_id:
            return True
        if (actor.organization.kind in NETWORK_WIDE_KINDS and person.organization_id
                and person.organization.kind in OWN_KINDS):
            return True
    return person.teams.filter(leader=actor).exists()


def may_see_record_of(actor, person) -> bool:
    return bool(actor.is_authenticated and (actor.pk == person.pk or is_superior_of(actor, person)))


def may_inspect(actor) -> bool:
    """Supervisors, shift leaders and administrators inspect (督查 and 值班领班)."""
    return bool(actor.is_authenticated and actor.is_active
                and (is_administrator(actor) or _is_supervisor(actor) or leads_a_team(actor)))


def may_edit_catalogue(actor) -> bool:
    return is_administrator(actor)


def may_manage_training(actor) -> bool:
    return is_administrator(actor) or _is_supervisor(actor)
