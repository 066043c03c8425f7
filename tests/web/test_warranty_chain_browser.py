"""The 2010 regime's repair → repair → main-part replacement → recurrence → exchange → new machine
sequence on the web pages, in a real browser, per role: the call agent sees the remedy the engine
proposes at intake and on the order page, the technician records the gearbox as *replaced* on the
service record, the technical centre approves the exchange (and must override, with a reason, one
the engine did not find eligible), and the new machine's warranty restarts.

The two earlier repairs are set up through the API (they are the API test's business); each step
that this area changes is taken in the browser.
"""

from __future__ import annotations

import pytest
from django.utils import timezone

from aftersales.registry.models import Machine, MachineExchange
from aftersales.service.models import OrderEvent, OrderStatus, ServiceOrder
from aftersales.warranty.services import evaluate_machine
from tests.service.helpers import Actor, create, last_code, shandong_farmer
from tests.service.test_flows import _to_tech_accepted
from tests.service.test_warranty_chain import _intake, _serve
from tests.web.test_browser import PHONE, browser, do, session  # noqa: F401  (browser is a fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def _take_call(page, live_server, machine, *, order_type: str = "repair") -> None:
    """At the desk: find the caller, take them, name the gearbox as the serious fault."""
    page.goto(f"{live_server.url}/desk/")
    page.fill("#caller-search", "5678")
    page.wait_for_selector(f"#lookup >> text={machine.serial_number}")
    page.locator("#lookup a", has_text="受理").first.click()
    page.wait_for_selector("#intake-form")
    page.wait_for_load_state("networkidle")

    def choose(selector: str, value: str) -> None:
        # Each choice redraws the form (htmx): wait for that answer before the next choice.
        if page.locator(selector).input_value() == value:
            return  # already chosen: no change, no redraw
        page.select_option(selector, value)  # htmx asks for the redrawn form at once (on change)
        page.wait_for_load_state("networkidle")
        page.wait_for_selector(f"{selector} >> option[value='{value}'][selected]", state="attached")

    choose("select[name=machine]", str(machine.pk))
    if order_type != "repair":
        choose("select[name=order_type]", order_type)
        page.wait_for_selector("select[name=return_kind]")
    choose("select[name=fault_component]", "gearbox")
    page.wait_for_selector("select[name=fault_component] >> option[value=gearbox][selected]", state="attached")
    page.check("input[name=fault_serious]")
    page.wait_for_load_state("networkidle")
    page.wait_for_selector("input[name=fault_serious][checked]", state="attached")


def _save(page) -> ServiceOrder:
    before = ServiceOrder.objects.count()
    with page.expect_navigation():
        page.click("#intake-form button[type=submit]")
    if page.locator("#duplicate-warning").count():
        # The earlier repair waits for its rating call, so the desk asks why this is a new order.
        page.fill("input[name=duplicate_reason]", "同一部件再次故障，新的维修")
        with page.expect_navigation():
            page.click("#intake-form button[type=submit]")
    assert ServiceOrder.objects.count() == before + 1, page.locator("#intake").inner_text()
    return ServiceOrder.objects.latest("id")


def test_2010_regime_sequence_on_the_web_pages_ends_with_a_new_machine_and_a_restarted_warranty(
        browser, live_server, net, api):  # noqa: F811
    customer, machine = shandong_farmer()
    for _ in range(2):  # two serious gearbox repairs, repaired and confirmed
        _serve(api, net, _intake(api, net, customer, machine)["id"], "repaired")

    # The third call: the agent sees, before saving, that the main part is due to be replaced.
    agent = session(browser, live_server, net.agent)
    _take_call(agent, live_server, machine)
    remedy = agent.locator("#proposal-remedy")
    assert remedy.get_attribute("data-remedy") == "main_part_replacement"
    assert "更换主要部件" in remedy.inner_text()
    agent.fill("textarea[name=symptom]", "拖拉机行驶中跳挡")
    order = _save(agent)
    assert order.warranty_remedy == "main_part_replacement"
    block = agent.locator("[data-testid=warranty-remedy]")
    assert block.get_attribute("data-remedy") == "main_part_replacement" and "更换主要部件" in block.inner_text()

    # The technician, on a phone, records the gearbox as replaced on the service record's part line.
    _to_tech_accepted(api, net, order.pk)
    tech_api = Actor(api, net, net.agency_tech)
    tech_api.ok(order.pk, "schedule", appointment_at=timezone.now().isoformat())
    tech_api.ok(order.pk, "check_in")
    tech = session(browser, live_server, net.agency_tech, viewport=PHONE)
    tech.goto(f"{live_server.url}/orders/{order.pk}/")
    form = tech.locator("#action-record_service")
    if form.get_attribute("open") is None:
        form.locator("summary").click()
    form.locator("select[name=component]").select_option("gearbox")
    form.locator("input[name=serious]").check()
    form.locator("select[name=parts-0-component]").select_option("gearbox")
    form.locator("select[name=parts-0-action]").select_option("replaced")
    do(tech, "record_service", fields={"fault_found": "变速箱壳体裂纹，三挡齿轮断齿", "solution": "更换变速箱总成",
                                       "parts-0-part_number": "LX904-17-000", "parts-0-name": "变速箱总成",
                                       "parts-0-quantity": "1"})
    parts_table = tech.locator("section.card", has_text="LX904-17-000").locator("table").inner_text()
    assert "变速箱" in parts_table and "更换" in parts_table and "严重故障" in parts_table
    line = ServiceOrder.objects.get(pk=order.pk).service_record.parts.get()
    assert (line.component, line.action, line.serious) == ("gearbox", "replaced", True)
    tech_api.ok(order.pk, "check_out")
    tech_api.ok(order.pk, "confirm", code=last_code(order.pk))

    # It recurs: the agent records the customer's exchange request; the order shows "exchange".
    _take_call(agent, live_server, machine, order_type="return_exchange")
    agent.select_option("select[name=return_kind]", "exchange")
    agent.fill("textarea[name=symptom]", "换了变速箱还是跳挡，要求换机")
    request = _save(agent)
    assert request.order_type == "return_exchange" and request.status == OrderStatus.AWAITING_APPROVAL
    assert request.warranty_remedy == "exchange" and request.return_request.eligible is True
    assert agent.locator("[data-testid=warranty-remedy]").get_attribute("data-remedy") == "exchange"
    assert "整机更换" in agent.locator("[data-testid=warranty-remedy]").inner_text()

    # The technical centre approves it (eligible: no override) and records the new machine.
    engineer = session(browser, live_server, net.engineer)
    engineer.goto(f"{live_server.url}/orders/{request.pk}/")
    do(engineer, "approve_return", fields={"reason": "主要部件更换后同一故障再次出现，按三包规定换机"})
    do(engineer, "complete_exchange", fields={"new_serial_number": "LX904-SD-0777"})
    request.refresh_from_db()
    assert request.status == OrderStatus.COMPLETED
    new = Machine.objects.get(serial_number="LX904-SD-0777")
    exchange = MachineExchange.objects.get(machine=machine)
    assert (exchange.replacement, exchange.component) == (new, "gearbox")

    # The new machine: in warranty from today, and the same fault again would be a return.
    today = timezone.localdate()
    evaluation = evaluate_machine(machine=new, on=today, fault={"component": "gearbox", "serious": True})
    assert evaluation["coverage"]["whole_machine"]["start"] == today.isoformat()
    assert evaluation["coverage"]["whole_machine"]["state"] == "covered" and evaluation["remedy"] == "return"
    _take_call(agent, live_server, new)
    assert agent.locator("#proposal-remedy").get_attribute("data-remedy") == "return"
    assert agent.locator("#proposal .badge-success").count() == 1  # in warranty


def test_the_technical_centre_must_override_with_a_reason_to_approve_an_ineligible_exchange(
        browser, live_server, net, api):  # noqa: F811
    customer, machine = shandong_farmer()
    status, order = create(api, net, {"order_type": "return_exchange", "customer_id": customer.pk,
                                      "machine_id": machine.pk, "return_kind": "exchange", "symptom": "要求换机",
                                      "fault_component": "gearbox"})
    assert status == 201 and order["return_request"]["eligible"] is False
    engineer = session(browser, live_server, net.engineer)
    engineer.goto(f"{live_server.url}/orders/{order['id']}/")
    assert engineer.locator("[data-testid=warranty-remedy]").get_attribute("data-remedy") == "repair"

    details = engineer.locator("#action-approve_return")
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    details.locator("[name=reason]").fill("客户要求")
    with engineer.expect_navigation():
        details.locator("button[type=submit]").last.click()
    # refused: the form stays open with the reason why (the override is required)
    assert engineer.locator("#action-approve_return [role=alert], #action-approve_return .errors").count() >= 1
    assert ServiceOrder.objects.get(pk=order["id"]).status == OrderStatus.AWAITING_APPROVAL

    details = engineer.locator("#action-approve_return")
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    details.locator("input[name=override]").check()
    do(engineer, "approve_return", fields={"reason": "种粮大户，技术中心特批换机"})
    event = OrderEvent.objects.get(order_id=order["id"], action="approve_return")
    assert event.data["override"] is True and event.data["eligible"] is False and event.actor == net.engineer
