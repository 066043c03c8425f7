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
