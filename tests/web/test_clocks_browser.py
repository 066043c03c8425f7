"""Time limits and notifications in a real browser (headless Chromium through Playwright, launched
as test_browser.py does): the information coordinator sees the 15-minute handoff clock on the
queue, the bell counts what the system told them and the inbox opens the order; the supervisor
sees breaches per hop; the technician sees the overdue clock in red on the phone."""

from __future__ import annotations

import importlib
from datetime import datetime

import pytest
from django.apps import apps

from aftersales.notify.models import Notification
from aftersales.service import services
from aftersales.sla.models import SlaClock
from tests.service.helpers import shandong_farmer
from tests.web.test_browser import OFFICE, PHONE, browser, session  # noqa: F401 - the shared browser fixture
from tests.web.test_clocks import run_out

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def farmer(sla_defaults):
    return shandong_farmer()


@pytest.fixture(autouse=True)
def sla_defaults(transactional_db):
    """The default SLA policies of the data migration (a transactional test's flush removes them)."""
    importlib.import_module("aftersales.sla.migrations.0002_defaults").ensure_defaults(apps, None)


def new_order(net, farmer, i: int = 0):
    customer, machine = farmer
    data = services.OrderInput(order_type="repair", customer_id=customer.pk, machine_id=machine.pk, crop="小麦",
                               operation="犁地", symptom=f"拖拉机启动困难，冒黑烟 {i}", urgency="urgent",
                               duplicate_reason=f"第{i}次" if i else "")
    return services.order_create(actor=net.agent, data=data).order


def watch_errors(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    return errors


def test_seed_15_minute_handoff_clock_on_the_coordinators_queue_and_the_bell_leads_to_the_order(browser, live_server, net, farmer):  # noqa: F811
    """Seed: the information coordinator forwards a call within 15 minutes; the clock is theirs."""
    order = new_order(net, farmer)
    page = session(browser, live_server, net.info_coordinator)
    errors = watch_errors(page)
    page.goto(f"{live_server.url}/queue/")
    row = page.locator("#order-rows tr", has_text=order.number)
    badge = row.locator(".clock")
    assert badge.get_attribute("data-state") == "running" and badge.get_attribute("data-hop") == "handoff"
    due = datetime.fromisoformat(badge.get_attribute("data-due"))
    assert due == SlaClock.objects.get(order=order, target="handoff").due_at
    assert badge.inner_text().startswith("转交热线技术员") and "剩余" in badge.inner_text()

    # the bell counts the notification; the inbox links to the order and opening it marks it read
    bell = page.locator("#bell")
    assert bell.get_attribute("data-unread") == "1" and bell.locator(".bell-count").inner_text() == "1"
    bell.click()
    page.wait_for_url(f"{live_server.url}/inbox/")
    link = page.locator("#inbox li.unread a", has_text=order.number)
    assert link.count() == 1
    link.click()
    page.wait_for_url(f"{live_server.url}/orders/{order.pk}/")
    assert page.locator("#bell").get_attribute("data-unread") == "0"
    assert Notification.objects.get(user=net.info_coordinator).read_at is not None

    # past due: breached on the queue before any sweep has run
    run_out(order)
    page.goto(f"{live_server.url}/queue/")
    badge = page.locator("#order-rows tr", has_text=order.number).locator(".clock")
    assert badge.get_attribute("data-state") == "breached" and "超时" in badge.inner_text()
    assert errors == []
    page.context.close()


def test_supervisor_sees_breaches_per_hop_when_breaches_exist(browser, live_server, net, farmer):  # noqa: F811
    orders = [new_order(net, farmer, i) for i in range(3)]
    for o in orders[:2]:
        run_out(o)
    page = session(browser, live_server, net.supervisor)
    errors = watch_errors(page)
    page.goto(f"{live_server.url}/supervisor/")
    handoff = page.locator("#breaches-by-hop tr[data-hop=handoff]")
    assert handoff.get_attribute("data-count") == "2"
    assert page.locator("#breaches-by-org tr[data-count='2']", has_text="开拓机械服务中心").count() == 1
    assert page.locator("[data-figure=overdue] .figure").inner_text().strip() == "2"
    assert "没有超时" not in page.content()
    # the bar is drawn: the handoff row's bar is the longest
    assert float(handoff.locator("rect").get_attribute("width")) == 100.0
    assert page.locator("#intake-chart rect.col").count() == 30
    assert errors == []
    page.context.close()


def test_technician_sees_the_overdue_clock_in_red_on_the_phone(browser, live_server, net, farmer):  # noqa: F811
    order = new_order(net, farmer)
    order = services.order_forward(actor=net.info_coordinator, order_id=order.pk, version=order.version,
                                   hotline_technician_id=net.hotline_tech.pk)
    order = services.order_callback(actor=net.hotline_tech, order_id=order.pk, version=order.version)
    order = services.order_confirm_mode(actor=net.hotline_tech, order_id=order.pk, version=order.version,
                                        service_mode="on_site", steps=["检查油路"])
    order = services.order_dispatch(actor=net.repair_coordinator, order_id=order.pk, version=order.version,
                                    organization_id=net.agency_shandong.pk, technician_id=net.agency_tech.pk)
    run_out(order, "dispatch_accept", minutes=40)
    page = session(browser, live_server, net.agency_tech, viewport=PHONE)
    errors = watch_errors(page)
    page.goto(f"{live_server.url}/tech/")
    badge = page.locator(".order-card", has_text=order.number).locator(".clock")
    assert badge.get_attribute("data-state") == "breached" and badge.get_attribute("data-hop") == "dispatch_accept"
    colour = badge.evaluate("el => getComputedStyle(el).color")
    assert colour == "rgb(179, 38, 30)"  # the danger red of .clock-breached
    assert "超时" in badge.inner_text()
    assert errors == []
    page.context.close()
