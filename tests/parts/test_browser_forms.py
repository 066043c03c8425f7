"""In Chromium, on the technician's phone: the service record form takes a serial-tracked part by its
serial and a part listed for other models with the reason it was fitted, and a refused entry comes
back beside its row with everything typed; a refused parts form comes back with the typed values and
the field's error; the van is opened with a button, not by looking at the page."""

import pytest

from aftersales.parts import services
from aftersales.parts.models import MoveKind, SerialUnit, StockMove, Warehouse
from aftersales.service.models import PartUsage
from tests.parts.helpers import catalogue, centre, stocked
from tests.service.helpers import shandong_farmer
from tests.service.test_flows import _checked_in
from tests.support import make_model
from tests.web.test_browser import PHONE, browser, session  # noqa: F401 (browser is a fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def _record_form(page):
    details = page.locator("#action-record_service")
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    return details.locator("form")


def test_the_service_record_form_takes_a_serial_and_a_fit_reason(browser, live_server, net, api):  # noqa: F811
    parts = catalogue()
    cw = stocked(net, parts)
    phone = session(browser, live_server, net.agency_tech, viewport=PHONE)
    # The van is opened on purpose, from the van page (looking at it made nothing).
    phone.goto(f"{live_server.url}/parts/van/")
    assert not Warehouse.objects.filter(technician=net.agency_tech).exists()
    with phone.expect_navigation():
        phone.locator("[data-open-van]").click()
    my_van = Warehouse.objects.get(technician=net.agency_tech)
    services.stock_transfer(actor=net.repair_coordinator, from_warehouse_id=cw.pk, to_warehouse_id=my_van.pk,
                            part_id=parts["gearbox"].pk, quantity=1, serial="GBX-1")
    services.stock_transfer(actor=net.repair_coordinator, from_warehouse_id=cw.pk, to_warehouse_id=my_van.pk,
                            part_id=parts["pump"].pk, quantity=1)
    parts["pump"].models_fitted.add(make_model(code="LX1000", name="东方红LX1000拖拉机", power="73.5"))
    customer, machine = shandong_farmer()
    oid, _tech = _checked_in(api, net, customer, machine)

    phone.goto(f"{live_server.url}/orders/{oid}/")
    form = _record_form(phone)
    form.locator("[name=fault_found]").fill("变速箱异响，喷油泵供油不足")
    form.locator("[name=solution]").fill("更换变速箱总成和喷油泵")
    form.locator("[name='parts-0-part_number']").fill("GB-904")
    form.locator("[name='parts-0-quantity']").fill("1")
    form.locator("[name='parts-0-serial']").fill("GBX-1")
    form.locator("[name='parts-1-part_number']").fill("4110001")
    form.locator("[name='parts-1-quantity']").fill("1")
    with phone.expect_navigation():
        form.locator("button[type=submit]").last.click()
    # Refused: the pump is listed for another model. The error stands by the pump's row, all typed is kept.
    form = _record_form(phone)
    error = form.locator("[data-field-error='parts-1-fit_reason']")
    assert error.count() == 1 and "不适用于本机型" in error.inner_text()
    assert form.locator("[name='parts-1-fit_reason']").get_attribute("aria-invalid") == "true"
    assert form.locator("[name='parts-0-serial']").input_value() == "GBX-1"
    assert form.locator("[name=fault_found]").input_value() == "变速箱异响，喷油泵供油不足"
    assert not PartUsage.objects.filter(record__order_id=oid).exists()
    form.locator("[name='parts-1-fit_reason']").fill("同系列通用，技术中心同意")
    with phone.expect_navigation():
        form.locator("button[type=submit]").last.click()
    assert phone.locator(".msg-success").count() == 1, phone.locator("main").inner_text()[:500]
    assert SerialUnit.objects.get(serial="GBX-1").order_id == oid
    issued = {m.part_id: m for m in StockMove.objects.filter(order_id=oid, kind=MoveKind.ISSUE)}
    assert issued[parts["gearbox"].pk].serial == "GBX-1" and issued[parts["pump"].pk].reason == "同系列通用，技术中心同意"


def test_a_refused_parts_form_keeps_what_was_typed(browser, live_server, net):  # noqa: F811
    parts = catalogue()
    centre(net)
    services.van_ensure(technician=net.agency_tech)
    phone = session(browser, live_server, net.agency_tech, viewport=PHONE)
    phone.goto(f"{live_server.url}/parts/van/")
    form = phone.locator("form", has=phone.locator("#h-request"))
    form.locator("select[name=part_id]").select_option(str(parts["filter"].pk))
    form.locator("input[name=quantity]").fill("-2")
    form.locator("input[name=note]").fill("收割季备用，急")
    with phone.expect_navigation() as nav:
        form.locator("button[type=submit]").click()
    assert nav.value.status == 422
    form = phone.locator("form", has=phone.locator("#h-request"))
    assert form.locator("[data-field-error=quantity]").count() == 1
    assert form.locator("input[name=note]").input_value() == "收割季备用，急"
    assert form.locator("input[name=quantity]").input_value() == "-2"
    assert form.locator("select[name=part_id]").input_value() == str(parts["filter"].pk)
    # Corrected, it goes through and the page is the van's again.
    form.locator("input[name=quantity]").fill("2")
    with phone.expect_navigation():
        form.locator("button[type=submit]").click()
    assert phone.url.endswith("/parts/van/") and phone.locator(".msg-success").count() == 1
