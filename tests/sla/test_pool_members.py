"""A pool's members come from one hand-written statement (sla.services._POOL_SQL, issue 14): the
people must be exactly those the ORM finds tier by tier (the first tier of roles that has anyone in
the organization), active only, in id order, with their phone and e-mail, on both databases."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from aftersales.accounts.models import Organization, RoleCode, User
from aftersales.accounts.services import user_set_roles
from aftersales.sla.services import POOL_ROLES, pool_members

pytestmark = pytest.mark.django_db


def _by_orm(org_id: int, pool: str) -> list[tuple]:
    for tier in POOL_ROLES.get(pool, POOL_ROLES[""]):
        people = list(User.objects.filter(organization_id=org_id, is_active=True, roles__code__in=tier)
                      .distinct().order_by("pk").values_list("pk", "organization_id", "phone", "email"))
        if people:
            return people
    return []


def test_pool_members_are_the_orms_tier_by_tier(net):
    orgs = list(Organization.objects.values_list("pk", flat=True))
    # The acceptance pool of an organization without coordinators falls to its field technicians;
    # one coordinator made inactive must not answer; a person with two roles is listed once.
    User.objects.filter(pk=net.branch_tech.pk).update(phone="+8613900000001", email="t@example.com")
    user_set_roles(user=net.repair_coordinator, roles=[RoleCode.REPAIR_COORDINATOR, RoleCode.FIELD_TECHNICIAN])
    extra = User.objects.create(username="idle_coordinator", organization=net.agency_shandong, is_active=False)
    user_set_roles(user=extra, roles=[RoleCode.REPAIR_COORDINATOR])
    pairs = [(org, pool) for org in orgs for pool in POOL_ROLES]
    with CaptureQueriesContext(connection) as ctx:
        found = pool_members(pairs)
    assert len(ctx.captured_queries) == 1
    expected = {pair: _by_orm(*pair) for pair in pairs}
    got = {pair: [(u.pk, u.organization_id, u.phone, u.email) for u in found.get(pair, [])] for pair in pairs}
    assert got == expected
    assert any(len(v) for v in expected.values())  # the comparison is not between empty answers
    assert expected[(net.branch_henan.pk, "acceptance")]  # the fallback tier was exercised
    assert extra.pk not in {u.pk for people in found.values() for u in people}
    assert pool_members([]) == {} and pool_members([(None, "acceptance")]) == {}
