"""The daily aggregates equal a recomputation from the raw events, after a randomised history of real
actions through the API (kept up incrementally by refreshes in the middle of it), for every grouping
and for a partner's scope; a rebuild gives the same rows; a second refresh changes nothing."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from aftersales.stats import engine, selectors
from aftersales.stats.models import DailyAggregate, OrderDeviation, OrderFact, StatsBacklog
from aftersales.stats.services import aggregates_refresh
from tests.service.helpers import Actor, create, repair_body
from tests.support import make_customer, make_machine

GROUPINGS = ("none", "organization", "province", "model", "category", "order_type", "channel", "service_level", "month")


class Clock:
    """The wall clock the services read, moved on by the test so the history spans weeks."""

    def __init__(self, start):
        self.now = start

    def __call__(self):
        return self.now

    def tick(self, rng, low=1, high=240):
        self.now += timedelta(minutes=rng.randint(low, high))


def _customer(i, province):
    cities = {"山东省": ("潍坊市", "寿光市"), "河南省": ("郑州市", "中牟县")}
    city, county = cities[province]
    owner = make_customer(f"客户{i}", f"1380000{i:04d}", province=province, city=city, county=county)
    return owner, make_machine(f"LX904-AG-{i:04d}", owner)


def _history(net, api, rng, clock, count):
    """``count`` orders down mixed paths; returns the open ones' next steps to finish later."""
    later = []
    coordinator = Actor(api, net, net.repair_coordinator)
    for i in range(count):
        clock.tick(rng, 60, 60 * 30)
        province = rng.choice(["山东省", "河南省"])
        owner, machine = _customer(i, province)
        path = rng.choice(["phone", "repair", "ping_pong", "complaint", "open"])
        if path == "complaint":
            _, o = create(api, net, {"order_type": "complaint", "customer_id": owner.pk, "symptom": "维修人员迟到",
                                     "complaint": {"about_org_id": net.agency_shandong.pk, "category": "attitude",
                                                   "severity": "high"}})
            oid = o["id"]
            s = Actor(api, net, net.supervisor)
            for action, data in (("investigate", {}), ("resolve", {"resolution": "书面警告", "findings": "属实"}),
                                 ("customer_reject", {"reason": "要求赔偿"}), ("resolve", {"resolution": "补偿"})):
                clock.tick(rng)
                s.ok(oid, action, **data)
            later.append((oid, [(net.agent, "customer_accept", {})]))
            continue
        status, o = create(api, net, repair_body(owner, machine, channel=rng.choice(["phone", "email"])))
        assert status == 201, o
        oid = o["id"]
        clock.tick(rng, 1, 30)
        Actor(api, net, net.info_coordinator).ok(oid, "forward", hotline_technician_id=net.hotline_tech.pk)
        hotline = Actor(api, net, net.hotline_tech)
        clock.tick(rng, 1, 60)
        hotline.ok(oid, "callback")
        clock.tick(rng)
        if path == "phone":
            hotline.ok(oid, "solve_by_phone", solution="指导复位")
            continue
        hotline.ok(oid, "confirm_mode", service_mode="on_site", reason="客户要求上门")
        org, tech = ((net.agency_shandong, net.agency_tech) if province == "山东省"
                     else (net.branch_henan, net.branch_tech))
        if path == "open":
            clock.tick(rng)
            coordinator.ok(oid, "dispatch", organization_id=org.pk)
            continue
        if path == "ping_pong":
            other, other_tech = ((net.branch_henan, net.branch_tech) if org == net.agency_shandong
                                 else (net.agency_shandong, net.agency_tech))
            coordinator.ok(oid, "dispatch", organization_id=other.pk, outside_coverage_reason="跨区支援")
            clock.tick(rng)
            Actor(api, net, other_tech).ok(oid, "reject", reason="不在服务区域")
        clock.tick(rng)
        coordinator.ok(oid, "dispatch", organization_id=org.pk)
        t = Actor(api, net, tech)
        for action, data in (("accept", {}), ("assign", {"technician_id": tech.pk}), ("tech_accept", {}),
                             # the appointment is checked against the real clock
                             ("schedule", {"appointment_at": (datetime.now(UTC) + timedelta(days=1)).isoformat()})):
            clock.tick(rng)
            t.ok(oid, action, **data)
        later.append((oid, [(tech, "check_in", {}), (tech, "record_service", {"fault_found": "滤芯堵塞", "solution": "更换"}),
                            (tech, "check_out", {})]))
    return later


def _recomputed(user, date_from, date_to, group_by):
    start, end, *_ = selectors.period(date_from, date_to, today=date_to)
    groups: dict[str, dict] = {}
    for trace in selectors.traces(user, start=start, end=end, group_by=group_by):
        engine.add_sums(groups.setdefault(trace.group, {}), engine.contributions(trace))
    return groups


def _same(a: dict, b: dict) -> None:
    assert set(a) == set(b)
    for group in a:
        assert set(a[group]) == set(b[group]), group
        for key, (n, total) in a[group].items():
            assert b[group][key][0] == n, (group, key)
            assert b[group][key][1] == pytest.approx(total, abs=1e-3), (group, key)


def _check(net, date_from, date_to):
    for user in (net.supervisor, net.agency_tech):
        for group_by in GROUPINGS:
            read = selectors.aggregate_sums(user, date_from=date_from, date_to=date_to, group_by=group_by)
            _same(_recomputed(user, date_from, date_to, group_by), read["groups"])


def test_aggregates_equal_the_recomputation_from_the_events(net, api, monkeypatch):
    rng = random.Random(15)
    clock = Clock(timezone.now() - timedelta(days=30))
    monkeypatch.setattr(timezone, "now", clock)
    later = _history(net, api, rng, clock, 10)
    assert StatsBacklog.objects.exists()  # every action marked its order, nothing counted yet
    assert aggregates_refresh() > 0 and not StatsBacklog.objects.exists()
    date_from, date_to = (clock.now - timedelta(days=40)).date(), (clock.now + timedelta(days=2)).date()
    _check(net, date_from, date_to)

    # The open orders go on: a refresh moves their figures (arrival, fix, edges) without counting twice.
    for oid, steps in later:
        for user, action, data in steps:
            clock.tick(rng)
            Actor(api, net, user).ok(oid, action, **data)
    aggregates_refresh()
    assert aggregates_refresh() == 0  # nothing new: nothing recounted
    _check(net, date_from, date_to)
    overall = selectors.aggregate_sums(net.supervisor, date_from=date_from, date_to=date_to)["overall"]
    figures = engine.figures_from_sums(overall)
    start, end, *_ = selectors.period(date_from, date_to, today=date_to)
    direct = engine.summary(selectors.traces(net.supervisor, start=start, end=end))
    for measure, figure in direct.items():
        assert figures[measure].n == figure.n, measure
        if figure.value is not None:
            assert figures[measure].value == pytest.approx(figure.value, abs=0.011), measure
    assert overall["intake"][0] == 10 and "e:dispatched>awaiting_dispatch" in overall  # the ping-pong

    # A rebuild from the events gives exactly the rows the refreshes kept.
    def rows():
        return sorted((r.day, r.assigned_org_id, r.owning_org_id, r.order_type, r.dim, r.value, r.orders,
                       tuple(sorted((k, v[0], round(v[1], 3)) for k, v in r.sums.items())))
                      for r in DailyAggregate.objects.all())
    kept = rows()

    def deviations():
        return sorted(OrderDeviation.objects.values_list("order_id", "code", "day", "assigned_org_id", "order_type"))
    kept_deviations = deviations()
    call_command("stats", "rebuild")
    assert rows() == kept and OrderFact.objects.count() == 10
    assert deviations() == kept_deviations and kept_deviations  # the deviations' index too (the ping-pong at least)

    # The API and the dashboard read the aggregates for a long period, with the events' numbers.
    for user in (net.supervisor, net.agency_tech):
        answers = {}
        for source in ("events", "aggregates"):
            status, body = api.get("/stats/kpis", token=net.token(user), group_by="organization", source=source,
                                   date_from=date_from.isoformat(), date_to=date_to.isoformat())
            assert status == 200 and body["source"] == source, body
            answers[source] = {r["group"]: r["measures"] for r in body["rows"]}
        assert set(answers["events"]) == set(answers["aggregates"])
        for group, measures in answers["events"].items():
            for name, figure in measures.items():
                assert answers["aggregates"][group][name]["n"] == figure["n"], (group, name)
        status, pm = api.get("/stats/process-map", token=net.token(user), source="aggregates",
                             date_from=date_from.isoformat(), date_to=date_to.isoformat())
        _, pm_events = api.get("/stats/process-map", token=net.token(user), source="events",
                               date_from=date_from.isoformat(), date_to=date_to.isoformat())
        assert status == 200 and pm["orders"] == pm_events["orders"]
        assert ({(e["source"], e["target"], e["count"]) for e in pm["edges"]}
                == {(e["source"], e["target"], e["count"]) for e in pm_events["edges"]})
        assert {d["code"]: d["count"] for d in pm["deviations"]} == {d["code"]: d["count"] for d in pm_events["deviations"]}
        # the examples read through the deviations' index are orders of that deviation the reader may see
        for d in pm["deviations"]:
            from_events = next(x for x in pm_events["deviations"] if x["code"] == d["code"])
            assert d["examples"], d
            if d["count"] <= 5:  # every order of the deviation is an example on both sides
                assert set(d["examples"]) == set(from_events["examples"]), (d, from_events)
    client = api.client
    client.force_login(net.supervisor)
    page = client.get("/stats/", {"date_from": (date_to - timedelta(days=200)).isoformat(),
                                  "date_to": date_to.isoformat(), "group_by": "province"})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="from-aggregates"' in html and "山东省" in html and "河南省" in html


def test_the_worker_brings_the_aggregates_up_to_date(net, api):
    from tests.service.helpers import shandong_farmer

    owner, machine = shandong_farmer()
    status, order = create(api, net, repair_body(owner, machine))
    assert status == 201 and StatsBacklog.objects.filter(order_id=order["id"]).exists()
    from django_tasks_db.models import DBTaskResult

    from aftersales.sla.management.commands.worker import schedule_periodic
    from aftersales.stats.tasks import refresh_aggregates

    schedule_periodic()  # every tick of the worker queues the refresh
    assert DBTaskResult.objects.filter(task_path=refresh_aggregates.module_path, status="READY").exists()
    assert refresh_aggregates.call() == 1
    assert not StatsBacklog.objects.exists()
    fact = OrderFact.objects.get(order_id=order["id"])
    assert fact.dims["province"] == "山东省" and fact.sums["intake"] == [1, 1.0]
    # grain "d": on the 1st of a month the month row has the same day
    assert DailyAggregate.objects.get(grain="d", dim="", day=fact.day).orders == 1
