"""A token's user comes with the roles read in the same statement (accounts.services, the joined
codes of GROUP_CONCAT / STRING_AGG): the roles must be exactly the stored ones, on both databases."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from aftersales.accounts.models import RoleCode, User
from aftersales.accounts.services import api_token_authenticate, api_token_create, user_set_roles

pytestmark = pytest.mark.django_db


def test_a_tokens_user_carries_exactly_its_roles(net):
    user = net.agent
    user_set_roles(user=user, roles=[RoleCode.CALL_AGENT, RoleCode.REPAIR_COORDINATOR, RoleCode.SUPERVISOR])
    _, key = api_token_create(user=user, name="roles")
    with CaptureQueriesContext(connection) as ctx:
        found = api_token_authenticate(key)
        codes = found.role_codes()
    assert codes == frozenset({"call_agent", "repair_coordinator", "supervisor"})
    assert codes == frozenset(User.objects.get(pk=user.pk).roles.values_list("code", flat=True))
    assert not [q for q in ctx.captured_queries if "accounts_role" in q["sql"] and "apitoken" not in q["sql"]]

    user_set_roles(user=user, roles=[])
    assert api_token_authenticate(key).role_codes() == frozenset()


def _values(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


def test_the_hand_written_token_read_gives_what_the_orm_gives(net):
    """The token read is one hand-written statement (issue 14): every column of the user and its
    organization comes back converted exactly as a queryset would (datetimes, booleans, JSON)."""
    from datetime import timedelta

    from django.utils import timezone

    from aftersales.accounts.models import ApiToken

    _, key = api_token_create(user=net.agent, name="pin", expires_at=timezone.now() + timedelta(days=3))
    with CaptureQueriesContext(connection) as ctx:
        user = api_token_authenticate(key)
    reads = [q for q in ctx.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]
    assert len(reads) == 1, reads
    stored = User.objects.select_related("organization").get(pk=net.agent.pk)
    assert _values(user) == _values(stored)
    assert user.organization is not None and _values(user.organization) == _values(stored.organization)
    token = ApiToken.objects.get(user=net.agent, name="pin")
    assert token.last_used_at is not None  # marked used by the read above

    # A user of no organization: the outer join's empty columns are no organization, not a blank one.
    loner = User.objects.create(username="loner", is_active=True)
    _, key = api_token_create(user=loner, name="alone")
    found = api_token_authenticate(key)
    assert found.pk == loner.pk and found.organization_id is None and found.organization is None
    assert _values(found) == _values(User.objects.get(pk=loner.pk))

    # Revoked, expired, inactive and unknown keys give nobody.
    ApiToken.objects.filter(user=loner).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert api_token_authenticate(key) is None
    assert api_token_authenticate(key + "x") is None
    _, key = api_token_create(user=loner, name="again")
    User.objects.filter(pk=loner.pk).update(is_active=False)
    assert api_token_authenticate(key) is None
