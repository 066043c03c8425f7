"""/api/v1/stats: figures from the orders' real events, scoped to what the caller may see."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

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
    coordinator.ok(sd["id"], "dispatch", organization_id=net.branch_henan.pk)
    Actor(api, net, net.branch_tech).ok(sd["id"], "reject", reason="不在服务区域")
    coordinator.ok(sd["id"], "dispatch", organization_id=net.agency_shandong.pk)
    t = Actor(api, net, net.agency_tech)
    t.ok(sd["id"], "accept")
    t.ok(sd["id"], "assign", technician_id=net.agency_tech.pk)
    t.ok(sd["id"], "tech_accept")
    t.ok(sd["id"], "schedule", appointment_at=(timezone.now() + timedelta(hours=2)).isoformat())
    t.ok(sd["id"], "check_in")
    _to_tech_accepted(api, net, ha["id"], net.branch_henan, net.branch_tech)
    return sd["id"], ha["id"]


def test_supervisor_sees_the_network_figures_by_organization(net, api, two_orders):
    status, body = api.get("/stats/kpis", token=net.token(net.supervisor), group_by="organization")
    assert status == 200, body
    rows = {r["group"]: r["measures"] for r in body["rows"]}
    assert set(rows) == {"潍坊金丰农机维修站", "郑州直营分店"}
    assert rows["潍坊金丰农机维修站"]["intake"]["value"] == 1
    # the Shandong order was dispatched twice and has arrived; the Henan one not yet
    assert rows["潍坊金丰农机维修站"]["arrival"]["n"] == 1
    assert rows["郑州直营分店"]["arrival"]["n"] == 0
    assert rows["郑州直营分店"]["handoff"]["n"] == 1
    assert rows["郑州直营分店"]["handoff_attainment"]["value"] == 1.0  # forwarded at once


def test_a_partner_sees_only_its_own_orders_in_figures_and_map(net, api, two_orders):
    sd_id, ha_id = two_orders
    status, body = api.get("/stats/kpis", token=net.token(net.agency_tech))
    assert status == 200, body
    assert body["rows"][0]["measures"]["intake"]["value"] == 1
    status, pm = api.get("/stats/process-map", token=net.token(net.agency_tech))
    assert status == 200
    assert pm["orders"] == 1
    examples = [i for d in pm["deviations"] for i in d["examples"]]
    assert ha_id not in examples


def test_process_map_shows_the_dispatch_ping_pong_as_a_deviation(net, api, two_orders):
    sd_id, _ = two_orders
    status, pm = api.get("/stats/process-map", token=net.token(net.supervisor))
    assert status == 200, pm
    assert pm["orders"] == 2
    devs = {d["code"]: d for d in pm["deviations"]}
    assert devs["dispatch_ping_pong"]["examples"] == [sd_id]
    edges = {(e["source"], e["target"]): e for e in pm["edges"]}
    assert edges[("dispatched", "awaiting_dispatch")] == {**edges[("dispatched", "awaiting_dispatch")], "designed": False, "count": 1}
    assert edges[("new", "forwarded")]["count"] == 2


def test_bad_periods_and_groups_are_refused_with_the_field(net, api):
    token = net.token(net.supervisor)
    status, body = api.get("/stats/kpis", token=token, date_from="2026-05-01", date_to="2026-04-01")
    assert status == 422 and body["errors"][0]["field"] == "date_from"
    status, body = api.get("/stats/kpis", token=token, date_from="2024-01-01", date_to="2026-04-01")
    assert status == 422 and body["errors"][0]["field"] == "date_to"
    status, body = api.get("/stats/kpis", token=token, group_by="colour")
    assert status == 422 and "group_by" in body["errors"][0]["field"]


def test_users_without_a_role_read_no_statistics(net, api):
    from tests.support import make_user
    nobody = make_user("norole", net.dealer_henan)
    status, body = api.get("/stats/kpis", token=net.token(nobody))
    assert status == 403 and body["code"] == "forbidden"
