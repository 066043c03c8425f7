"""The whole flow in a real browser (headless Chromium, Playwright's sync API): the call agent takes
the call, the coordinators move the order on and dispatch it, the technician serves it on a phone
with a photo and the customer's drawn signature, and the customer rates it on the tracking page.
With SCREENSHOTS=1 the test saves a picture of each workbench under docs/screenshots/."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from aftersales.service.models import OrderStatus, ServiceOrder
from tests.service.helpers import png_bytes, shandong_farmer

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
OFFICE = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def browser():
    # Playwright's sync API runs an event loop, which makes Django refuse ORM calls from this
    # thread; allow them only while the browser tests run, so no other test inherits it.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            yield b
            b.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def shot(page, name: str) -> None:
    if os.environ.get("SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def session(browser, live_server, user, viewport=OFFICE):
    context = browser.new_context(viewport=viewport, locale="zh-CN", is_mobile=viewport is PHONE)
    page = context.new_page()
    page.set_default_timeout(10_000)
    # The live server's first answer imports every app (over 10 s on a machine loaded five times over).
    page.set_default_navigation_timeout(40_000)
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", f"pass-{user.username}")
    page.click("main button[type=submit]")  # not the language switch in the top bar
    page.wait_for_load_state()
    return page


def do(page, action: str, fields: dict | None = None, selects: dict | None = None) -> None:
    """Open the action's form on the order page, fill it and submit it."""
    details = page.locator(f"#action-{action}")
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    form = details.locator("form")
    for name, value in (selects or {}).items():
        form.locator(f"select[name={name}]").select_option(str(value))
    for name, value in (fields or {}).items():
        form.locator(f"[name='{name}']").fill(value)
    with page.expect_navigation():
        form.locator("button[type=submit]").last.click()
    assert page.locator(".msg-success").count() == 1, page.locator(".messages").inner_text()


def test_from_the_call_to_the_rating(browser, live_server, net):
    customer, machine = shandong_farmer()

    # 话务台: find the caller as we type, take them, fill the intake in the seed's order, Enter saves.
    page = session(browser, live_server, net.agent)
    assert page.url.endswith("/desk/")
    page.fill("#caller-search", "5678")
    page.wait_for_selector(f"#lookup >> text={machine.serial_number}")
    assert page.locator("#lookup .badge-success").count() == 1  # in warranty
    page.locator("#lookup a", has_text="受理").click()
    page.wait_for_selector("#intake-form")
    assert "上门" in page.locator("#proposal").inner_text()
    page.fill("textarea[name=symptom]", "拖拉机启动困难，冒黑烟")
    page.fill("input[name=operation]", "犁地")
    page.fill("input[name=crop]", "小麦")
    shot(page, "1-call-desk")
    with page.expect_navigation():
        page.press("input[name=crop]", "Enter")
    order = ServiceOrder.objects.get()
    assert order.crop == "小麦" and order.status == OrderStatus.NEW
    order_url = f"{live_server.url}/orders/{order.pk}/"

    page = session(browser, live_server, net.info_coordinator)
    shot(page, "2-queue")
    page.goto(order_url)
    do(page, "forward", selects={"hotline_technician_id": net.hotline_tech.pk})

    page = session(browser, live_server, net.hotline_tech)
    page.goto(order_url)
    do(page, "callback")
    do(page, "confirm_mode", selects={"service_mode": "on_site"})

    page = session(browser, live_server, net.repair_coordinator)
    page.goto(order_url)
    shot(page, "3-order-dispatch")
    do(page, "dispatch", selects={"organization_id": net.agency_shandong.pk})

    # The technician on a phone.
    page = session(browser, live_server, net.agency_tech, viewport=PHONE)
    page.goto(order_url)
    do(page, "accept")
    do(page, "assign", selects={"technician_id": net.agency_tech.pk})
    page.goto(f"{live_server.url}/tech/")
    assert order.number in page.content()
    page.goto(order_url)
    do(page, "tech_accept")
    do(page, "schedule", fields={"appointment_at": "2026-12-01T09:30"})
    page.goto(f"{live_server.url}/tech/")
    shot(page, "4-technician-phone")
    page.goto(order_url)
    do(page, "check_in")
    record = page.locator("#action-record_service")
    if record.get_attribute("open") is None:
        record.locator("summary").click()
    record.locator("input[name=photos]").set_input_files(
        files=[{"name": "field.png", "mimeType": "image/png", "buffer": png_bytes()}])
    do(page, "record_service", fields={"fault_found": "喷油嘴堵塞", "solution": "清洗喷油嘴，更换燃油滤清器",
                                       "parts-0-part_number": "LX-1105", "parts-0-name": "燃油滤清器",
                                       "parts-0-quantity": "1"})
    do(page, "check_out")
    confirm = page.locator("#action-confirm")
    if confirm.get_attribute("open") is None:
        confirm.locator("summary").click()
    canvas = confirm.locator("canvas.signature")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + 40)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(box["x"] + 20 + step * 22, box["y"] + 40 + (step % 3) * 25)
    page.mouse.up()
    shot(page, "5-signature-phone")
    do(page, "confirm", fields={"name": "刘大壮"})
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert order.attachments.filter(kind="signature").count() == 1 and order.attachments.filter(kind="photo").count() == 1
    assert [p.part_number for p in order.service_record.parts.all()] == ["LX-1105"]

    # The customer, from the SMS link, on a phone.
    context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True)
    page = context.new_page()
    page.goto(f"{live_server.url}/t/{order.tracking_token}")
    assert "服务已完成" in page.content()
    assert page.url == f"{live_server.url}/track/"
    page.click(f"label[for=o{order.pk}-star5]")
    page.fill("textarea[name=comment]", "师傅很专业")
    with page.expect_navigation():
        page.click("main button[type=submit]")
    assert "感谢您的评价" in page.content()
    shot(page, "6-customer-tracking")
    order.refresh_from_db()
    assert order.status == OrderStatus.CLOSED and order.rating.score == 5

    page = session(browser, live_server, net.supervisor)
    shot(page, "7-supervisor")


def test_pages_fit_a_phone_width(browser, live_server, net):
    customer, machine = shandong_farmer()
    for user, path in ((net.agent, "/desk/"), (net.info_coordinator, "/queue/"), (net.supervisor, "/supervisor/")):
        page = session(browser, live_server, user, viewport=PHONE)
        page.goto(f"{live_server.url}{path}")
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, (path, overflow)
        page.context.close()
