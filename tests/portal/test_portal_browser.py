"""The customer's side in a real browser at phone width (headless Chromium): the customer scans
the plate's QR code, logs in with the SMS code (read from the outbox, as the phone would get it),
reports a fault with a photo and the phone's position, follows the order while the network works
on it, confirms the repair with the completion code and rates it. No page breaks its CSP, axe
finds nothing serious, and nothing is wider than the phone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from django.utils import timezone

from aftersales.service.models import Attachment, OrderStatus, ServiceOrder
from tests.portal.test_portal import sent_code
from tests.service.helpers import last_code, png_bytes, shandong_farmer
from tests.web.test_a11y import axe_violations, step
from tests.web.test_browser import PHONE, browser  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0, page.url
    assert not axe_violations(page), (page.url, axe_violations(page))
    assert not page.csp_errors, page.csp_errors


def test_a_customer_scans_reports_with_a_photo_and_follows_to_the_rating(browser, live_server, net, tmp_path):  # noqa: F811
    customer, machine = shandong_farmer()
    context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True,
                                  geolocation={"latitude": 36.8812, "longitude": 118.7301}, permissions=["geolocation"])
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.csp_errors = []
    page.on("console", lambda m: "Content Security Policy" in m.text and page.csp_errors.append(m.text))

    # The QR code on the plate: /m/s/<serial>/ asks for the login and remembers the machine.
    page.goto(f"{live_server.url}/m/s/{machine.serial_number}/")
    assert machine.serial_number in page.locator("main").inner_text()
    _fits(page)
    page.fill("input[name=phone]", "139 1234 5678")
    with page.expect_navigation():
        page.click("main button[type=submit]")
    page.fill("input[name=code]", sent_code())
    with page.expect_navigation():
        page.locator("main form button[type=submit]").first.click()
    assert page.url.endswith(f"/m/machines/{machine.pk}/")
    assert "在保" in page.locator("main").inner_text()  # the 三包 status of a machine bought this year
    _fits(page)

    page.click("main a.btn[href*='/m/report/']")
    page.wait_for_url("**/m/report/**")
    _fits(page)
    page.fill("textarea[name=symptom]", "拖拉机熄火后无法启动，地里停着")
    page.check("input[name=stopped]")
    page.fill("input[name=address]", "寿光市田柳镇东地")
    page.click("#locate")  # the browser's geolocation fills the hidden fields
    expect(page.locator("input[name=latitude]")).not_to_have_value("")
    photo = tmp_path / "fault.png"
    photo.write_bytes(png_bytes())
    page.set_input_files("input[name=photos]", str(photo))
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    order = ServiceOrder.objects.get()
    assert page.url.endswith(f"/m/orders/{order.number}/?sent=1")
    assert order.channel == "portal" and order.urgency == "critical" and "GPS 36.88120,118.73010" in order.field_location
    assert Attachment.objects.get(order=order).content_type == "image/png"
    _fits(page)

    # The network works on it; the customer follows it on the same page.
    step(net.info_coordinator, order, "forward", hotline_technician_id=net.hotline_tech.pk)
    step(net.hotline_tech, order, "callback")
    step(net.hotline_tech, order, "confirm_mode", service_mode="on_site")
    step(net.repair_coordinator, order, "dispatch", organization_id=net.agency_shandong.pk)
    for action, data in (("accept", {}), ("assign", {"technician_id": net.agency_tech.pk}), ("tech_accept", {}),
                         ("schedule", {"appointment_at": timezone.now() + timedelta(hours=3)}), ("check_in", {}),
                         ("record_service", {"fault_found": "油路有空气", "solution": "排空气，换滤清器"}),
                         ("check_out", {})):
        step(net.agency_tech, order, action, **data)
    page.reload()
    page.fill("input[name=code]", last_code(order.pk))
    with page.expect_navigation():
        page.locator("form[action$='/confirm'] button").click()
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    _fits(page)
    page.click("label[for=star5]")
    page.fill("textarea[name=comment]", "师傅来得快")
    with page.expect_navigation():
        page.locator("form[action$='/rate'] button").click()
    order.refresh_from_db()
    assert order.status == OrderStatus.CLOSED and order.rating.score == 5
    assert page.locator(".stars-shown").count() == 1
    # The history on the home page lists it.
    page.goto(f"{live_server.url}/m/")
    assert order.number in page.locator("main").inner_text()
    _fits(page)
    context.close()
