"""待件 extends 三包 (warranty.md, [S]: days waiting for parts are not counted): the days an order
waited for its requisition reach the warranty engine as facts, so the machine's answer (API, the
order page, the hotline's caller card, the portal's status) shows the extended end with the reason."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from aftersales.parts.models import Requisition
from aftersales.portal.status import machine_status
from aftersales.service.models import ServiceOrder
from tests.parts.helpers import catalogue, stocked, van
from tests.service.helpers import shandong_farmer
from tests.service.test_flows import _checked_in

pytestmark = pytest.mark.django_db


def test_waiting_for_parts_extends_the_warranty_with_the_reason(net, api):
    parts = catalogue()
    stocked(net, parts, qty=5)
    van(net.agency_tech)
    customer, machine = shandong_farmer()
    oid, _tech = _checked_in(api, net, customer, machine)
    t_tech, t_desk = net.token(net.agency_tech), net.token(net.repair_coordinator)
    status, req = api.post("/requisitions", {"order_id": oid, "lines": [{"part_id": parts["pump"].pk, "quantity": "1"}]},
                           token=t_tech)
    assert status == 201, req
    # The machine came in nine days ago and the pump was asked for six days ago (the past, by the clock).
    now = timezone.now()
    ServiceOrder.objects.filter(pk=oid).update(created_at=now - timedelta(days=9))
    Requisition.objects.filter(pk=req["id"]).update(created_at=now - timedelta(days=6))
    status, req = api.post(f"/requisitions/{req['id']}/actions/approve", {"version": req["version"]}, token=t_desk)
    status, req = api.post(f"/requisitions/{req['id']}/actions/ship",
                           {"version": req["version"], "tracking_number": "SF1"}, token=t_desk)
    status, req = api.post(f"/requisitions/{req['id']}/actions/receive", {"version": req["version"]}, token=t_tech)
    assert status == 200 and req["waiting_days"] == 6

    status, ev = api.post("/warranty/evaluate", {"machine_id": machine.pk}, token=net.token(net.agent))
    assert status == 200, ev
    whole = ev["coverage"]["whole_machine"]
    # Nine days in repair, six of them waiting for the pump: nine, counted once.
    assert whole["parts_wait_days"] == 6 and whole["extension_days"] == 9
    (why,) = [r for r in ev["reasons"] if r["code"] == "extension_parts_wait"]
    assert req["number"] in why["text_zh"] and "等待配件 6 天" in why["text_zh"]

    page = Client()
    page.force_login(net.agency_tech)
    html = page.get(f"/orders/{oid}/").content.decode()
    assert f'data-end="{whole["end"]}"' in html and 'data-wait-days="6"' in html and "等待配件 6 天" in html
    assert machine_status(machine)["parts_wait_days"] == 6 and machine_status(machine)["end"] == whole["end"]

    # A paid repair's wait is the user's own: it extends nothing.
    ServiceOrder.objects.filter(pk=oid).update(service_mode="paid")
    status, ev = api.post("/warranty/evaluate", {"machine_id": machine.pk}, token=net.token(net.agent))
    assert ev["coverage"]["whole_machine"]["parts_wait_days"] == 0
    assert "extension_parts_wait" not in [r["code"] for r in ev["reasons"]]
