"""One path in a real browser (Chromium): the technician asks for a pump on the phone for the order
in hand, the parts desk approves and ships it, the technician confirms receipt and the van shows it;
the service uses it; the agency files the claim, the reviewer approves it, the month is settled and
the agency confirms the statement."""

import pytest
from django.utils import timezone

from aftersales.parts.models import Claim, Requisition, Settlement
from tests.parts.helpers import catalogue, rates, stocked, van
from tests.service.helpers import last_code, shandong_farmer
from tests.service.test_flows import _checked_in
from tests.web.test_browser import OFFICE, PHONE, browser, session  # noqa: F401 (browser is a fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def _submit(page, form):
    with page.expect_navigation():
        form.locator("button[type=submit]").last.click()
    assert page.locator(".msg-success").count() == 1, page.locator("main").inner_text()[:500]


def test_requisition_shipment_consumption_claim_settlement_in_the_browser(browser, live_server, net, api):  # noqa: F811
    parts = catalogue()
    stocked(net, parts)
    rates(net)
    van(net.agency_tech)
    customer, machine = shandong_farmer()
    oid, tech = _checked_in(api, net, customer, machine)

    phone = session(browser, live_server, net.agency_tech, viewport=PHONE)
    phone.goto(f"{live_server.url}/parts/van/")
    form = phone.locator("form", has=phone.locator("#h-request"))
    form.locator("select[name=part_id]").select_option(str(parts["pump"].pk))
    form.locator("select[name=order_id]").select_option(str(oid))
    _submit(phone, form)
    req = Requisition.objects.get()
    assert req.order_id == oid and req.clock_paused

    desk = session(browser, live_server, net.repair_coordinator, viewport=OFFICE)
    desk.goto(f"{live_server.url}/parts/desk/")
    desk.locator(f"#req-{req.pk} summary").click()
    _submit(desk, desk.locator(f"#req-{req.pk} form").first)
    ship = desk.locator(f"#ship-{req.pk}")
    ship.locator("input[name=tracking_number]").fill("SF7788990011")
    _submit(desk, ship)

    phone.goto(f"{live_server.url}/parts/van/")
    with phone.expect_navigation():
        phone.locator(f"button[data-receive='{req.number}']").click()
    assert phone.locator("[data-stock='4110001']").inner_text().startswith("1")

    tech.ok(oid, "record_service", fault_found="喷油泵柱塞磨损", solution="更换喷油泵", labour_hours="2",
            hours_meter="388.0", component="fuel_injection_pump",
            parts=[{"part_number": "4110001", "quantity": 1, "component": "fuel_injection_pump", "action": "replaced"}])
    tech.ok(oid, "check_out")
    tech.ok(oid, "confirm", code=last_code(oid))
    phone.goto(f"{live_server.url}/parts/van/")
    assert phone.locator("[data-stock='4110001']").inner_text().startswith("0")

    claim = Claim.objects.get(order_id=oid)
    phone.goto(f"{live_server.url}/parts/claims/{claim.pk}/")
    _submit(phone, phone.locator("form", has=phone.locator("#h-submit")))

    reviewer = session(browser, live_server, net.supervisor, viewport=OFFICE)
    reviewer.goto(f"{live_server.url}/parts/claims/{claim.pk}/")
    assert reviewer.locator("[data-flag='part_outstanding']").count() == 1  # the old pump is still on its way
    _submit(reviewer, reviewer.locator("details.action").first.locator("form"))
    reviewer.goto(f"{live_server.url}/parts/settlements/")
    form = reviewer.locator("form", has=reviewer.locator("#h-issue"))
    form.locator("select[name=organization_id]").select_option(str(net.agency_shandong.pk))
    form.locator("input[name=month]").fill(timezone.localdate().strftime("%Y-%m"))
    _submit(reviewer, form)
    settlement = Settlement.objects.get()

    phone.goto(f"{live_server.url}/parts/settlements/{settlement.pk}/")
    assert claim.number in phone.locator("main").inner_text()
    _submit(phone, phone.locator("form", has_text="确认"))
    assert phone.locator("[data-settlement-status]").get_attribute("data-settlement-status") == "confirmed"
