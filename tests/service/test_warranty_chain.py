"""The 2010 regime's repair → repair → main-part replacement → exchange → return sequence
(农业机械产品修理、更换、退货责任规定, 令第126号) for a stored machine, through the API only, as an
integrator would run it: every repair order is evaluated with the machine's own record at intake,
the service record says per part line what was repaired or replaced, the exchange is recorded with
its fault, and the new machine's warranty restarts from the exchange.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import timezone

from aftersales.registry.models import Machine, MachineExchange
from aftersales.service.models import OrderEvent, ReturnRequest, ServiceOrder
from tests.service.helpers import Actor, create, last_code, repair_body, shandong_farmer, state
from tests.service.test_flows import _to_tech_accepted


@pytest.fixture
def farmer(net):
    return shandong_farmer()


def _intake(api, net, customer, machine, **body) -> dict:
    status, order = create(api, net, repair_body(customer, machine, fault_component="gearbox", fault_serious=True,
                                                 symptom="变速箱三挡脱挡，异响", duplicate_reason="同一部件再次故障", **body))
    assert status == 201, order
    return order


def _serve(api, net, order_id: int, action: str) -> dict:
    """Carry a repair order through dispatch to the customer's confirmation, recording the gearbox
    as repaired or replaced on the service record's part line."""
    _to_tech_accepted(api, net, order_id)
    tech = Actor(api, net, net.agency_tech)
    tech.ok(order_id, "schedule", appointment_at=timezone.now().isoformat())
    tech.ok(order_id, "check_in")
    body = tech.ok(order_id, "record_service", fault_found="变速箱三挡拨叉磨损", solution="处理变速箱", component="gearbox",
                   serious=True, parts=[{"part_number": "LX904-17-001", "name": "变速箱总成" if action == "replaced" else "拨叉",
                                         "quantity": 1, "component": "gearbox", "action": action, "serious": True}])
    tech.ok(order_id, "check_out")
    tech.ok(order_id, "confirm", code=last_code(order_id))
    return body


def _evaluate(api, net, machine_id: int) -> dict:
    status, body = api.post("/warranty/evaluate", {"machine_id": machine_id,
                                                   "fault": {"component": "gearbox", "serious": True}},
                            token=net.token(net.agent))
    assert status == 200, body
    return body


def test_2010_regime_repair_repair_replacement_exchange_return_sequence_for_a_stored_machine(net, api, farmer):
    customer, machine = farmer
    engineer = Actor(api, net, net.engineer)

    # 1st and 2nd serious gearbox faults: free repair.
    for n in range(2):
        order = _intake(api, net, customer, machine)
        assert order["warranty"]["remedy"] == "repair", (n, order["warranty"]["reasons"])
        body = _serve(api, net, order["id"], "repaired")
        assert body["service_record"]["parts"][0]["action"] == "repaired"

    # 3rd: the same serious fault repaired twice recurs within the period -> main-part replacement
    # (CN2010-MainPartReplacement); the order proposes exactly what /warranty/evaluate answers.
    order = _intake(api, net, customer, machine)
    assert order["warranty"]["remedy"] == "main_part_replacement", order["warranty"]["reasons"]
    assert "CN2010-MainPartReplacement" in {r["rule"] for r in order["warranty"]["reasons"]}
    assert _evaluate(api, net, machine.pk)["remedy"] == "main_part_replacement"
    body = _serve(api, net, order["id"], "replaced")
    line = body["service_record"]["parts"][0]
    assert (line["component"], line["action"], line["serious"]) == ("gearbox", "replaced", True)

    status, history = api.get(f"/warranty/machines/{machine.pk}/history", token=net.token(net.agent))
    assert status == 200, history
    assert [(h["component"], h["kind"], h["serious"]) for h in history] == [
        ("gearbox", "repair", True), ("gearbox", "repair", True), ("gearbox", "main_part_replacement", True)]
    assert all(h["finished"] is not None for h in history)

    # 4th: recurs after the main part was replaced -> whole-machine exchange (CN2010-Exchange), no
    # longer "main-part replacement" again.
    order = _intake(api, net, customer, machine)
    assert order["warranty"]["remedy"] == "exchange", order["warranty"]["reasons"]
    assert "exchange_after_replacement" in {r["code"] for r in order["warranty"]["reasons"]}
    assert _evaluate(api, net, machine.pk)["remedy"] == "exchange"
    # The repair order still open is in the record with its intake date (it extends the periods).
    status, history = api.get(f"/warranty/machines/{machine.pk}/history", token=net.token(net.agent))
    assert history[-1] == {"component": "whole_machine", "started": timezone.localdate().isoformat(), "finished": None,
                           "serious": False, "kind": "repair", "under_warranty": True, "workshop": False}
    Actor(api, net, net.agent).ok(order["id"], "cancel", reason="转为换机申请")

    # The customer asks for the exchange: the engine finds it eligible, so no override is needed.
    status, request = create(api, net, {"order_type": "return_exchange", "customer_id": customer.pk,
                                        "machine_id": machine.pk, "return_kind": "exchange", "symptom": "变速箱更换后仍脱挡",
                                        "fault_component": "gearbox", "fault_serious": True})
    assert status == 201, request
    assert request["return_request"]["eligible"] is True and request["warranty"]["remedy"] == "exchange"
    body = engineer.ok(request["id"], "approve_return", reason="主要部件更换后同一故障再次出现，予以换机")
    assert body["return_request"]["decision"] == "approved"
    event = OrderEvent.objects.filter(order_id=request["id"], action="approve_return").get()
    assert event.data["eligible"] is True and "override" not in event.data
    body = engineer.ok(request["id"], "complete_exchange", new_serial_number="LX904-SD-0099")
    assert body["status"] == "completed"

    exchange = MachineExchange.objects.get(machine=machine)
    assert (exchange.kind, exchange.component, exchange.serious) == ("exchange", "gearbox", True)
    new = Machine.objects.get(serial_number="LX904-SD-0099")
    assert exchange.replacement == new and new.owner_id == customer.pk

    # The new machine: its record starts with the exchange and its warranty restarts from that day.
    today = timezone.localdate()
    status, history = api.get(f"/warranty/machines/{new.pk}/history", token=net.token(net.agent))
    assert [(h["component"], h["kind"], h["started"]) for h in history] == [("gearbox", "exchange", today.isoformat())]
    evaluation = _evaluate(api, net, new.pk)
    whole = evaluation["coverage"]["whole_machine"]
    assert whole["state"] == "covered" and whole["start"] == today.isoformat()
    assert date.fromisoformat(whole["end"]) >= date(today.year + 1, today.month, min(today.day, 28))
    assert "restart_after_exchange" in {r["code"] for r in evaluation["reasons"]}
    # ... and the same fault after the exchange is a return (CN2010-Return).
    assert evaluation["remedy"] == "return"
    order = _intake(api, net, customer, new)
    assert order["warranty"]["remedy"] == "return" and order["warranty"]["status"] == "covered"


def test_approving_an_exchange_the_engine_did_not_find_eligible_needs_the_technical_centres_override(net, api, farmer):
    customer, machine = farmer
    status, order = create(api, net, {"order_type": "return_exchange", "customer_id": customer.pk,
                                      "machine_id": machine.pk, "return_kind": "exchange", "symptom": "要求换机",
                                      "fault_component": "gearbox"})
    assert status == 201, order
    oid = order["id"]
    assert order["return_request"]["eligible"] is False and order["return_request"]["eligibility"]["remedy"] == "repair"

    engineer = Actor(api, net, net.engineer)
    before = state(oid)
    status, body = engineer(oid, "approve_return", reason="客户要求")
    assert status == 422, body
    assert body["errors"][0]["field"] == "data.override" and "repair" in body["errors"][0]["message"]
    assert state(oid) == before
    status, body = engineer(oid, "approve_return", reason="", override=True)
    assert status == 422 and body["errors"][0]["field"] == "data.reason"
    assert Actor(api, net, net.agent)(oid, "approve_return", reason="x", override=True)[0] == 403

    body = engineer.ok(oid, "approve_return", reason="用户为种粮大户，经技术中心研究特批换机", override=True)
    assert body["status"] == "in_service" and body["return_request"]["decision"] == "approved"
    event = OrderEvent.objects.filter(order_id=oid, action="approve_return").get()
    assert event.actor == net.engineer
    assert event.data == {"decision": "approved", "reason": "用户为种粮大户，经技术中心研究特批换机", "eligible": False,
                          "remedy": "repair", "override": True}
    assert ReturnRequest.objects.get(order_id=oid).overridden is True


def test_a_new_repair_order_is_evaluated_with_the_machines_fault_history(net, api, farmer):
    customer, machine = farmer
    for _ in range(2):
        _serve(api, net, _intake(api, net, customer, machine)["id"], "repaired")
    order = _intake(api, net, customer, machine)
    stored = ServiceOrder.objects.get(pk=order["id"])
    assert stored.warranty_remedy == "main_part_replacement" == _evaluate(api, net, machine.pk)["remedy"]
    # A fault in another component is not the same problem: a repair.
    status, other = create(api, net, repair_body(customer, machine, fault_component="hydraulic_lift",
                                                 duplicate_reason="另一个部件"))
    assert status == 201 and other["warranty"]["remedy"] == "repair"


def test_service_record_part_lines_name_known_components(net, api, farmer):
    customer, machine = farmer
    order = _intake(api, net, customer, machine)
    _to_tech_accepted(api, net, order["id"])
    tech = Actor(api, net, net.agency_tech)
    tech.ok(order["id"], "schedule", appointment_at=timezone.now().isoformat())
    tech.ok(order["id"], "check_in")
    before = state(order["id"])
    status, body = tech(order["id"], "record_service", fault_found="变速箱异响", solution="更换",
                        parts=[{"part_number": "X1", "quantity": 1, "component": "gear_box", "action": "replaced"}])
    assert status == 422, body
    error = {e["field"]: e["message"] for e in body["errors"]}
    assert "gearbox" in error["data.parts[0].component"] and "gear_box" in error["data.parts[0].component"]
    status, body = tech(order["id"], "record_service", fault_found="变速箱异响", solution="更换",
                        parts=[{"part_number": "X1", "quantity": 1, "component": "gearbox", "action": "swapped"}])
    assert status == 422, body
    status, body = tech(order["id"], "record_service", fault_found="x", solution="y",
                        parts=[{"part_number": "X1", "quantity": 1, "component": "g" * 100_000}])
    assert status == 422 and len(str(body)) < 5000
    assert state(order["id"]) == before
    # A line without a component is about the record's component, as serious as the record says.
    body = tech.ok(order["id"], "record_service", fault_found="变速箱异响", solution="更换拨叉", component="gearbox",
                   serious=True, parts=[{"part_number": "X1", "quantity": 2}])
    line = body["service_record"]["parts"][0]
    assert (line["component"], line["action"], line["serious"], line["quantity"]) == ("gearbox", "repaired", True, "2.00")
