"""An unknown sender's repair completed from the mailbox draft in a real browser: the desk's
new-customer and new-machine fields on the draft page; a missing serial number is refused naming
the field with nothing saved; then the draft becomes an order with the customer and machine made."""

from __future__ import annotations

import pytest

from aftersales.inbox.models import IntakeDraft
from aftersales.registry.models import Customer, Machine
from aftersales.service.models import ServiceOrder
from tests.support import make_model
from tests.web.test_a11y import axe_violations
from tests.web.test_browser import browser, session  # noqa: F401 (browser is a fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_unknown_senders_repair_becomes_an_order_with_a_new_customer_and_machine(browser, live_server, net):  # noqa: F811
    model = make_model()
    draft = IntakeDraft.objects.create(message_key="<new-1@example.com>", kind="email", sender="zhao@example.com",
                                       sender_name="赵大田", subject="拖拉机打不着火", body="早上起来拖拉机打不着火，冒白烟。")
    page = session(browser, live_server, net.agent)
    page.goto(f"{live_server.url}/mailbox/{draft.pk}/")
    form = page.locator("#complete-form")
    assert form.locator("input[name=c_name]").input_value() == "赵大田"
    assert not axe_violations(page), axe_violations(page)
    form.locator("input[name=phone]").fill("13677778888")
    form.locator("input[name=c_province]").fill("山东省")
    form.locator("input[name=c_city]").fill("潍坊市")
    form.locator("select[name=machine]").select_option("new")
    form.locator("select[name=m_model_code]").select_option(model.code)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    # No serial number: refused, naming the field; nothing saved, the typing kept.
    assert page.locator(".msg-error").count() >= 1
    assert page.locator("#complete-form input[name=c_province]").input_value() == "山东省"
    assert not ServiceOrder.objects.exists() and not Customer.objects.filter(name="赵大田").exists()
    form = page.locator("#complete-form")
    assert form.locator("select[name=machine]").input_value() == "new"
    form.locator("input[name=m_serial_number]").fill("LX904-SD-7777")
    form.locator("input[name=m_invoice_date]").fill("2026-04-01")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    order = ServiceOrder.objects.get()
    assert page.url.endswith(f"/orders/{order.pk}/")
    assert (order.channel, order.order_type, order.customer.name, order.customer.province) == ("email", "repair", "赵大田", "山东省")
    assert order.contact_phone == "+8613677778888"
    machine = Machine.objects.get(serial_number="LX904-SD-7777")
    assert order.machine == machine and machine.owner == order.customer and machine.model == model
    draft.refresh_from_db()
    assert (draft.state, draft.order) == ("completed", order)
    page.context.close()
