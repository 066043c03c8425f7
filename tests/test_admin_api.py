"""The administrator's API (issue 11, item 6): the service network, SLA policies, busy seasons and
warranty policy versions, administrators only, every change audited with who/what/when/before/after."""

from __future__ import annotations

import pytest

from aftersales.accounts.models import Coverage, Organization, User
from aftersales.sla.models import SlaPolicy

pytestmark = pytest.mark.django_db


def test_only_an_administrator_may_use_the_admin_api(net, api):
    """Rule: administrators only; anyone else is refused and nothing changes."""
    for user in (net.agent, net.supervisor, net.repair_coordinator):
        status, body = api.get("/admin/organizations", token=net.token(user))
        assert status == 403 and body["code"] == "forbidden"
        status, body = api.post("/admin/organizations", {"code": "X", "name": "X", "kind": "authorized_agency"},
                                token=net.token(user))
        assert status == 403
    assert not Organization.objects.filter(code="X").exists()


def test_the_administrator_builds_an_agency_with_coverage_and_a_technician_and_it_is_audited(net, api):
    """Rule: every change is audited: who, what, when, before and after."""
    token = net.token(net.admin)
    status, org = api.post("/admin/organizations", {
        "code": "AG-HA-ZK", "name": "周口丰收农机维修站", "kind": "authorized_agency",
        "province": "河南省", "city": "周口市", "contact_phone": "0394-8888888"}, token=token)
    assert status == 201 and org["coverage"] == []
    status, area = api.post(f"/admin/organizations/{org['id']}/coverage", {"province": "河南省", "city": "周口市"},
                            token=token)
    assert status == 201 and Coverage.objects.filter(organization_id=org["id"], city="周口市").exists()
    status, user = api.post("/admin/users", {
        "username": "zk_tech", "display_name": "张师傅", "organization_id": org["id"], "roles": ["field_technician"],
        "skills": ["tractor"], "password": "a-long-pass-2026"}, token=token)
    assert status == 201 and user["roles"] == ["field_technician"] and user["skills"] == ["tractor"]
    assert User.objects.get(username="zk_tech").check_password("a-long-pass-2026")

    status, changed = api.put(f"/admin/organizations/{org['id']}", {
        "code": "AG-HA-ZK", "name": "周口丰收农机服务站", "kind": "authorized_agency", "province": "河南省",
        "city": "周口市", "contact_phone": "0394-8888888"}, token=token)
    assert status == 200 and changed["name"] == "周口丰收农机服务站"

    status, log = api.get("/admin/audit", token=token, model="accounts.organization", object_id=str(org["id"]))
    assert status == 200
    update, create = log["items"][0], log["items"][1]
    assert (create["action"], update["action"]) == ("create", "update")
    assert update["actor_id"] == net.admin.pk and update["changes"]["name"] == ["周口丰收农机维修站", "周口丰收农机服务站"]
    status, log = api.get("/admin/audit", token=token, model="accounts.user", object_id=str(user["id"]))
    entry = log["items"][-1]
    assert entry["action"] == "create" and entry["actor_id"] == net.admin.pk and "password" not in entry["changes"]

    status, _ = api.delete(f"/admin/coverage/{area['id']}", token=token)
    assert status == 204
    status, log = api.get("/admin/audit", token=token, model="accounts.coverage")
    assert [e["action"] for e in log["items"][:2]] == ["delete", "create"]


def test_invalid_admin_input_names_the_field_and_changes_nothing(net, api):
    token = net.token(net.admin)
    status, body = api.post("/admin/organizations", {"code": "SC", "name": "重复", "kind": "castle"}, token=token)
    assert status == 422 and {e["field"] for e in body["errors"]} == {"kind"}
    status, body = api.post("/admin/organizations", {"code": "SC", "name": "重复", "kind": "authorized_agency"},
                            token=token)
    assert status == 422 and {e["field"] for e in body["errors"]} == {"code"}  # the code is taken
    status, body = api.post("/admin/users", {"username": "x", "roles": ["king"], "skills": ["spaceship"]}, token=token)
    assert status == 422 and {e["field"] for e in body["errors"]} == {"roles", "skills", "password"}
    status, body = api.post("/admin/busy-seasons", {"name": "三夏", "start": "13-01", "end": "06-20"}, token=token)
    assert status == 422 and {e["field"] for e in body["errors"]} == {"start"}
    status, body = api.put(f"/admin/users/{net.admin.pk}", {"username": "admin", "roles": [], "password": ""},
                           token=token)
    assert status in (200, 422)  # a superuser keeps access; an administrator by role may not demote itself
    assert Organization.objects.filter(name="重复").count() == 0


def test_sla_policies_and_busy_seasons_are_managed_and_audited(net, api):
    token = net.token(net.admin)
    status, policy = api.post("/admin/sla-policies", {"name": "农忙上门 4 小时", "target": "on_site", "amount": 4,
                                                      "season": "busy", "provinces": ["河南省"]}, token=token)
    assert status == 201 and SlaPolicy.objects.filter(pk=policy["id"], amount=4).exists()
    status, body = api.put(f"/admin/sla-policies/{policy['id']}", {**{k: policy[k] for k in (
        "name", "target", "unit", "basis", "season", "provinces")}, "amount": 3}, token=token)
    assert status == 200 and body["amount"] == 3
    status, log = api.get("/admin/audit", token=token, model="sla.slapolicy", object_id=str(policy["id"]))
    assert log["items"][0]["changes"]["amount"] == ["4", "3"]
    status, body = api.post("/admin/sla-policies", {"name": "x", "target": "teleport", "amount": 1,
                                                    "service_levels": ["vip"]}, token=token)
    assert status == 422 and {e["field"] for e in body["errors"]} == {"target", "service_levels"}
    status, season = api.post("/admin/busy-seasons", {"name": "三夏麦收", "start": "05-25", "end": "06-20",
                                                      "provinces": ["河南省"], "crop": "小麦"}, token=token)
    assert status == 201
    assert api.get("/admin/busy-seasons", token=token)[1][-1]["name"] in {"三夏麦收"} | {
        s["name"] for s in api.get("/admin/busy-seasons", token=token)[1]}
    assert api.delete(f"/admin/busy-seasons/{season['id']}", token=token)[0] == 204


def test_a_warranty_policy_change_is_saved_as_the_next_version(net, api):
    """Rule: policy versions are never edited; a change is the next version, audited."""
    from aftersales.warranty.services import policy_ensure_default

    base = policy_ensure_default()
    token = net.token(net.admin)
    status, body = api.post(f"/admin/warranty-policies/{base.pk}/versions",
                            {"effective_from": "2027-01-01", "note": "试改", "data": {"clauses": {}}}, token=token)
    assert status == 422 and all(e["field"].startswith("data") for e in body["errors"])
    status, body = api.post(f"/admin/warranty-policies/{base.pk}/versions",
                            {"effective_from": "2027-01-01", "note": "2027 年版", "data": base.data}, token=token)
    assert status == 201 and body["version"] == base.version + 1 and body["created_by_id"] == net.admin.pk
    status, log = api.get("/admin/audit", token=token, model="warranty.warrantypolicy", object_id=str(body["id"]))
    assert log["items"][0]["action"] == "create" and log["items"][0]["actor_id"] == net.admin.pk
    status, years = api.get("/admin/holidays", token=token)
    assert status == 200 and years and all(y["rest_days"] for y in years)
