"""Two real orders through the API: one served by the Shandong agency after the Henan branch
rejected it, one by the Henan branch (not yet on site)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from aftersales.stats.services import aggregates_refresh
from tests.service.helpers import Actor, create, repair_body, shandong_farmer
from tests.support import make_customer, make_machine


def _to_tech_accepted(api, net, order_id, org, tech):
    Actor(api, net, net.info_coordinator).ok(order_id, "forward", hotline_technician_id=net.hotline_tech.pk)
    hotline = Actor(api, net, net.hotline_tech)
    hotline.ok(order_id, "callback")
    hotline.ok(order_id, "diagnose", steps=["询问启动过程"])
    hotline.ok(order_id, "confirm_mode", service_mode="on_site", reason="客户要求上门")
    Actor(api, net, net.repair_coordinator).ok(order_id, "dispatch", organization_id=org.pk)
    t = Actor(api, net, tech)
    t.ok(order_id, "accept")
    t.ok(order_id, "assign", technician_id=tech.pk)
    t.ok(order_id, "tech_accept")
    return t


@pytest.fixture
def two_orders(net, api):
    """One order served by the Shandong agency (rejected once by the Henan branch first) and one by the branch."""
    owner, machine = shandong_farmer()
    _, sd = create(api, net, repair_body(owner, machine))
    henan = make_customer("王建国", "13698765432", province="河南省", city="郑州市", county="中牟县")
    _, ha = create(api, net, repair_body(henan, make_machine("LX904-HA-0009", henan), symptom="液压提升无力"))
    Actor(api, net, net.info_coordinator).ok(sd["id"], "forward", hotline_technician_id=net.hotline_tech.pk)
    hotline = Actor(api, net, net.hotline_tech)
    hotline.ok(sd["id"], "callback")
    hotline.ok(sd["id"], "confirm_mode", service_mode="on_site", reason="客户要求上门")
    coordinator = Actor(api, net, net.repair_coordinator)
    coordinator.ok(sd["id"], "dispatch", organization_id=net.branch_henan.pk, outside_coverage_reason="山东站点满负荷，跨区支援")
    Actor(api, net, net.branch_tech).ok(sd["id"], "reject", reason="不在服务区域")
    coordinator.ok(sd["id"], "dispatch", organization_id=net.agency_shandong.pk)
    t = Actor(api, net, net.agency_tech)
    t.ok(sd["id"], "accept")
    t.ok(sd["id"], "assign", technician_id=net.agency_tech.pk)
    t.ok(sd["id"], "tech_accept")
    t.ok(sd["id"], "schedule", appointment_at=(timezone.now() + timedelta(hours=2)).isoformat())
    t.ok(sd["id"], "check_in")
    _to_tech_accepted(api, net, ha["id"], net.branch_henan, net.branch_tech)
    # The worker's tick: the dashboard reads the daily aggregates, which it keeps.
    aggregates_refresh()
    return sd["id"], ha["id"]
