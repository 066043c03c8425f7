"""Rules that hold everywhere: the transition table, 404 vs 403, stale versions, scoping and
masking, attachments, lists and the OpenAPI document."""

import io
from datetime import timedelta

import pytest
from django.utils import timezone

from aftersales.service import services, workflow
from aftersales.service.schemas import ACTION_DATA
from aftersales.service.models import (
    Complaint,
    OrderEvent,
    OrderStatus,
    OrderType,
    ReturnRequest,
    ServiceOrder,
)
from tests.service.helpers import Actor, create, png_bytes, repair_body, shandong_farmer, state, upload
from tests.support import make_user

pytestmark = pytest.mark.django_db

ALL_STATUSES = list(OrderStatus.values)


def _type_for(t: workflow.Transition) -> tuple[str, str]:
    """An order type (and return kind) that the action's guard accepts."""
    name = getattr(t.guard, "__name__", "")
    if "consultation" in name:
        return OrderType.CONSULTATION, ""
    if "complaint" in name:
        return OrderType.COMPLAINT, ""
    if "return_kind_is_return" in name:
        return OrderType.RETURN_EXCHANGE, "return"
    if "return" in name:
        return OrderType.RETURN_EXCHANGE, "exchange"
    return OrderType.REPAIR, ""


def _order(net, t: workflow.Transition, status: str) -> ServiceOrder:
    """An order in ``status`` with every persona in place: owner, hotline technician, agency, technician."""
    customer, machine = shandong_farmer()
    order_type, kind = _type_for(t)
    order = ServiceOrder.objects.create(
        number=f"FWTEST-{ServiceOrder.objects.count() + 1:05d}", order_type=order_type, status=status,
        customer=customer, machine=machine, contact_phone="+8613912345678", symptom="冒黑烟",
        service_level="standard", service_mode="on_site", proposed_mode="on_site",
        owning_org=net.service_center, owner=net.agent, hotline_technician=net.hotline_tech,
        assigned_org=net.agency_shandong, assigned_technician=net.agency_tech,
    )
    if order_type == OrderType.COMPLAINT:
        Complaint.objects.create(order=order, category="delay", severity="low", supervisor=net.supervisor)
    if order_type == OrderType.RETURN_EXCHANGE:
        ReturnRequest.objects.create(order=order, kind=kind)
    return order


def _personas(net):
    return [net.agent, net.info_coordinator, net.hotline_tech, net.repair_coordinator, net.engineer,
            net.supervisor, net.agency_tech]


def _permitted(net, order, t):
    return next((u for u in _personas(net) if workflow.may_take(u, order, t)), None)


def test_the_table_is_complete():
    services_named = {name[len("order_"):] for name in dir(services) if name.startswith("order_")}
    for t in workflow.TRANSITIONS:
        assert t.action in services_named, f"no service function order_{t.action}"
        assert t.action in ACTION_DATA
        assert t.roles and t.sources <= set(ALL_STATUSES)
        assert t.target in (None, workflow.RESUME, *ALL_STATUSES)
        assert not t.sources & {OrderStatus.CLOSED, OrderStatus.CANCELLED}, "final statuses are final"
    reached = {t.target for t in workflow.TRANSITIONS} | {OrderStatus.NEW, OrderStatus.AWAITING_APPROVAL}
    assert set(ALL_STATUSES) <= reached, "every status is reachable"


@pytest.mark.parametrize("action", [t.action for t in workflow.TRANSITIONS])
def test_every_action_is_refused_from_every_status_it_does_not_start_from(net, api, action):
    t = workflow.TRANSITIONS_BY_ACTION[action]
    order = _order(net, t, OrderStatus.NEW)
    checked = 0
    for status in ALL_STATUSES:
        if status in t.sources:
            continue
        ServiceOrder.objects.filter(pk=order.pk).update(status=status)
        order.refresh_from_db()
        user = _permitted(net, order, t)
        assert user is not None, f"{action}: nobody may take it at all"
        before = state(order.pk)
        code, body = Actor(api, net, user)(order.pk, action)
        assert (code, body["code"]) == (409, "invalid_transition"), (action, status, code, body)
        assert body["current"]["status"] == status
        assert state(order.pk) == before, (action, status)
        assert action not in {a["action"] for a in api.get(f"/orders/{order.pk}/actions", token=net.token(user))[1]}
        checked += 1
    assert checked == len(ALL_STATUSES) - len(t.sources)


@pytest.mark.parametrize("action", [t.action for t in workflow.TRANSITIONS])
def test_every_action_is_forbidden_to_those_who_see_the_order_but_may_not_take_it(net, api, action):
    t = workflow.TRANSITIONS_BY_ACTION[action]
    order = _order(net, t, sorted(t.sources)[0])
    denied = [u for u in _personas(net) if not workflow.may_take(u, order, t)]
    assert denied, f"{action} is open to everyone"
    for user in denied:
        before = state(order.pk)
        code, body = Actor(api, net, user)(order.pk, action)
        assert (code, body["code"]) == (403, "forbidden"), (action, user.username, code, body)
        assert state(order.pk) == before
    # another organization does not see the order at all: 404, never 403
    for outsider in (net.other_agency_tech, net.branch_tech, net.dealer_clerk):
        before = state(order.pk)
        code, body = Actor(api, net, outsider)(order.pk, action)
        assert (code, body["code"]) == (404, "not_found"), (action, outsider.username)
        assert state(order.pk) == before


def test_only_the_assigned_technician_takes_the_technicians_actions(net, api):
    colleague = make_user("colleague", net.agency_shandong, "field_technician", skills=["tractor"])
    order = _order(net, workflow.TRANSITIONS_BY_ACTION["tech_accept"], OrderStatus.ASSIGNED)
    before = state(order.pk)
    assert Actor(api, net, colleague)(order.pk, "tech_accept")[0] == 403
    assert state(order.pk) == before
    assert Actor(api, net, net.agency_tech)(order.pk, "tech_accept")[0] == 200


def test_a_stale_version_is_refused_and_changes_nothing(net, api):
    customer, machine = shandong_farmer()
    _, order = create(api, net, repair_body(customer, machine))
    oid, version = order["id"], order["version"]
    first = Actor(api, net, net.info_coordinator)(oid, "forward", version=version)
    assert first[0] == 200 and first[1]["version"] == version + 1
    before = state(oid)
    code, body = Actor(api, net, net.agent)(oid, "cancel", version=version, reason="客户取消")
    assert (code, body["code"]) == (409, "stale_version")
    assert body["current"] == {"id": oid, "number": order["number"], "status": "forwarded", "version": version + 1}
    assert state(oid) == before


def test_unknown_action_is_404_and_invalid_data_is_422_with_field_errors(net, api):
    customer, machine = shandong_farmer()
    _, order = create(api, net, repair_body(customer, machine))
    oid = order["id"]
    before = state(oid)
    code, body = Actor(api, net, net.agent)(oid, "delete")
    assert (code, body["code"]) == (404, "unknown_action")
    code, body = api.post(f"/orders/{oid}/actions/forward", {"data": {}}, token=net.token(net.info_coordinator))
    assert code == 422 and {e["field"] for e in body["errors"]} == {"version"}
    code, body = Actor(api, net, net.info_coordinator)(oid, "forward", hotline_technician_id=net.agent.pk)
    assert code == 422 and body["errors"] == [{"field": "data.hotline_technician_id", "message": body["errors"][0]["message"]}]
    assert state(oid) == before


def test_invalid_intake_answers_every_field_error_and_saves_nothing(net, api):
    customer, _machine = shandong_farmer()
    code, body = create(api, net, {"order_type": "repair", "customer_id": customer.pk, "channel": "pigeon",
                                   "urgency": "now", "contact_phone": "12345"})
    assert code == 422 and body["code"] == "validation_error"
    assert {e["field"] for e in body["errors"]} == {"channel", "urgency", "contact_phone", "symptom", "machine_id"}
    assert ServiceOrder.objects.count() == 0 and OrderEvent.objects.count() == 0


def test_roles_that_do_not_take_requests_may_not_create_orders(net, api):
    customer, machine = shandong_farmer()
    code, body = create(api, net, repair_body(customer, machine), user=net.agency_tech)
    assert (code, body["code"]) == (403, "forbidden")
    assert ServiceOrder.objects.count() == 0


def test_visibility_agency_dealer_and_centres(net, api):
    customer, machine = shandong_farmer()
    _, ours = create(api, net, repair_body(customer, machine))
    from tests.support import make_customer, make_machine

    henan = make_customer("周口农户", "13622223333", registered_by=net.dealer_henan, province="河南省", city="周口市")
    henan_machine = make_machine("LX904-HA-1", henan, dealer=net.dealer_henan)
    _, dealers = create(api, net, repair_body(henan, henan_machine), user=net.dealer_clerk)
    assert dealers["owning_org_id"] == net.dealer_henan.pk and dealers["contact_phone_masked"] is False
    ServiceOrder.objects.filter(pk=ours["id"]).update(assigned_org=net.agency_shandong, status="dispatched")

    def ids(user, **params):
        code, page = api.get("/orders", token=net.token(user), **params)
        assert code == 200
        return {o["id"] for o in page["items"]}

    assert ids(net.agent) == ids(net.engineer) == {ours["id"], dealers["id"]}
    assert ids(net.dealer_clerk) == {dealers["id"]}
    assert ids(net.agency_tech) == {ours["id"]}
    assert ids(net.other_agency_tech) == set()
    assert api.get(f"/orders/{dealers['id']}/events", token=net.token(net.agency_tech))[0] == 404
    # the agency now sees the customer of the order dispatched to it, with the full number while open
    code, seen = api.get(f"/customers/{customer.pk}", token=net.token(net.agency_tech))
    assert code == 200 and seen["phones"][0]["masked"] is False
    ServiceOrder.objects.filter(pk=ours["id"]).update(status="closed")
    code, seen = api.get(f"/customers/{customer.pk}", token=net.token(net.agency_tech))
    assert seen["phones"][0]["masked"] is True
    assert api.get(f"/customers/{customer.pk}", token=net.token(net.other_agency_tech))[0] == 404


def test_list_filters_and_pages_without_n_plus_one(net, api, django_assert_max_num_queries):
    from tests.support import make_customer, make_machine

    for i in range(12):
        owner = make_customer(f"客户{i}", f"1390000{i:04d}", province="山东省", city="潍坊市")
        machine = make_machine(f"SN-{i:03d}", owner)
        code, _ = create(api, net, repair_body(owner, machine, urgency="critical" if i % 3 == 0 else "normal",
                                               symptom=f"故障{i}"))
        assert code == 201
    late = ServiceOrder.objects.order_by("id")[0]
    ServiceOrder.objects.filter(pk=late.pk).update(promised_at=timezone.now() - timedelta(hours=1))
    ServiceOrder.objects.filter(pk=ServiceOrder.objects.order_by("id")[1].pk).update(
        status="dispatched", assigned_org=net.agency_shandong, assigned_technician=net.agency_tech)
    token = net.token(net.agent)
    with django_assert_max_num_queries(8):
        code, page = api.get("/orders", token=token, page=1)
    assert code == 200 and page["count"] == 12 and len(page["items"]) == 12
    assert {o["id"] for o in api.get("/orders", token=token, overdue="true")[1]["items"]} == {late.pk}
    assert api.get("/orders", token=token, level="emergency")[1]["count"] == 4
    assert api.get("/orders", token=token, status="dispatched,new")[1]["count"] == 12
    assert api.get("/orders", token=token, technician=net.agency_tech.pk)[1]["count"] == 1
    assert api.get("/orders", token=token, organization=net.agency_shandong.pk)[1]["count"] == 1
    assert api.get("/orders", token=token, customer=late.customer_id)[1]["count"] == 1
    assert api.get("/orders", token=token, machine=late.machine_id)[1]["count"] == 1
    assert api.get("/orders", token=token, mode="on_site", order_type="repair")[1]["count"] == 12
    tomorrow = (timezone.now() + timedelta(days=1)).isoformat()
    assert api.get("/orders", token=token, created_from=tomorrow)[1]["count"] == 0


def test_attachments_are_checked_by_content_and_downloaded_safely(net, api):
    customer, machine = shandong_farmer()
    _, order = create(api, net, repair_body(customer, machine))
    oid = order["id"]
    before = state(oid)
    code, body = upload(api, net, net.agent, oid, b"<script>alert(1)</script>", name="evil.png")
    assert code == 422 and body["errors"][0]["field"] == "file"
    code, body = upload(api, net, net.agent, oid, b"%PDF-1.7\n...", name="invoice.pdf", kind="photo")
    assert code == 422  # a PDF is not a photo
    code, body = upload(api, net, net.agent, oid, b"\xff\xd8\xff" + b"0" * (10 * 1024 * 1024), name="big.jpg")
    assert code in (413, 422)
    assert state(oid) == before
    code, pdf = upload(api, net, net.agent, oid, b"%PDF-1.7\n%%EOF", name="../../发票.pdf", kind="document")
    assert code == 201 and pdf["content_type"] == "application/pdf" and "/" not in pdf["original_name"]
    code, photo = upload(api, net, net.agent, oid, png_bytes(), name="现场.jpg")  # wrong name, right content
    assert code == 201 and photo["content_type"] == "image/png"

    resp = api.client.get(f"/api/v1/orders/{oid}/attachments/{pdf['id']}", HTTP_AUTHORIZATION=f"Bearer {net.token(net.agent)}")
    assert resp.status_code == 200
    assert resp["Content-Disposition"].startswith("attachment;")
    assert resp["X-Content-Type-Options"] == "nosniff" and resp["Content-Type"] == "application/pdf"
    assert b"".join(resp.streaming_content) == b"%PDF-1.7\n%%EOF"
    other = api.client.get(f"/api/v1/orders/{oid}/attachments/{pdf['id']}",
                           HTTP_AUTHORIZATION=f"Bearer {net.token(net.other_agency_tech)}")
    assert other.status_code == 404
    assert [a["id"] for a in api.get(f"/orders/{oid}/attachments", token=net.token(net.agent))[1]] == [pdf["id"], photo["id"]]
    assert OrderEvent.objects.filter(order_id=oid, action="attach").count() == 2
    assert ServiceOrder.objects.get(pk=oid).version == order["version"]  # files do not bump the version


def test_openapi_lists_every_service_operation_with_its_errors(db, client):
    doc = client.get("/api/v1/openapi.json").json()
    ops = {(path, method): op for path, item in doc["paths"].items() for method, op in item.items()
           if path.startswith("/api/v1/orders") or path.startswith("/api/v1/escalations")
           or path.startswith("/api/v1/complaints") or path.startswith("/api/v1/intake")}
    assert len(ops) >= 14
    for (path, method), op in ops.items():
        assert {"401", "403", "404", "422"} <= set(op["responses"]), (path, method)
        if method == "post" and not path.endswith("/proposal"):  # the proposal writes nothing
            assert "409" in op["responses"], (path, method)
    action = doc["paths"]["/api/v1/orders/{order_id}/actions/dispatch"]["post"]
    assert action["responses"]["409"]["content"]["application/json"]["schema"]
    assert action["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/DispatchActionIn")
    assert "Idempotency-Key" in {p["name"] for p in doc["paths"]["/api/v1/orders"]["post"]["parameters"]}
