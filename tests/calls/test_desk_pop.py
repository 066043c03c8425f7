"""The desk pops the caller as the phone rings, without a reload: the phone system's events are
posted (signed) to the live server while the agent's desk is open in Chromium."""

from __future__ import annotations

import json
import time
import urllib.request
from datetime import datetime, timezone

import pytest

from aftersales.calls import services
from aftersales.calls.models import Call
from aftersales.service.models import ServiceOrder
from tests.calls.helpers import event
from tests.service.helpers import shandong_farmer
from tests.web.test_browser import browser, session  # noqa: F401  (the module's Chromium fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def _post(url: str, token: str, secret: str, body: dict) -> dict:
    raw = json.dumps(body).encode()
    ts = str(int(time.time()))
    request = urllib.request.Request(f"{url}/api/v1/calls/events", data=raw, method="POST", headers={
        "Content-Type": "application/json", "X-CTI-Token": token, "X-CTI-Timestamp": ts,
        "X-CTI-Signature": "sha256=" + services.sign(secret, ts, raw)})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def test_a_ringing_phone_pops_the_caller_on_the_desk(browser, live_server, net):  # noqa: F811
    customer, machine = shandong_farmer()
    _system, token, secret = services.phone_system_create(name="Asterisk", organization_id=net.service_center.pk)
    services.extension_set(user=net.agent, extension="8001")
    page = session(browser, live_server, net.agent)
    assert page.url.endswith("/desk/")
    assert page.locator("#call-pop[data-call]").count() == 0

    # A known caller rings at the agent's extension: card (machine, warranty) and their intake form.
    now = datetime.now(timezone.utc)
    assert _post(live_server.url, token, secret, event("r1", "k1", "ringing", caller="13912345678", at=now))["state"] == "ringing"
    page.wait_for_selector("#call-pop[data-call]")
    assert "来电" in page.locator("#call-pop").inner_text()
    assert machine.serial_number in page.locator("#lookup").inner_text()
    assert customer.name in page.locator("#lookup").inner_text()
    page.wait_for_selector("#intake-form")
    assert page.locator("#intake-form input[name=customer]").get_attribute("value") == str(customer.pk)

    # The agent answers and records the order: it joins the call's log.
    _post(live_server.url, token, secret, event("r2", "k1", "answered", caller="13912345678"))
    page.fill("textarea[name=symptom]", "拖拉机启动困难，冒黑烟")
    with page.expect_navigation():
        page.locator("#intake-form button[type=submit]").click()
    order = ServiceOrder.objects.get()
    assert Call.objects.get(call_id="k1").order == order
    assert page.locator("#order-calls li").count() == 1

    # An unknown caller: the new-customer form with the number filled in.
    page.goto(f"{live_server.url}/desk/")
    _post(live_server.url, token, secret, event("r3", "k2", "ringing", caller="13655556666"))
    page.wait_for_selector("#call-pop[data-call]")
    page.wait_for_selector("#intake-form input[name=c_phone]")
    assert page.locator("#intake-form input[name=c_phone]").input_value() == "+8613655556666"
    assert page.locator("#intake-form input[name=customer]").get_attribute("value") == "new"
