"""The service network: scoping of people and organizations, login throttle, tokens, roles."""

import pytest
from django.contrib.auth import authenticate
from django.test import RequestFactory

from aftersales.accounts.models import RoleCode
from aftersales.core.models import ThrottleCounter
from aftersales.accounts.services import user_set_roles
from aftersales.core.errors import ValidationFailed

pytestmark = pytest.mark.django_db


def test_agency_sees_only_its_own_people_and_organization(net, api):
    token = net.token(net.agency_tech)
    status, people = api.get("/users", token=token)
    assert status == 200
    assert {u["username"] for u in people} == {"agencytech"}
    assert api.get(f"/users/{net.agent.pk}", token=token)[0] == 404
    status, orgs = api.get("/organizations", token=token)
    assert [o["code"] for o in orgs] == ["AG-SD"]
    assert api.get(f"/organizations/{net.agency_heilongjiang.pk}", token=token)[0] == 404


def test_service_center_sees_the_whole_network(net, api):
    status, orgs = api.get("/organizations", token=net.token(net.agent))
    assert {"SC", "TC", "RC", "BR-HA", "AG-SD", "AG-HL", "DL-HA"} <= {o["code"] for o in orgs}
    status, people = api.get("/users", token=net.token(net.agent), role="field_technician")
    assert {u["username"] for u in people} == {"branchtech", "agencytech", "othertech"}


def _login(username, password, address="10.0.0.1"):
    request = RequestFactory().post("/admin/login/", REMOTE_ADDR=address)
    return authenticate(request, username=username, password=password)


def test_login_is_throttled_after_five_failures_even_with_the_right_password(net):
    assert _login("agent", "pass-agent") is not None
    for _ in range(5):
        assert _login("agent", "wrong") is None
    assert _login("agent", "pass-agent") is None  # closed for the window
    assert _login("hotline", "pass-hotline") is not None  # another user from the same desk still can
    ThrottleCounter.objects.all().delete()  # the lockout passes
    assert _login("agent", "pass-agent") is not None


def test_password_spraying_from_one_address_is_throttled(net):
    for i in range(20):
        _login(f"nobody{i}", "guess", address="203.0.113.9")
    assert _login("agent", "pass-agent", address="203.0.113.9") is None
    assert _login("agent", "pass-agent", address="198.51.100.7") is not None


def test_admin_login_page_refuses_after_throttle(net, client):
    for _ in range(5):
        client.post("/admin/login/", {"username": "admin", "password": "x"})
    resp = client.post("/admin/login/", {"username": "admin", "password": "pass-admin"})
    assert resp.status_code == 200 and "_auth_user_id" not in client.session


def test_unknown_role_is_refused(net):
    with pytest.raises(ValidationFailed) as exc:
        user_set_roles(user=net.agent, roles=[RoleCode.CALL_AGENT, "boss"])
    assert exc.value.fields == {"roles": "boss"}
    assert net.agent.role_codes() == {"call_agent"}


def test_roles_and_skills_are_replaced(net):
    user_set_roles(user=net.branch_tech, roles=["field_technician", "repair_coordinator"], skills=["combine_harvester"])
    net.branch_tech.refresh_from_db()
    assert set(net.branch_tech.roles.values_list("code", flat=True)) == {"field_technician", "repair_coordinator"}
    assert list(net.branch_tech.skills.values_list("category", flat=True)) == ["combine_harvester"]


def test_revoked_or_expired_tokens_do_not_authenticate(net, api):
    from datetime import timedelta

    from django.utils import timezone

    from aftersales.accounts.services import api_token_create

    _, key = api_token_create(user=net.agent, name="old", expires_at=timezone.now() - timedelta(seconds=1))
    assert api.get("/me", token=key)[0] == 401
    net.agent.is_active = False
    net.agent.save()
    assert api.get("/me", token=net.token(net.agent))[0] == 401


def test_unknown_skill_is_refused(net):
    with pytest.raises(ValidationFailed) as exc:
        user_set_roles(user=net.branch_tech, roles=["field_technician"], skills=["tractr"])
    assert exc.value.fields == {"skills": "tractr"}
    assert list(net.branch_tech.skills.values_list("category", flat=True)) == ["tractor"]
