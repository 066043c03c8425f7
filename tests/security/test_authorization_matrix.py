"""The authorization matrix, generated from the API's own routes: every operation x every persona x
an order (with its customer and machine) of the persona's own organization and of another.

Each cell is asserted: an anonymous caller gets 401; a partner asking about another organization's
order, customer or machine gets 404 (as if it did not exist); an action whose roles the persona
lacks gets 403; nobody gets a 5xx. Whatever a denied call (401/403/404) answered, nothing changed."""

import json
import re

import pytest
from django.db.models import Sum

from aftersales.accounts.services import api_token_create
from aftersales.api.main import api as ninja_api
from aftersales.registry.models import Customer, Machine
from aftersales.service import workflow
from aftersales.service.models import OrderEvent, ServiceOrder
from tests.service.helpers import Actor
from tests.support import make_customer, make_machine

PERSONAS = ("admin", "agent", "info_coordinator", "hotline_tech", "repair_coordinator", "engineer", "supervisor",
            "branch_tech", "agency_tech", "other_agency_tech", "dealer_clerk")
PARTNERS = {"branch_tech": "BR-HA", "agency_tech": "AG-SD", "other_agency_tech": "AG-HL", "dealer_clerk": "DL-HA"}
SCOPED = re.compile(r"\{(order_id|customer_id|machine_id)\}")


def operations() -> list[tuple[str, str, str | None]]:
    """(method, path, action): every route of the API; the action route once per workflow action."""
    ops = []
    for prefix, router in ninja_api._routers:
        for path, view in router.path_operations.items():
            full = ("/" + prefix.strip("/") + "/" + path.lstrip("/")).replace("//", "/")
            for op in view.operations:
                for method in op.methods:
                    if "{action}" in full:
                        ops.extend((method, full, t.action) for t in workflow.TRANSITIONS)
                    else:
                        ops.append((method, full, None))
    return sorted(set(ops), key=lambda o: (o[1], o[0], o[2] or ""))


def _order_in(api, net, org, phone: str, serial: str, province: str, city: str, county: str) -> ServiceOrder:
    owner = make_customer("测试农户", phone, province=province, city=city, county=county)
    machine = make_machine(serial, owner)
    status, body = api.post("/orders", {"order_type": "repair", "customer_id": owner.pk, "machine_id": machine.pk,
                                        "symptom": "液压提升无力"}, token=net.token(net.agent))
    assert status == 201, body
    oid = body["id"]
    Actor(api, net, net.info_coordinator).ok(oid, "forward", hotline_technician_id=net.hotline_tech.pk)
    hotline = Actor(api, net, net.hotline_tech)
    hotline.ok(oid, "callback")
    proposed = ServiceOrder.objects.get(pk=oid).proposed_mode
    hotline.ok(oid, "confirm_mode", service_mode=proposed or "on_site", reason="")
    Actor(api, net, net.repair_coordinator).ok(oid, "dispatch", organization_id=org.pk,
                                                outside_coverage_reason="跨区支援")  # ignored inside the coverage
    return ServiceOrder.objects.get(pk=oid)


def _snapshot() -> tuple:
    return (ServiceOrder.objects.count(), OrderEvent.objects.count(), Customer.objects.count(), Machine.objects.count(),
            ServiceOrder.objects.aggregate(v=Sum("version"))["v"])


@pytest.fixture
def world(net, api):
    return {
        "AG-SD": _order_in(api, net, net.agency_shandong, "13912340001", "LX904-SD-9001", "山东省", "潍坊市", "寿光市"),
        "AG-HL": _order_in(api, net, net.agency_heilongjiang, "13912340002", "LX904-HL-9001", "黑龙江省", "佳木斯市", "桦南县"),
    }


def test_every_operation_for_every_persona_on_own_and_other_organization(net, api, world):
    ops = operations()
    assert len(ops) > 40 and any(a == "dispatch" for _, _, a in ops)
    cells = 0
    for persona in (None, *PERSONAS):
        user = getattr(net, persona) if persona else None
        token = net.token(user) if user else None
        partner_org = PARTNERS.get(persona)
        for side in ("own", "other"):
            # Own: the order dispatched to the partner's organization; the network sees both.
            key = partner_org if side == "own" else ("AG-HL" if partner_org == "AG-SD" else "AG-SD")
            order = world.get(key, world["AG-SD"])
            # A second token of the persona's own (or the admin's, for the anonymous caller) for DELETE
            # /tokens/{id}: revoking the one the persona calls with would end the matrix early.
            spare, _ = api_token_create(user=user or net.admin, name="spare")
            ids = {"order_id": order.pk, "customer_id": order.customer_id, "machine_id": order.machine_id,
                   "attachment_id": 1, "token_id": spare.pk, "user_id": user.pk if user else 1, "policy_id": 1}
            for method, path, action in ops:
                url = re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: str(action if m[1] == "action" else ids.get(m[1], 1)), path)
                before = _snapshot()
                call = getattr(api.client, method.lower())
                headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
                if method in ("GET", "DELETE"):
                    resp = call("/api/v1" + url, **headers)
                else:
                    body = {"version": order.version, "data": {}} if action else {}
                    resp = call("/api/v1" + url, data=json.dumps(body), content_type="application/json", **headers)
                status = resp.status_code
                # The request schema is checked before anything is looked up: a 422 for a malformed
                # body says nothing about the object, whoever asks.
                schema_error = status == 422 and resp.json().get("code") == "validation_error"
                where = (persona, side, method, url)
                cells += 1
                assert status < 500, where
                if user is None:
                    # The customer's public operations take the tracking token instead of an account;
                    # the portal's login is how a customer's phone gets its portal token.
                    assert status == 401 or "openapi" in url or "docs" in url or url.startswith(
                        ("/public/", "/portal/login/")), where
                elif url.startswith("/portal/") and not url.startswith("/portal/login/"):
                    # The customer portal takes a customer's portal token: no staff token opens it.
                    assert status == 401, where
                elif partner_org and SCOPED.search(path) and (side == "other" or partner_org not in world):
                    assert status == 404 or schema_error, (where, status)
                elif action and not (user.role_codes() & workflow.TRANSITIONS_BY_ACTION[action].roles):
                    assert status in (403, 404) or schema_error, (where, status)
                if status in (401, 403, 404) or schema_error:
                    assert _snapshot() == before, where
                order.refresh_from_db()
    assert cells > 2 * len(PERSONAS) * 40
