"""A whole day at the service center in a real browser, role by role, on the desk's screen and on a
390-wide phone: the call agent registers a new caller by keyboard, the information coordinator
hands on, the hotline technician diagnoses and escalates, the engineer answers, the dispatcher
dispatches, the branch technician serves on his phone, the supervisor reads a complaint.

Every page is watched: any 4xx/5xx answer or console error fails the test (except the 422 of a
save refused on purpose), so does any English word visible in the Chinese UI (product codes,
order numbers and key names allowed), and a refused save must show everything typed again.

One browser, one live server, one database for the whole day (about a minute on two cores)."""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.utils import timezone

from aftersales.service import services
from aftersales.service.models import OrderStatus, ServiceOrder
from tests.service.helpers import png_bytes, shandong_farmer
from tests.support import make_model
from tests.web.test_browser import OFFICE, PHONE, browser, do  # noqa: F401 (browser is a fixture)

pytestmark = pytest.mark.django_db(transaction=True)

# Words of Latin letters a Chinese page may show: key names, the language's own name, and codes
# (anything with a digit, or capitals only: LX904, FW20261130-00001, PDF).
ALLOWED_WORDS = {"Alt", "Enter", "Tab", "Ctrl", "English", "kW", "kg", "km", "Excel", "PDF", "QR"}  # key names, units, file kinds
# The test network's people have login names only; real users are shown by their Chinese names.
USERNAMES = {"admin", "agent", "infoco", "hotline", "repairco", "engineer", "supervisor", "branchtech", "agencytech",
             "othertech", "dealer"}
WORD = re.compile(r"[A-Za-z][A-Za-z0-9_\-]*")


def english_words(text: str, allowed=()) -> list[str]:
    found = []
    for word in WORD.findall(text):
        if word in ALLOWED_WORDS or word in allowed or any(c.isdigit() for c in word) or word.replace("-", "").isupper():
            continue
        found.append(word)
    return found


class Watch:
    """Fails on what a user would see as broken: an error answer, a console error, a script error."""

    def __init__(self, page, username: str):
        # The test users' login names are shown in the top bar where real users have names.
        self.page, self.problems, self.allowed, self.username = page, [], set(), username
        page.on("response", self._response)
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.problems.append(f"script: {e}"))

    def _console(self, message):
        # Chromium reports every error answer on the console too; an expected one is no problem.
        expected = any(f"status of {status} " in message.text for status in self.allowed)
        if message.type == "error" and not expected:
            self.problems.append(f"console: {message.text}")

    def _response(self, response):
        if response.status >= 400 and response.status not in self.allowed:
            self.problems.append(f"{response.status} {response.request.method} {response.url}")

    @contextmanager
    def expecting(self, status: int):
        self.allowed.add(status)
        try:
            yield
        finally:
            self.allowed.discard(status)

    def check(self, where: str):
        assert not self.problems, (where, self.problems)
        words = english_words(self.page.locator("body").inner_text(), allowed=USERNAMES)
        assert not words, (where, self.page.url, words)


def login(browser, live_server, user, viewport=OFFICE):
    context = browser.new_context(viewport=viewport, locale="zh-CN", is_mobile=viewport is PHONE,
                                  has_touch=viewport is PHONE)
    page = context.new_page()
    page.set_default_timeout(10_000)
    watch = Watch(page, user.username)
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", f"pass-{user.username}")
    with page.expect_navigation():
        page.click("main button[type=submit]")
    watch.check("login")
    return page, watch


def on_phone(browser, live_server, user, path: str):
    """The same page on a 390-wide phone: it must load cleanly and fit the width."""
    page, watch = login(browser, live_server, user, viewport=PHONE)
    page.goto(f"{live_server.url}{path}")
    watch.check(f"phone {path}")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, (path, overflow)
    page.context.close()


def act(page, watch, action, **kw):
    do(page, action, **kw)
    watch.check(action)
    # The page shows the new state with the form just used shut.
    used = page.locator(f"#action-{action}")
    assert used.count() == 0 or used.get_attribute("open") is None, action


def test_a_day_at_the_service_center(browser, live_server, net):  # noqa: F811
    make_model()
    farmer, tractor = shandong_farmer()
    base = live_server.url

    # --- 话务代表: a caller who is not in the archive, by keyboard only ------------------------
    page, watch = login(browser, live_server, net.agent)
    search = page.locator("#caller-search")
    assert page.evaluate("document.activeElement.id") == "caller-search"
    search.type("13700001234")
    page.wait_for_selector("#register-caller")
    search.press("Enter")
    page.wait_for_selector("#intake-form input[name=c_name]")
    assert page.evaluate("document.activeElement.name") == "c_name"
    watch.check("new caller form")
    page.keyboard.type("王秋生")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "c_phone"
    assert page.input_value("input[name=c_phone]") == "13700001234"
    for name, value in (("c_province", "河南省"), ("c_city", "郑州市"), ("c_county", "中牟县"), ("c_township", "官渡镇"),
                        ("c_village", "王庄村"), ("m_serial_number", "LX904-HA-0099"), ("m_engine_number", "YC4-778"),
                        ("m_invoice_date", "2026-05-10"), ("crop", "玉米"), ("operation", "播种"),
                        ("field_location", "中牟县官渡镇王庄村北地"), ("symptom", "发动机冒黑烟，动力不足")):
        page.fill(f"#intake-form [name={name}]", value)
    # Saved without the model: refused, and everything typed is still there.
    page.locator("#intake-form select[name=m_model_code]").evaluate("e => e.removeAttribute('required')")
    with watch.expecting(422), page.expect_navigation():
        page.press("#intake-form input[name=crop]", "Enter")
    watch.check("refused intake")
    assert page.locator(".alert.danger").count() == 1
    for name, value in (("c_name", "王秋生"), ("c_phone", "13700001234"), ("c_township", "官渡镇"),
                        ("m_serial_number", "LX904-HA-0099"), ("crop", "玉米"), ("symptom", "发动机冒黑烟，动力不足")):
        assert page.input_value(f"#intake-form [name={name}]") == value, name
    page.select_option("#intake-form select[name=m_model_code]", "LX904")
    with page.expect_navigation():
        page.press("#intake-form input[name=operation]", "Enter")
    watch.check("new caller's order")
    new_order = ServiceOrder.objects.get(customer__name="王秋生")
    assert new_order.machine.serial_number == "LX904-HA-0099" and new_order.status == OrderStatus.NEW

    # The farmer calls: the search finds him, Enter takes the call, Enter saves.
    page.goto(f"{base}/desk/")
    page.locator("#caller-search").type("5678")
    page.wait_for_selector(f"#lookup >> text={tractor.serial_number}")
    page.locator("#caller-search").press("Enter")
    page.wait_for_selector("#intake-form input[name=contact_name]")
    assert page.evaluate("document.activeElement.name") == "contact_name"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "contact_phone"
    assert "上门服务" in page.locator("#proposal").inner_text()
    watch.check("farmer's intake with the warranty proposal")
    page.fill("#intake-form textarea[name=symptom]", "收割机割台堵塞，拨禾轮不转")
    page.fill("#intake-form input[name=crop]", "小麦")
    with page.expect_navigation():
        page.press("#intake-form input[name=crop]", "Enter")
    watch.check("farmer's order")
    farmer_order = ServiceOrder.objects.get(customer=farmer)
    page.context.close()
    on_phone(browser, live_server, net.agent, "/desk/")

    # --- 信息协调员: the next step is open at the top -------------------------------------------
    page, watch = login(browser, live_server, net.info_coordinator)
    assert new_order.number in page.content()
    for order in (new_order, farmer_order):
        page.goto(f"{base}/orders/{order.pk}/")
        first = page.locator("#actions details.action").first
        assert first.get_attribute("id") == "action-forward" and first.get_attribute("open") is not None
        act(page, watch, "forward", selects={"hotline_technician_id": net.hotline_tech.pk})
        assert "已转交" in page.locator("h1").inner_text()  # the status badge (the clocks sit beside it)
    page.context.close()
    on_phone(browser, live_server, net.info_coordinator, f"/orders/{new_order.pk}/")

    # --- 热线技术员: call back, diagnosis steps one per line, then dispatch or escalate ----------
    page, watch = login(browser, live_server, net.hotline_tech)
    page.goto(f"{base}/orders/{new_order.pk}/")
    act(page, watch, "callback")
    act(page, watch, "diagnose", fields={"steps": "检查空气滤清器\n检查喷油嘴雾化"})
    assert page.locator("#diagnosis-steps li").all_inner_texts() == ["检查空气滤清器", "检查喷油嘴雾化"]
    act(page, watch, "confirm_mode", selects={"service_mode": "on_site"})
    page.goto(f"{base}/orders/{farmer_order.pk}/")
    act(page, watch, "callback")
    act(page, watch, "escalate", fields={"problem": "割台堵塞反复出现，疑为拨禾轮离合器故障", "tried": "清理割台，调整拨禾轮高度"})
    page.context.close()
    on_phone(browser, live_server, net.hotline_tech, f"/orders/{farmer_order.pk}/")

    # --- 技术工程师: the question and what was tried are on the page ----------------------------
    page, watch = login(browser, live_server, net.engineer)
    page.goto(f"{base}/orders/{farmer_order.pk}/")
    escalation = page.locator(".escalation").inner_text()
    assert "拨禾轮离合器" in escalation and "清理割台" in escalation
    act(page, watch, "answer_escalation", selects={"outcome": "guidance"}, fields={"answer": "更换拨禾轮安全离合器弹簧"})
    assert "更换拨禾轮安全离合器弹簧" in page.locator(".escalation").inner_text()
    page.context.close()
    on_phone(browser, live_server, net.engineer, f"/orders/{farmer_order.pk}/")

    # --- 维修协调员: dispatch to the Henan branch -----------------------------------------------
    page, watch = login(browser, live_server, net.repair_coordinator)
    page.goto(f"{base}/orders/{new_order.pk}/")
    act(page, watch, "dispatch", selects={"organization_id": net.branch_henan.pk})
    page.context.close()
    on_phone(browser, live_server, net.repair_coordinator, "/queue/")

    # --- 分店维修技术员 on a 390-wide phone -----------------------------------------------------
    page, watch = login(browser, live_server, net.branch_tech, viewport=PHONE)
    assert page.url.endswith("/tech/")
    waiting = page.locator("#waiting ~ .order-card", has_text=new_order.number)
    assert waiting.count() == 1
    assert waiting.locator("a[href^='tel:']").count() == 1 and waiting.locator("a[href*='amap']").count() == 1
    assert "中牟县" in waiting.inner_text() and waiting.inner_text().count("中牟县") == 1
    watch.check("tech list")
    page.goto(f"{base}/orders/{new_order.pk}/")
    act(page, watch, "accept")
    act(page, watch, "assign", selects={"technician_id": net.branch_tech.pk})
    assert page.locator("#actions details.action").first.get_attribute("id") == "action-tech_accept"
    act(page, watch, "tech_accept")
    tomorrow = timezone.localtime() + timedelta(days=1)
    act(page, watch, "schedule", fields={"appointment_at": tomorrow.strftime("%Y-%m-%dT09:30")})
    first = page.locator("#actions details.action").first
    assert first.get_attribute("id") == "action-check_in" and first.get_attribute("open") is not None
    assert page.locator("#actions details.action.blocked:visible").count() == 0  # nothing blocked on the phone
    act(page, watch, "check_in")
    # A refused service record keeps what was typed and stores no photo for the refused form.
    record = page.locator("#action-record_service")
    record.locator("input[name=photos]").set_input_files(
        files=[{"name": "field.png", "mimeType": "image/png", "buffer": png_bytes()}])
    typed = {"fault_found": "空气滤清器堵塞", "solution": "更换空气滤清器滤芯", "diagnosis_steps": "拆检空滤\n检查进气管",
             "parts-0-part_number": "LX-2201", "parts-0-name": "空滤滤芯", "parts-0-quantity": "一个"}
    for name, value in typed.items():
        record.locator(f"[name='{name}']").fill(value)
    with watch.expecting(422), page.expect_navigation():
        record.locator("button[type=submit]").last.click()
    watch.check("refused service record")
    record = page.locator("#action-record_service")
    assert record.get_attribute("open") is not None
    for name, value in typed.items():
        assert record.locator(f"[name='{name}']").input_value() == value, name
    assert not new_order.attachments.exists()
    record.locator("[name='parts-0-quantity']").fill("1")
    record.locator("input[name=photos]").set_input_files(
        files=[{"name": "field.png", "mimeType": "image/png", "buffer": png_bytes()}])
    with page.expect_navigation():
        record.locator("button[type=submit]").last.click()
    watch.check("service record")
    new_order.refresh_from_db()
    assert new_order.attachments.filter(kind="photo").count() == 1
    assert new_order.service_record.diagnosis_steps == ["拆检空滤", "检查进气管"]
    assert [p.quantity for p in new_order.service_record.parts.all()] == [1]
    act(page, watch, "check_out")
    confirm = page.locator("#action-confirm")
    canvas = confirm.locator("canvas.signature")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + 30)
    page.mouse.down()
    for step in range(1, 10):
        page.mouse.move(box["x"] + 20 + step * 25, box["y"] + 30 + (step % 3) * 20)
    page.mouse.up()
    act(page, watch, "confirm", fields={"name": "王秋生"})
    new_order.refresh_from_db()
    assert new_order.status == OrderStatus.COMPLETED
    page.goto(f"{base}/tech/")
    watch.check("tech list after the day")
    page.context.close()

    # --- 督查: a complaint shows its category, severity, the original order and the words -----
    complaint = services.order_create(actor=net.agent, data=services.OrderInput(
        order_type="complaint", customer_id=farmer.pk, about_order_id=farmer_order.pk,
        complaint_category="delay", complaint_severity="high", symptom="师傅约好上午来，下午才到，耽误收麦")).order
    page, watch = login(browser, live_server, net.supervisor)
    watch.check("supervision")
    page.goto(f"{base}/orders/{complaint.pk}/")
    facts = page.locator("#complaint").inner_text()
    assert "高" in facts and farmer_order.number in facts
    assert "耽误收麦" in page.content()
    act(page, watch, "investigate")
    page.context.close()
    on_phone(browser, live_server, net.supervisor, "/supervisor/")
    on_phone(browser, live_server, net.supervisor, f"/orders/{complaint.pk}/")
