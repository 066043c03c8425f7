"""What an integrator needs of the order API beyond the flows (issue 11, item 6): the caller found by
the last digits, registered_by, check-in without an appointment, dispatch outside the coverage,
the order's totals, and the customer's own confirmation and rating by tracking token."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from aftersales.api import throttle
from aftersales.registry.models import Customer
from aftersales.service.models import OrderEvent, ServiceOrder
from tests.service.helpers import Actor, create, last_code, repair_body, shandong_farmer, state
from tests.support import make_customer

pytestmark = pytest.mark.django_db


def _tech_accepted(api, net, customer, machine, **body):
    status, order = create(api, net, repair_body(customer, machine, **body))
    assert status == 201, order
    oid = order["id"]
    Actor(api, net, net.info_coordinator).ok(oid, "forward", hotline_technician_id=net.hotline_tech.pk)
    hotline = Actor(api, net, net.hotline_tech)
    hotline.ok(oid, "callback")
    proposed = ServiceOrder.objects.get(pk=oid).proposed_mode
    hotline.ok(oid, "confirm_mode", service_mode="on_site", reason="" if proposed == "on_site" else "客户要求")
    Actor(api, net, net.repair_coordinator).ok(oid, "dispatch", organization_id=net.agency_shandong.pk)
    tech = Actor(api, net, net.agency_tech)
    tech.ok(oid, "accept")
    tech.ok(oid, "assign", technician_id=net.agency_tech.pk)
    tech.ok(oid, "tech_accept")
    return oid, tech


def test_intake_lookup_finds_the_caller_by_the_last_four_digits(net, api):
    """Rule: lookup by the last 4+ digits at intake; several matches are offered as candidates."""
    customer, _machine = shandong_farmer(phone="13912345678")
    token = net.token(net.agent)
    status, found = api.get("/intake/lookup", token=token, phone="5678")
    assert status == 200 and found["customer"]["id"] == customer.pk and found["machines"]
    make_customer("王二", "13700005678", province="山东省")
    status, found = api.get("/intake/lookup", token=token, phone="5678")
    assert status == 200 and found["customer"] is None
    assert {c["name"] for c in found["candidates"]} == {"刘大壮", "王二"}
    status, found = api.get("/intake/lookup", token=token, phone="139-1234-5678")
    assert found["customer"]["id"] == customer.pk and found["candidates"] == []
    status, body = api.get("/intake/lookup", token=token, phone="678")
    assert status == 422 and {e["field"] for e in body["errors"]} == {"phone"}


def test_customers_created_through_the_api_always_have_registered_by(net, api):
    """Rule: registered_by is set for every customer the API creates, the service center's too."""
    status, body = api.post("/customers", {"name": "赵六", "phones": ["13600001111"]}, token=net.token(net.agent))
    assert status == 201 and body["registered_by_id"] == net.service_center.pk
    from tests.support import make_model

    make_model()
    status, order = create(api, net, {"order_type": "repair", "new_customer": {"name": "钱七", "phones": ["13600002222"]},
                                      "new_machine": {"serial_number": "LX904-NEW-0001", "model_code": "LX904"},
                                      "symptom": "不能启动", "contact_phone": "13600002222"})
    assert status == 201, order
    assert Customer.objects.get(pk=order["customer_id"]).registered_by_id == net.service_center.pk


def test_check_in_without_an_appointment_is_recorded_as_unscheduled(net, api):
    """Rule: a technician may check in without an appointment; the event says unscheduled."""
    customer, machine = shandong_farmer()
    oid, tech = _tech_accepted(api, net, customer, machine)
    body = tech.ok(oid, "check_in")
    assert body["status"] == "in_service"
    event = OrderEvent.objects.filter(order_id=oid, action="check_in").get()
    assert event.data["unscheduled"] is True and event.data["late"] is False


def test_check_in_after_an_appointment_is_scheduled(net, api):
    customer, machine = shandong_farmer()
    oid, tech = _tech_accepted(api, net, customer, machine)
    tech.ok(oid, "schedule", appointment_at=(timezone.now() + timedelta(hours=1)).isoformat())
    tech.ok(oid, "check_in")
    assert OrderEvent.objects.get(order_id=oid, action="check_in").data["unscheduled"] is False


def test_check_in_and_check_out_store_the_shared_position_in_its_fields(net, api):
    """Issue 13: the browser's position is stored on the event (latitude, longitude, accuracy), read
    back by the timeline API; half a position or one off the globe is a 422 naming the field."""
    customer, machine = shandong_farmer()
    oid, tech = _tech_accepted(api, net, customer, machine)
    before = state(oid)
    status, body = tech(oid, "check_in", latitude="36.876543")
    assert status == 422 and "data.longitude" in {e["field"] for e in body["errors"]}
    status, body = tech(oid, "check_in", latitude="96.5", longitude="118.79")
    assert status == 422 and "data.latitude" in {e["field"] for e in body["errors"]}
    assert state(oid) == before
    tech.ok(oid, "check_in", latitude="36.876543", longitude="118.791234", accuracy_m=25)
    event = OrderEvent.objects.get(order_id=oid, action="check_in")
    assert (event.latitude, event.longitude, event.accuracy_m) == (Decimal("36.876543"), Decimal("118.791234"), 25)
    assert event.note == "" and "latitude" not in event.data
    tech.ok(oid, "record_service", fault_found="喷油嘴积碳", solution="清洗喷油嘴")
    tech.ok(oid, "check_out")  # not shared: no position, no failure
    status, events = api.get(f"/orders/{oid}/events", token=net.token(net.agency_tech))
    by_action = {e["action"]: e for e in events}
    assert (by_action["check_in"]["latitude"], by_action["check_in"]["accuracy_m"]) == ("36.876543", 25)
    assert by_action["check_out"]["latitude"] is None and by_action["check_out"]["longitude"] is None


def test_dispatch_outside_the_coverage_needs_a_reason_and_is_flagged(net, api):
    """Rule: a dispatch outside the target organization's coverage needs a reason and is flagged
    (event data and order field)."""
    customer, machine = shandong_farmer()  # 山东省潍坊市寿光市: the Heilongjiang agency does not cover it
    status, order = create(api, net, repair_body(customer, machine))
    oid = order["id"]
    Actor(api, net, net.info_coordinator).ok(oid, "forward", hotline_technician_id=net.hotline_tech.pk)
    hotline = Actor(api, net, net.hotline_tech)
    hotline.ok(oid, "callback")
    proposed = ServiceOrder.objects.get(pk=oid).proposed_mode
    hotline.ok(oid, "confirm_mode", service_mode="on_site", reason="" if proposed == "on_site" else "客户要求")
    coordinator = Actor(api, net, net.repair_coordinator)
    before = state(oid)
    status, body = coordinator(oid, "dispatch", organization_id=net.agency_heilongjiang.pk)
    assert status == 422 and [e["field"] for e in body["errors"]] == ["data.outside_coverage_reason"]
    assert "山东省" in body["errors"][0]["message"]
    assert state(oid) == before
    body = coordinator.ok(oid, "dispatch", organization_id=net.agency_heilongjiang.pk,
                          outside_coverage_reason="潍坊站停业整顿，由佳木斯站跨区支援")
    assert body["outside_coverage"] is True
    event = OrderEvent.objects.get(order_id=oid, action="dispatch")
    assert event.data["outside_coverage"] is True and "跨区支援" in event.data["outside_coverage_reason"]
    # Inside the coverage: no reason asked, no flag.
    customer2, machine2 = shandong_farmer(phone="13912340000", serial="LX904-SD-0002")
    oid2, _tech = _tech_accepted(api, net, customer2, machine2)
    assert ServiceOrder.objects.get(pk=oid2).outside_coverage is False
    assert "outside_coverage" not in OrderEvent.objects.get(order_id=oid2, action="dispatch").data


def test_the_order_answers_its_totals_of_parts_labour_travel_and_what_the_customer_pays(net, api):
    """Rule: totals of parts, labour, travel and what the customer pays are on the order."""
    customer, machine = shandong_farmer()
    oid, tech = _tech_accepted(api, net, customer, machine)
    assert api.get(f"/orders/{oid}", token=net.token(net.agent))[1]["totals"]["basis"] == "none"
    tech.ok(oid, "check_in")
    body = tech.ok(oid, "record_service", fault_found="喷油器堵塞", solution="清洗喷油器", parts=[
        {"part_number": "FL-2026", "name": "燃油滤芯", "quantity": "2", "unit_price": "85.00", "warranty": True},
        {"part_number": "OIL-15W40", "name": "机油", "quantity": "4", "unit_price": "30.50", "warranty": False}])
    totals = body["totals"]
    assert totals["basis"] == "service_record"
    assert (float(totals["parts"]), float(totals["warranty_covers"]), float(totals["customer_pays"])) == (292.0, 170.0, 122.0)
    assert float(totals["labour"]) == float(totals["travel"]) == 0


def test_paid_service_totals_come_from_the_accepted_quote_with_travel(net, api):
    customer, machine = shandong_farmer()
    oid, tech = _tech_accepted(api, net, customer, machine)
    tech.ok(oid, "quote", reason="过保修期", items=[
        {"kind": "part", "part_number": "FL-2026", "quantity": "1", "unit_price": "85"},
        {"kind": "labour", "description": "工时", "quantity": "2", "unit_price": "60"},
        {"kind": "travel", "description": "上门路费 40 公里", "quantity": "40", "unit_price": "1.5"}])
    body = tech.ok(oid, "quote_accept")
    totals = body["totals"]
    assert totals["basis"] == "accepted_quote"
    assert [float(totals[k]) for k in ("parts", "labour", "travel", "total", "customer_pays")] == [85, 120, 60, 265, 265]


def _awaiting_confirmation(api, net):
    customer, machine = shandong_farmer()
    oid, tech = _tech_accepted(api, net, customer, machine)
    tech.ok(oid, "check_in")
    tech.ok(oid, "record_service", fault_found="喷油器堵塞", solution="清洗喷油器")
    tech.ok(oid, "check_out")
    return ServiceOrder.objects.get(pk=oid)


def test_the_customer_confirms_and_rates_through_the_public_api_with_the_tracking_token(net, api, client):
    """Rule: customers confirm and rate through a public endpoint with their tracking token (no account)."""
    order = _awaiting_confirmation(api, net)
    status, seen = api.get(f"/public/orders/{order.tracking_token}")
    assert status == 200 and seen["may_confirm"] is True and seen["number"] == order.number
    assert "contact_phone" not in seen
    status, body = api.post(f"/public/orders/{order.tracking_token}/confirm", {"version": seen["version"], "code": "000000"})
    assert status == 422 and [e["field"] for e in body["errors"]] == ["code"]
    status, body = api.post(f"/public/orders/{order.tracking_token}/confirm",
                            {"version": seen["version"], "code": last_code(order.pk)})
    assert status == 200 and body["status"] == "completed" and body["may_rate"] is True
    event = OrderEvent.objects.get(order_id=order.pk, action="confirm")
    assert event.actor_id is None and event.data["by"] == "customer"
    status, body = api.post(f"/public/orders/{order.tracking_token}/rate",
                            {"version": body["version"], "score": 5, "comment": "很满意"})
    assert status == 200 and body["status"] == "closed" and body["rating"]["score"] == 5
    status, body = api.post(f"/public/orders/{order.tracking_token}/rate", {"version": body["version"], "score": 5})
    assert status == 409 and body["code"] == "invalid_transition"
    status, body = api.get("/public/orders/not-a-token")
    assert status == 404 and body["code"] == "not_found"


def test_the_public_api_is_rate_limited_per_client_address(net, api, monkeypatch):
    """Rule: the public endpoint is rate-limited (429 with Retry-After, in the one error shape)."""
    monkeypatch.setattr(throttle, "PUBLIC_LIMIT", 3)
    for _ in range(3):
        assert api.get("/public/orders/guess")[0] == 404
    resp = api.client.get("/api/v1/public/orders/guess")
    assert resp.status_code == 429 and int(resp["Retry-After"]) > 0
    body = resp.json()
    assert body["code"] == "throttled" and "频繁" in body["message"] and body["errors"] == []
