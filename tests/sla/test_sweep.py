"""Clocks kept by the order hook, the sweeper (idempotent, concurrent, escalation levels), the API."""

import threading
from datetime import timedelta

import pytest
from django.db import connection

from aftersales.core import config
from aftersales.notify.models import OutboxMessage
from aftersales.sla import services
from aftersales.sla.models import SlaClock, SlaPolicy
from tests.service.helpers import Actor, create, repair_body, shandong_farmer

pytestmark = pytest.mark.django_db


def new_order(api, net, i: int = 0) -> dict:
    customer, machine = shandong_farmer(phone=f"1391234{i:04d}", serial=f"LX904-SD-{i:04d}")
    status, body = create(api, net, repair_body(customer, machine))
    assert status == 201, body
    return body


def handoff(order_id) -> SlaClock:
    return SlaClock.objects.get(order_id=order_id, target="handoff")


def notices(template: str) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(template=template).order_by("id"))


def test_the_hook_keeps_clocks_and_the_api_shows_them(net, api):
    order = new_order(api, net)
    clock = handoff(order["id"])
    # seed: the 15-minute handoff is the information coordinators', not the call agent's who took the call
    assert clock.state == "running" and clock.due_at > clock.started_at
    assert (clock.holder_org_id, clock.holder_user_id, clock.holder_pool) == (
        net.service_center.pk, None, "information_coordinator")
    Actor(api, net, net.info_coordinator).ok(order["id"], "forward", hotline_technician_id=net.hotline_tech.pk)
    status, clocks = api.get(f"/orders/{order['id']}/clocks", token=net.token(net.agent))
    assert status == 200
    by_target = {c["target"]: c for c in clocks}
    assert by_target["handoff"]["state"] == "met" and by_target["callback"]["state"] == "running"
    assert by_target["callback"]["holder_user_id"] == net.hotline_tech.pk
    assert api.get(f"/orders/{order['id']}/clocks", token=net.token(net.other_agency_tech))[0] == 404


def test_pause_and_resume_through_the_order_actions(net, api):
    order = new_order(api, net)
    hotline = Actor(api, net, net.hotline_tech)
    Actor(api, net, net.info_coordinator).ok(order["id"], "forward", hotline_technician_id=net.hotline_tech.pk)
    assert hotline(order["id"], "pause_clock", reason="sunny")[0] == 422
    hotline.ok(order["id"], "pause_clock", reason="waiting_customer")
    callback = SlaClock.objects.get(order_id=order["id"], target="callback")
    assert (callback.state, callback.due_at) == ("paused", None)
    assert hotline(order["id"], "pause_clock", reason="weather")[1]["code"] == "guard_failed"
    hotline.ok(order["id"], "resume_clock")
    callback.refresh_from_db()
    assert callback.state == "running" and callback.pauses[0]["reason"] == "waiting_customer"


def test_the_sweep_marks_once_and_escalates_in_order_once(net, api, phones):
    order = new_order(api, net)
    due = handoff(order["id"]).due_at
    warned = services.sweep(now=due - timedelta(seconds=30))  # past 80 % of 15 min
    # seed: the warning goes to the information coordinators who must forward, not to the call agent
    coordinator_phone = net.agent.__class__.objects.get(pk=net.info_coordinator.pk).phone
    assert warned["warned"] == 1 and [m.recipient for m in notices("sla_warning")] == [coordinator_phone]
    assert services.sweep(now=due - timedelta(seconds=20))["messages"] == 0

    first = services.sweep(now=due + timedelta(minutes=31))
    assert (first["breached"], first["escalated"]) == (1, 1)
    assert [m.recipient for m in notices("sla_breach")] == [coordinator_phone]
    level1 = notices("sla_escalation")
    assert [m.context["level"] for m in level1] == [1] and level1[0].recipient == net.repair_coordinator.__class__.objects.get(pk=net.repair_coordinator.pk).phone
    assert services.sweep(now=due + timedelta(minutes=40)) == {"warned": 0, "breached": 0, "escalated": 0, "messages": 0}

    services.sweep(now=due + timedelta(hours=3))
    assert [m.context["level"] for m in notices("sla_escalation")] == [1, 2]
    assert handoff(order["id"]).escalation_level == 2
    total = OutboxMessage.objects.count()
    services.sweep(now=due + timedelta(days=3))
    assert OutboxMessage.objects.count() == total


def test_a_long_overdue_clock_climbs_every_level_in_one_sweep_in_order(net, api, phones):
    order = new_order(api, net)
    result = services.sweep(now=handoff(order["id"]).due_at + timedelta(days=1))
    assert (result["warned"], result["breached"], result["escalated"]) == (0, 1, 2)
    assert [m.context["level"] for m in notices("sla_escalation")] == [1, 2]
    assert notices("sla_warning") == []


def test_a_cancelled_order_is_not_swept(net, api, phones):
    order = new_order(api, net)
    Actor(api, net, net.agent).ok(order["id"], "cancel", reason="客户自行修好")
    assert handoff(order["id"]).state == "cancelled"
    assert services.sweep(now=handoff(order["id"]).started_at + timedelta(days=5))["breached"] == 0


def test_a_longer_policy_recomputes_due_times_from_history(net, api):
    order = new_order(api, net)
    before = handoff(order["id"])
    SlaPolicy.objects.filter(target="handoff").update(amount=45)
    config.changed()  # update() sends no signal: what any code writing rules this way must do
    assert services.clocks_recompute(order_ids=[order["id"]]) == 1
    after = handoff(order["id"])
    assert after.started_at == before.started_at and after.due_at > before.due_at
    assert after.target_seconds == 45 * 60


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_sweeps_notify_once(net, api, phones):
    ids = [new_order(api, net, i)["id"] for i in range(3)]
    now = max(handoff(i).due_at for i in ids) + timedelta(minutes=5)
    barrier, results, errors = threading.Barrier(2), [], []

    def run():
        try:
            barrier.wait()
            results.append(services.sweep(now=now))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(r["breached"] for r in results) == [0, 3]
    assert len(notices("sla_breach")) == 3
    assert SlaClock.objects.filter(breach_noticed_at__isnull=False).count() == 3


def test_overdue_and_at_risk_lists_sorted_by_time_left(net, api):
    first, second = new_order(api, net, 1), new_order(api, net, 2)
    # the first is further past due: less time left
    SlaClock.objects.filter(order_id=first["id"], target="handoff").update(due_at=handoff(first["id"]).due_at - timedelta(days=2),
                                                         warn_at=handoff(first["id"]).warn_at - timedelta(days=2))
    SlaClock.objects.filter(order_id=second["id"], target="handoff").update(due_at=handoff(second["id"]).due_at - timedelta(days=1),
                                                          warn_at=handoff(second["id"]).warn_at - timedelta(days=1))
    # seed: the coordinators' overdue list holds the late handoffs; the call agent's is empty
    status, mine = api.get("/sla/overdue", token=net.token(net.info_coordinator))
    assert status == 200 and [c["order_id"] for c in mine] == [first["id"], second["id"]]
    assert mine[0]["seconds_left"] < mine[1]["seconds_left"] < 0
    # past due reads breached before any sweep has run
    assert [c["state"] for c in mine] == ["breached", "breached"] and mine[0]["breach_noticed_at"] is None
    assert api.get("/sla/overdue", token=net.token(net.agent))[1] == []
    status, risk = api.get("/sla/at-risk", token=net.token(net.info_coordinator))
    assert [c["order_id"] for c in risk] == [first["id"], second["id"]]
    assert api.get("/sla/at-risk", token=net.token(net.agency_tech), organization_id=net.service_center.pk)[0] == 404
    assert api.get("/sla/overdue", token=net.token(net.hotline_tech))[1] == []


def test_policy_crud_is_for_administrators(net, api):
    body = {"name": "到达现场 4 小时（重点客户）", "target": "on_site", "amount": 4, "unit": "hours", "basis": "working",
            "service_levels": ["priority"], "order_types": ["repair"]}
    assert api.post("/sla/policies", body, token=net.token(net.supervisor))[0] == 403
    status, created = api.post("/sla/policies", body, token=net.token(net.admin))
    assert status == 201 and created["service_levels"] == ["priority"]
    status, bad = api.post("/sla/policies", {**body, "target": "teatime", "amount": 0}, token=net.token(net.admin))
    assert status == 422 and {e["field"] for e in bad["errors"]} >= {"target", "amount"}
    status, changed = api.put(f"/sla/policies/{created['id']}", {**body, "amount": 3}, token=net.token(net.admin))
    assert status == 200 and changed["amount"] == 3
    assert api.delete(f"/sla/policies/{created['id']}", token=net.token(net.admin))[0] == 204
    assert api.delete(f"/sla/policies/{created['id']}", token=net.token(net.admin))[0] == 404
    assert len(api.get("/sla/policies", token=net.token(net.agent))[1]) == SlaPolicy.objects.count()
