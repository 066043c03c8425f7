"""Each flow of the seed end to end through the API, with the named personas."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from aftersales.notify.models import OutboxMessage
from aftersales.registry.models import Machine, MachineExchange
from aftersales.service.models import Complaint, Escalation, OrderEvent, Rating, ServiceOrder, ServiceRecord
from tests.service.helpers import Actor, create, last_code, png_bytes, repair_body, shandong_farmer, state, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def farmer(net):
    return shandong_farmer()


def _to_awaiting_dispatch(api, net, order_id, mode="on_site"):
    Actor(api, net, net.info_coordinator).ok(order_id, "forward", hotline_technician_id=net.hotline_tech.pk)
    hotline = Actor(api, net, net.hotline_tech)
    hotline.ok(order_id, "callback")
    hotline.ok(order_id, "diagnose", steps=["询问启动过程", "检查燃油滤清器"])
    proposed = ServiceOrder.objects.get(pk=order_id).proposed_mode
    return hotline.ok(order_id, "confirm_mode", service_mode=mode, reason="" if mode == proposed else "客户要求")


def _to_tech_accepted(api, net, order_id, mode="on_site"):
    _to_awaiting_dispatch(api, net, order_id, mode)
    Actor(api, net, net.repair_coordinator).ok(order_id, "dispatch", organization_id=net.agency_shandong.pk)
    tech = Actor(api, net, net.agency_tech)
    tech.ok(order_id, "accept")
    tech.ok(order_id, "assign", technician_id=net.agency_tech.pk)
    return tech.ok(order_id, "tech_accept")


def _checked_in(api, net, customer, machine, **body):
    """A new repair order carried to on-site service by the Shandong agency's technician."""
    status, order = create(api, net, repair_body(customer, machine, **body))
    assert status == 201, order
    oid = order["id"]
    _to_tech_accepted(api, net, oid)
    tech = Actor(api, net, net.agency_tech)
    tech.ok(oid, "schedule", appointment_at=(timezone.now() + timedelta(hours=2)).isoformat())
    tech.ok(oid, "check_in")
    return oid, tech


def _dispatched_with_technician(api, net, customer, machine) -> int:
    """An order dispatched to the Shandong agency with the coordinator's choice of technician."""
    _, order = create(api, net, repair_body(customer, machine))
    _to_awaiting_dispatch(api, net, order["id"])
    Actor(api, net, net.repair_coordinator).ok(order["id"], "dispatch", organization_id=net.agency_shandong.pk,
                                                 technician_id=net.agency_tech.pk)
    return order["id"]


def test_hotline_intake_finds_the_caller_and_proposes_level_and_mode(net, api, farmer):
    customer, machine = farmer
    token = net.token(net.agent)
    status, found = api.get("/intake/lookup", token=token, phone="139-1234-5678")
    assert status == 200 and found["customer"]["id"] == customer.pk
    assert [m["id"] for m in found["machines"]] == [machine.pk] and found["open_orders"] == []

    status, proposal = api.post("/orders/proposal", {"customer_id": customer.pk, "machine_id": machine.pk}, token=token)
    assert status == 200
    assert proposal["service_level"] == "standard"
    assert proposal["service_mode"] == "on_site"
    assert proposal["warranty"]["coverage"]["whole_machine"]["state"] == "covered"

    status, order = create(api, net, repair_body(customer, machine))
    assert status == 201, order
    assert order["number"].startswith("FW" + timezone.localdate().strftime("%Y%m%d") + "-")
    assert order["status"] == "new" and order["version"] == 1
    assert order["service_level"] == "standard" and order["service_mode"] == "on_site"
    assert order["warranty"]["status"] == "covered" and order["warranty"]["policy_version"] >= 1
    assert order["warranty"]["reasons"], "the reasons are stored with the order"
    assert order["owner_id"] == net.agent.pk and order["owning_org_id"] == net.service_center.pk
    assert order["contact_phone_masked"] is False
    sms = OutboxMessage.objects.get(order_id=order["id"], template="order_created")
    assert sms.context["number"] == order["number"] and sms.recipient == "+8613912345678"
    [event] = OrderEvent.objects.filter(order_id=order["id"])
    assert (event.action, event.from_status, event.to_status, event.actor_id) == ("create", "", "new", net.agent.pk)


def test_agent_overrides_the_proposal_only_with_a_reason(net, api, farmer):
    customer, machine = farmer
    status, body = create(api, net, repair_body(customer, machine, service_level="emergency"))
    assert status == 422 and body["errors"][0]["field"] == "override_reason"
    assert ServiceOrder.objects.count() == 0
    status, order = create(api, net, repair_body(customer, machine, service_level="emergency", override_reason="麦收抢收，整机停在地里"))
    assert status == 201
    assert (order["service_level"], order["proposed_level"]) == ("emergency", "standard")
    data = OrderEvent.objects.get(order_id=order["id"], action="create").data
    assert data["overridden"] == {"service_level": {"proposed": "standard", "chosen": "emergency"}}
    assert data["override_reason"] == "麦收抢收，整机停在地里"


def test_new_caller_is_recorded_with_customer_and_machine_in_one_call(net, api):
    from tests.support import make_model

    make_model()
    status, order = create(api, net, {
        "order_type": "repair", "symptom": "液压提升无力",
        "new_customer": {"name": "新客户", "phones": ["13700001234"], "province": "河南省", "city": "周口市"},
        "new_machine": {"serial_number": "lx904-new-1", "model_code": "LX904", "invoice_date": "2026-05-01"},
    })
    assert status == 201, order
    machine = Machine.objects.get(pk=order["machine_id"])
    assert machine.serial_number == "LX904-NEW-1" and machine.owner_id == order["customer_id"]
    assert order["contact_phone"] == "137 0000 1234"


def test_consultation_is_answered_and_closed_at_once(net, api, farmer):
    customer, _machine = farmer
    status, order = create(api, net, {
        "order_type": "consultation", "customer_id": customer.pk, "symptom": "LX904 能配几铧犁？",
        "answer": "LX904 推荐配 3 铧犁，土质黏重时用 2 铧。",
    })
    assert status == 201, order
    assert order["status"] == "closed" and order["answer"].startswith("LX904")
    assert order["service_mode"] == "phone" and order["machine_id"] is None
    assert [e.action for e in OrderEvent.objects.filter(order_id=order["id"]).order_by("seq")] == ["create", "answer"]
    assert order["actions"] == []


def test_on_site_repair_by_an_authorized_agency_end_to_end(net, api, farmer):
    customer, machine = farmer
    _, order = create(api, net, repair_body(customer, machine))
    oid = order["id"]
    _to_awaiting_dispatch(api, net, oid)
    coordinator = Actor(api, net, net.repair_coordinator)

    status, suggestions = api.get(f"/orders/{oid}/dispatch-suggestions", token=net.token(net.repair_coordinator))
    assert status == 200
    # Shandong agency covers 潍坊市; the Heilongjiang agency and the Henan branch do not.
    assert [s["code"] for s in suggestions] == ["AG-SD"]

    # before dispatch the agency does not see the order at all
    assert api.get(f"/orders/{oid}", token=net.token(net.agency_tech))[0] == 404
    body = coordinator.ok(oid, "dispatch", organization_id=net.agency_shandong.pk)
    assert body["status"] == "dispatched" and body["assigned_org_id"] == net.agency_shandong.pk
    sms = OutboxMessage.objects.get(order_id=oid, template="order_dispatched")
    assert sms.context["organization"] == net.agency_shandong.name

    tech = Actor(api, net, net.agency_tech)
    status, seen = api.get(f"/orders/{oid}", token=net.token(net.agency_tech))
    assert status == 200 and seen["contact_phone_masked"] is False  # assigned and open: the full number
    assert {a["action"] for a in seen["actions"]} == {"accept", "reject"}
    tech.ok(oid, "accept")
    tech.ok(oid, "assign", technician_id=net.agency_tech.pk)
    tech.ok(oid, "tech_accept")
    appointment = (timezone.now() + timedelta(hours=4)).replace(microsecond=0)
    body = tech.ok(oid, "schedule", appointment_at=appointment.isoformat())
    assert body["status"] == "scheduled" and body["promised_at"] is not None
    tech.ok(oid, "check_in")

    status, photo = upload(api, net, net.agency_tech, oid, png_bytes(), name="油滤.png")
    assert status == 201, photo
    body = tech.ok(oid, "record_service", fault_found="燃油滤清器堵塞", cause="燃油含水", solution="更换燃油滤清器，排放油水分离器",
                   diagnosis_steps=["检查油路", "拆检滤芯"], labour_hours="1.5", hours_meter="356.0",
                   parts=[{"part_number": "1000428205", "name": "燃油滤清器", "quantity": 1, "warranty": True}],
                   photo_ids=[photo["id"]])
    assert body["service_record"]["parts"][0]["part_number"] == "1000428205"
    assert machine.hours_readings.get().hours == Decimal("356.0")

    body = tech.ok(oid, "check_out")
    assert body["status"] == "awaiting_confirmation"
    code = last_code(oid)
    assert len(code) == 6 and code.isdigit()
    assert code not in str(ServiceOrder.objects.filter(pk=oid).values().get())  # only a hash is stored
    status, wrong = tech(oid, "confirm", code="000000" if code != "000000" else "111111")
    assert status == 422 and wrong["errors"][0]["field"] == "data.code"
    body = tech.ok(oid, "confirm", code=code)
    assert body["status"] == "completed" and body["completed_at"]
    assert OutboxMessage.objects.filter(order_id=oid, template="order_completed").exists()

    body = Actor(api, net, net.agent).ok(oid, "rate", score=5, comment="师傅来得快")
    assert body["status"] == "closed" and body["rating"]["score"] == 5
    # closed: the agency reads a masked number again
    status, seen = api.get(f"/orders/{oid}", token=net.token(net.agency_tech))
    assert seen["contact_phone_masked"] is True and seen["contact_phone"] == "139****5678"
    actions = [e["action"] for e in api.get(f"/orders/{oid}/events", token=net.token(net.agent))[1]]
    assert actions == ["create", "forward", "callback", "diagnose", "confirm_mode", "dispatch", "accept", "assign",
                       "tech_accept", "schedule", "promise_change", "check_in", "attach", "record_service", "check_out",
                       "confirm", "rate"]


def test_a_changed_promised_time_is_its_own_event(net, api, farmer):
    """Issue 13: a moved promise (守时服务 is measured against it) is an event of its own, with the time
    before and after, by whoever moved it; an action that leaves the promise alone appends none."""
    customer, machine = farmer
    _, order = create(api, net, repair_body(customer, machine))
    oid = order["id"]
    _to_awaiting_dispatch(api, net, oid)
    first = (timezone.now() + timedelta(days=1)).replace(microsecond=0)
    Actor(api, net, net.repair_coordinator).ok(oid, "dispatch", organization_id=net.agency_shandong.pk,
                                                 promised_at=first.isoformat())
    tech = Actor(api, net, net.agency_tech)
    tech.ok(oid, "accept")
    tech.ok(oid, "assign", technician_id=net.agency_tech.pk)
    tech.ok(oid, "tech_accept")
    later = first + timedelta(hours=3)
    tech.ok(oid, "schedule", appointment_at=later.isoformat())
    events = OrderEvent.objects.filter(order_id=oid).order_by("seq")
    assert [e.action for e in events][-7:] == ["dispatch", "promise_change", "accept", "assign", "tech_accept",
                                               "schedule", "promise_change"]
    made, moved = events.filter(action="promise_change")
    assert made.data == {"promised_at": first.isoformat(), "previous": None}
    assert moved.data == {"promised_at": later.isoformat(), "previous": first.isoformat()}
    assert moved.actor_id == net.agency_tech.pk and moved.from_status == moved.to_status == "scheduled"
    assert ServiceOrder.objects.get(pk=oid).event_seq == events.last().seq


def test_confirmation_with_name_and_signature(net, api, farmer):
    customer, machine = farmer
    _, order = create(api, net, repair_body(customer, machine))
    oid = order["id"]
    _to_tech_accepted(api, net, oid, mode="carry_in")
    tech = Actor(api, net, net.agency_tech)
    tech.ok(oid, "receive")
    tech.ok(oid, "record_service", fault_found="离合器打滑", solution="调整离合器间隙")
    tech.ok(oid, "check_out")
    status, body = tech(oid, "confirm", name="刘大壮")
    assert status == 422 and body["errors"][0]["field"] == "data.signature_id"
    _, sig = upload(api, net, net.agency_tech, oid, png_bytes(), name="sign.png", kind="signature")
    body = tech.ok(oid, "confirm", name="刘大壮", signature_id=sig["id"])
    assert body["status"] == "completed" and body["confirmed_by_name"] == "刘大壮"


def test_hotline_technician_solves_it_by_phone(net, api, farmer):
    customer, machine = farmer
    _, order = create(api, net, repair_body(customer, machine))
    oid = order["id"]
    Actor(api, net, net.info_coordinator).ok(oid, "forward", hotline_technician_id=net.hotline_tech.pk)
    forward = OrderEvent.objects.get(order_id=oid, action="forward").data
    assert forward["received_at"] and forward["forwarded_at"]
    hotline = Actor(api, net, net.hotline_tech)
    hotline.ok(oid, "callback")
    body = hotline.ok(oid, "solve_by_phone", solution="指导客户排空油路空气后启动正常", steps=["确认油箱有油", "排气"])
    assert body["status"] == "closed" and body["service_mode"] == "phone"
    assert body["answer"].startswith("指导") and body["diagnosis"] == ["确认油箱有油", "排气"]


def test_organization_rejects_and_the_order_returns_to_the_coordinator(net, api, farmer):
    customer, machine = farmer
    oid = _dispatched_with_technician(api, net, customer, machine)
    status, body = Actor(api, net, net.agency_tech)(oid, "reject")
    assert status == 422 and body["errors"][0]["field"] == "data.reason"
    body = Actor(api, net, net.agency_tech).ok(oid, "reject", reason="技术员都在外地抢修")
    assert body["status"] == "awaiting_dispatch" and body["assigned_org_id"] is None
    # the agency no longer sees it; the coordinator dispatches to the branch instead
    assert api.get(f"/orders/{oid}", token=net.token(net.agency_tech))[0] == 404
    body = Actor(api, net, net.repair_coordinator).ok(oid, "dispatch", organization_id=net.branch_henan.pk,
                                                      outside_coverage_reason="潍坊站无人，郑州分店支援")
    assert body["assigned_org_id"] == net.branch_henan.pk and body["outside_coverage"] is True


def test_dispatch_with_a_technician_of_another_organization_is_refused(net, api, farmer):
    customer, machine = farmer
    _, order = create(api, net, repair_body(customer, machine))
    oid = order["id"]
    _to_awaiting_dispatch(api, net, oid)
    before = state(oid)
    status, body = Actor(api, net, net.repair_coordinator)(oid, "dispatch", organization_id=net.agency_shandong.pk,
                                                            technician_id=net.other_agency_tech.pk)
    assert status == 422 and body["errors"][0]["field"] == "data.technician_id"
    status, body = Actor(api, net, net.repair_coordinator)(oid, "dispatch", organization_id=net.dealer_henan.pk)
    assert status == 422 and body["errors"][0]["field"] == "data.organization_id"
    assert state(oid) == before


def test_mail_in_repair_records_both_tracking_numbers(net, api, farmer):
    customer, machine = farmer
    _, order = create(api, net, repair_body(customer, machine))
    oid = order["id"]
    _to_tech_accepted(api, net, oid, mode="mail_in")
    tech = Actor(api, net, net.agency_tech)
    status, body = tech(oid, "receive")
    assert status == 422 and body["errors"][0]["field"] == "data.inbound_tracking"
    tech.ok(oid, "receive", inbound_tracking="SF1234567890")
    tech.ok(oid, "record_service", fault_found="仪表不亮", solution="更换仪表总成")
    status, body = tech(oid, "check_out")
    assert status == 422 and body["errors"][0]["field"] == "data.outbound_tracking"
    body = tech.ok(oid, "check_out", outbound_tracking="SF0987654321")
    assert (body["inbound_tracking"], body["outbound_tracking"]) == ("SF1234567890", "SF0987654321")


def test_paid_service_needs_an_accepted_quote_before_work_starts(net, api):
    from tests.support import make_customer, make_machine

    owner = make_customer("过保客户", "13811112222", province="山东省", city="潍坊市")
    old = make_machine("LX904-OLD", owner, invoice=timezone.localdate().replace(year=timezone.localdate().year - 3))
    _, order = create(api, net, repair_body(owner, old, symptom="前轮轴承异响"))
    assert order["warranty"]["status"] == "expired" and order["service_mode"] == "paid"
    oid = order["id"]
    _to_tech_accepted(api, net, oid, mode="paid")
    tech = Actor(api, net, net.agency_tech)
    tech.ok(oid, "schedule", appointment_at=(timezone.now() + timedelta(hours=2)).isoformat())
    status, body = tech(oid, "check_in")
    assert status == 409 and body["code"] == "guard_failed"
    actions = {a["action"]: a for a in api.get(f"/orders/{oid}/actions", token=net.token(net.agency_tech))[1]}
    assert actions["check_in"]["enabled"] is False and actions["check_in"]["blocked_reason"]

    body = tech.ok(oid, "quote", reason="整机已过三包期", items=[
        {"kind": "part", "part_number": "6207-2RS", "description": "前轮轴承", "quantity": 2, "unit_price": "45.50"},
        {"kind": "labour", "description": "更换轴承", "quantity": "1.5", "unit_price": "80"},
    ])
    status, quotes = api.get(f"/orders/{oid}/quotes", token=net.token(net.agency_tech))
    assert [(q["parts_total"], q["labour_total"], q["total"], q["status"]) for q in quotes] == [
        ("91.00", "120.00", "211.00", "proposed")]
    tech.ok(oid, "quote_decline", note="客户嫌贵")
    assert tech(oid, "check_in")[0] == 409  # a declined quote does not open the gate
    tech.ok(oid, "quote", items=[{"kind": "part", "part_number": "6207-2RS", "quantity": 2, "unit_price": "40"}])
    tech.ok(oid, "quote_accept")
    body = tech.ok(oid, "check_in")
    assert body["status"] == "in_service"
    assert [q["status"] for q in api.get(f"/orders/{oid}/quotes", token=net.token(net.agency_tech))[1]] == ["declined", "accepted"]


def test_escalation_to_an_engineer_and_back_to_the_flow(net, api, farmer):
    customer, machine = farmer
    oid, tech = _checked_in(api, net, customer, machine)
    body = tech.ok(oid, "escalate", problem="更换喷油器后仍冒黑烟", tried="更换喷油器、检查进气")
    assert body["status"] == "escalated"
    status, queue = api.get("/escalations", token=net.token(net.engineer), open="true")
    assert [e["order_id"] for e in queue["items"]] == [oid]
    assert tech(oid, "record_service", fault_found="x", solution="y")[0] == 409  # paused while escalated
    body = Actor(api, net, net.engineer).ok(oid, "answer_escalation", outcome="quality_issue",
                                             answer="同批次喷油泵柱塞偏磨，更换喷油泵并上报质量部")
    assert body["status"] == "in_service"
    esc = Escalation.objects.get(order_id=oid)
    assert (esc.outcome, esc.engineer_id, esc.resume_status) == ("quality_issue", net.engineer.pk, "in_service")
    assert api.get("/escalations", token=net.token(net.engineer), open="true")[1]["items"] == []


def test_hotline_technician_escalates_while_diagnosing(net, api, farmer):
    customer, machine = farmer
    _, order = create(api, net, repair_body(customer, machine))
    oid = order["id"]
    Actor(api, net, net.info_coordinator).ok(oid, "forward", hotline_technician_id=net.hotline_tech.pk)
    hotline = Actor(api, net, net.hotline_tech)
    hotline.ok(oid, "callback")
    hotline.ok(oid, "escalate", problem="电控故障码 P0251 无资料")
    body = Actor(api, net, net.engineer).ok(oid, "answer_escalation", outcome="guidance", answer="检查油量计量单元插头")
    assert body["status"] == "diagnosing"


def test_exchange_is_approved_and_the_new_machine_recorded(net, api, farmer):
    customer, machine = farmer
    status, order = create(api, net, {"order_type": "return_exchange", "customer_id": customer.pk,
                                      "machine_id": machine.pk, "return_kind": "exchange",
                                      "symptom": "变速箱第三次同样故障"})
    assert status == 201, order
    oid = order["id"]
    assert order["status"] == "awaiting_approval"
    assert order["return_request"]["kind"] == "exchange"
    assert "remedy" in order["return_request"]["eligibility"] and order["return_request"]["eligibility"]["reasons"]
    assert Actor(api, net, net.agent)(oid, "approve_return", reason="x")[0] == 403
    # No repair on record: the engine finds no exchange due, so approving it is an explicit override.
    assert order["return_request"]["eligible"] is False
    assert Actor(api, net, net.engineer)(oid, "approve_return", reason="用户坚持")[0] == 422
    Actor(api, net, net.engineer).ok(oid, "approve_return", reason="主要部件两次修理后仍故障，准予换机", override=True)
    body = Actor(api, net, net.engineer).ok(oid, "complete_exchange", new_serial_number="LX904-SD-0002")
    assert body["status"] == "completed"
    machine.refresh_from_db()
    assert machine.status == "exchanged"
    exchange = MachineExchange.objects.get(machine=machine)
    assert exchange.kind == "exchange" and exchange.replacement.serial_number == "LX904-SD-0002"
    assert exchange.replacement.invoice_date == timezone.localdate()  # the warranty restarts
    assert body["return_request"]["new_machine_id"] == exchange.replacement_id


def test_return_is_rejected_or_refunded(net, api, farmer):
    customer, machine = farmer
    _, order = create(api, net, {"order_type": "return_exchange", "customer_id": customer.pk, "machine_id": machine.pk,
                                 "return_kind": "return", "symptom": "要求退机"})
    oid = order["id"]
    engineer = Actor(api, net, net.engineer)
    engineer.ok(oid, "approve_return", reason="同型号无货", override=True)
    assert engineer(oid, "complete_exchange", new_serial_number="X")[0] == 409  # a return is not an exchange
    body = engineer.ok(oid, "record_refund", refund_amount="86000.00")
    assert body["return_request"]["refund_amount"] == "86000.00"
    machine.refresh_from_db()
    assert machine.status == "returned"

    _, other = create(api, net, {"order_type": "return_exchange", "customer_id": customer.pk, "machine_id": machine.pk,
                                 "return_kind": "exchange", "symptom": "要求换机"})
    body = engineer.ok(other["id"], "reject_return", reason="不符合三包换机条件")
    assert body["status"] == "closed" and body["return_request"]["decision"] == "rejected"


def test_complaint_goes_to_a_supervisor_at_once_and_ends_with_the_customers_acceptance(net, api, farmer):
    customer, machine = farmer
    _, earlier = create(api, net, repair_body(customer, machine))
    status, order = create(api, net, {
        "order_type": "complaint", "customer_id": customer.pk, "symptom": "维修人员迟到三小时且态度差",
        "complaint": {"about_order_id": earlier["id"], "about_org_id": net.agency_shandong.pk,
                      "category": "attitude", "severity": "high"},
    })
    assert status == 201, order
    oid = order["id"]
    assert order["complaint"]["supervisor_id"] == net.supervisor.pk
    assert order["related_order_id"] == earlier["id"]
    supervisor = Actor(api, net, net.supervisor)
    supervisor.ok(oid, "investigate")
    supervisor.ok(oid, "resolve", resolution="对维修站书面警告，免收本次费用", findings="属实")
    supervisor.ok(oid, "customer_reject", reason="要求赔偿误工")
    supervisor.ok(oid, "resolve", resolution="书面警告并补偿误工 200 元")
    body = Actor(api, net, net.agent).ok(oid, "customer_accept")
    assert body["status"] == "completed" and body["complaint"]["customer_accepted"] is True
    status, page = api.get("/complaints", token=net.token(net.supervisor))
    assert [c["order_id"] for c in page["items"]] == [oid]


def test_low_rating_opens_a_complaint_automatically(net, api, farmer):
    customer, machine = farmer
    _, order = create(api, net, repair_body(customer, machine))
    oid = order["id"]
    Actor(api, net, net.info_coordinator).ok(oid, "forward")
    hotline = Actor(api, net, net.hotline_tech)
    hotline.ok(oid, "callback")
    hotline.ok(oid, "solve_by_phone", solution="指导复位")
    ServiceOrder.objects.filter(pk=oid).update(status="completed")  # a phone fix closes; rate a completed one
    body = Actor(api, net, net.agent).ok(oid, "rate", score=2, comment="电话里说不清楚")
    assert body["status"] == "closed"
    complaint = Complaint.objects.get(about_order_id=oid)
    assert complaint.category == "low_rating" and complaint.severity == "medium"
    assert complaint.supervisor_id == net.supervisor.pk and complaint.order.status == "new"
    assert OrderEvent.objects.get(order_id=oid, action="rate").data["complaint_id"] == complaint.order_id
    assert Rating.objects.get(order_id=oid).score == 2


def test_owner_cancels_with_a_reason_and_nothing_is_deleted(net, api, farmer):
    customer, machine = farmer
    _, order = create(api, net, repair_body(customer, machine))
    oid = order["id"]
    status, body = Actor(api, net, net.agent)(oid, "cancel")
    assert status == 422
    body = Actor(api, net, net.agent).ok(oid, "cancel", reason="客户自行修好")
    assert body["status"] == "cancelled" and body["cancel_reason"] == "客户自行修好" and body["actions"] == []
    assert api.delete(f"/orders/{oid}", token=net.token(net.admin))[0] == 405
    assert ServiceOrder.objects.filter(pk=oid).exists()


def test_technician_declines_and_the_organization_assigns_again(net, api, farmer):
    customer, machine = farmer
    oid = _dispatched_with_technician(api, net, customer, machine)
    tech = Actor(api, net, net.agency_tech)
    body = tech.ok(oid, "accept")
    body = tech.ok(oid, "assign")  # takes the technician the coordinator proposed
    assert body["assigned_technician_id"] == net.agency_tech.pk
    body = tech.ok(oid, "tech_decline", reason="车辆故障")
    assert body["status"] == "accepted" and body["assigned_technician_id"] is None


def _repaired(api, net, customer, machine, component: str) -> None:
    """One warranty repair of ``component`` carried to completion by the Shandong agency."""
    oid, tech = _checked_in(api, net, customer, machine, symptom=f"{component} 故障", duplicate_reason="同一部件再次故障")
    body = tech.ok(oid, "record_service", fault_found="变速箱异响，三挡脱挡", solution="更换拨叉", component=component, serious=True)
    assert body["service_record"]["component"] == component and body["service_record"]["serious"] is True
    tech.ok(oid, "check_out")
    tech.ok(oid, "confirm", code=last_code(oid))


def test_recorded_repairs_reach_the_warranty_engine_for_a_return_exchange_request(net, api, farmer):
    customer, machine = farmer
    status, body = Actor(api, net, net.agency_tech)(0, "record_service", version=1)  # unknown order: 404
    assert status == 404
    for _ in range(2):
        _repaired(api, net, customer, machine, "gearbox")
    status, order = create(api, net, {"order_type": "return_exchange", "customer_id": customer.pk, "machine_id": machine.pk,
                                      "return_kind": "exchange", "symptom": "变速箱第三次脱挡",
                                      "fault_component": "gearbox", "fault_serious": True})
    assert status == 201, order
    eligibility = order["return_request"]["eligibility"]
    # two serious warranty repairs of a main part and it recurs: the main part is replaced first
    assert eligibility["remedy"] == "main_part_replacement", eligibility["reasons"]
    assert "CN2010-MainPartReplacement" in {r["rule"] for r in eligibility["reasons"]}
    assert order["return_request"]["eligible"] is False


def test_unknown_component_in_a_service_record_is_refused(net, api, farmer):
    customer, machine = farmer
    oid, tech = _checked_in(api, net, customer, machine)
    before = state(oid)
    status, body = tech(oid, "record_service", fault_found="x", solution="y", component="flux_capacitor")
    assert status == 422 and body["errors"][0]["field"] == "data.component"
    assert state(oid) == before
