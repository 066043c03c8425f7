"""The measures added in the statistics centre's second round, through the real API: named
measures, the dashboard's filters (scoped: a partner's filter never widens what it sees), the
30-working-day compliance and repeat repairs from real actions, and the measures read from claims,
machines, visits and SLA clocks."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from aftersales.stats import engine
from aftersales.stats.engine import Step, Trace
from tests.service.helpers import Actor, create, repair_body
from tests.stats.orders import two_orders  # noqa: F401 (a fixture)
from tests.support import make_customer, make_machine


def test_named_measures_answer_only_those_with_their_counts(net, api, two_orders):
    status, body = api.get("/stats/kpis", token=net.token(net.supervisor),
                           measures="intake,compliance_30wd_rate,repeat_repair_30_rate,repeat_repair_90_rate")
    assert status == 200, body
    (row,) = body["rows"]
    assert set(row["measures"]) == {"intake", "compliance_30wd_rate", "repeat_repair_30_rate", "repeat_repair_90_rate"}
    assert row["measures"]["intake"]["n"] == 2
    # two repair orders, neither completed yet: no compliance figure; neither machine was repaired before
    assert row["measures"]["compliance_30wd_rate"]["n"] == 0
    assert row["measures"]["repeat_repair_30_rate"] == {"value": 0.0, "n": 2, "unit": "ratio", "median": None, "p90": None}


def test_an_unknown_measure_is_refused_naming_the_field(net, api):
    status, body = api.get("/stats/kpis", token=net.token(net.supervisor), measures="intake,uptime")
    assert status == 422, body
    assert "measures" in str(body) and "uptime" in str(body)


def test_filters_narrow_the_figures_on_both_paths(net, api, two_orders):
    token = net.token(net.supervisor)
    for source in ("events", "aggregates"):
        if source == "aggregates":
            from aftersales.stats.services import aggregates_refresh
            aggregates_refresh()
        status, body = api.get("/stats/kpis", token=token, province="河南省", source=source, measures="intake")
        assert status == 200, body
        assert body["source"] == source
        assert body["rows"][0]["measures"]["intake"]["value"] == 1, source
        # the organization filter takes the organization and those below it
        status, body = api.get("/stats/kpis", token=token, organization=net.agency_shandong.pk, source=source,
                               group_by="organization", measures="intake")
        assert [r["group"] for r in body["rows"]] == ["潍坊金丰农机维修站"], source
    # a city is answered from the events even for a long period
    status, body = api.get("/stats/kpis", token=token, city="郑州市", date_from=(timezone.localdate() - timedelta(days=200)).isoformat(),
                           measures="intake")
    assert body["source"] == "events" and body["rows"][0]["measures"]["intake"]["value"] == 1


def test_a_partner_filtering_on_another_organization_sees_nothing_of_it(net, api, two_orders):
    status, body = api.get("/stats/kpis", token=net.token(net.agency_tech), organization=net.branch_henan.pk,
                           measures="intake")
    assert status == 200, body
    assert all(r["measures"]["intake"]["value"] == 0 for r in body["rows"])


def test_a_second_repair_of_the_same_machine_within_30_days_is_a_repeat(net, api):
    owner = make_customer("赵四", "13712340000", province="山东省", city="潍坊市", county="寿光市")
    machine = make_machine("LX904-RR-0001", owner)
    _, first = create(api, net, repair_body(owner, machine))
    hotline = Actor(api, net, net.hotline_tech)
    Actor(api, net, net.info_coordinator).ok(first["id"], "forward", hotline_technician_id=net.hotline_tech.pk)
    hotline.ok(first["id"], "callback")
    hotline.ok(first["id"], "solve_by_phone", solution="调整油门拉线后恢复")
    _, second = create(api, net, repair_body(owner, machine, symptom="又一次启动困难"))
    status, body = api.get("/stats/kpis", token=net.token(net.supervisor),
                           measures="repeat_repair_30_rate,repeat_repair_90_rate,compliance_30wd_rate")
    assert status == 200, body
    m = body["rows"][0]["measures"]
    assert (m["repeat_repair_30_rate"]["value"], m["repeat_repair_30_rate"]["n"]) == (0.5, 2)
    assert m["repeat_repair_90_rate"]["value"] == 0.5
    # the first was completed (solved by phone) the same day: within 30 working days
    assert (m["compliance_30wd_rate"]["value"], m["compliance_30wd_rate"]["n"]) == (1.0, 1)


def test_thirty_working_days_skip_the_national_day_holiday():
    created = timezone.datetime(2026, 9, 28, 9, tzinfo=engine.SHANGHAI)
    # 30 working days after 2026-09-28 pass the 国庆 holiday (10-01 to 10-08): a calendar count would end on 10-28
    deadline = engine.compliance_deadline(created.date())
    assert deadline > (created + timedelta(days=30)).date()

    def trace(done_on):
        steps = (Step(created, "create", "", "new"), Step(done_on, "check_out", "in_service", "completed"))
        return Trace(1, "repair", steps, created_at=created)
    on_time = timezone.datetime.combine(deadline, timezone.datetime.min.time()).replace(hour=17, tzinfo=engine.SHANGHAI)
    assert engine.compliance_30wd(trace(on_time)) == 1.0
    assert engine.compliance_30wd(trace(on_time + timedelta(days=1))) == 0.0


def test_cost_failure_visit_and_sla_measures_answer_by_their_groups(net, api, two_orders):
    token = net.token(net.supervisor)
    status, body = api.get("/stats/kpis", token=token, group_by="model",
                           measures="failures_per_1000,hours_to_first_failure,warranty_cost")
    assert status == 200, body
    rows = {r["group"]: r["measures"] for r in body["rows"]}
    # every machine of the tests' model in service was repaired in the period: each failed once
    failing = [m for m in rows.values() if m.get("failures_per_1000", {}).get("n")]
    assert failing and all(m["failures_per_1000"]["value"] > 0 for m in failing)
    status, body = api.get("/stats/kpis", token=token, measures="visit_satisfaction,sla_attainment")
    assert status == 200, body
    m = body["rows"][0]["measures"]
    assert m["visit_satisfaction"]["n"] == 0 and m["sla_attainment"]["unit"] == "ratio"
    status, body = api.get("/stats/kpis", token=token, group_by="person", measures="sla_attainment")
    assert status == 200, body


def test_the_second_page_shows_cost_failures_satisfaction_and_sla(client, net, two_orders):
    client.force_login(net.supervisor)
    resp = client.get("/stats/more/")
    assert resp.status_code == 200
    body = resp.content.decode()
    for anchor in ("cost-by-model", "failures", "visit-satisfaction", "sla-people", "stock-value", "claims-per-partner"):
        assert f'id="{anchor}"' in body
    assert "LX904" in body  # the tests' model has failures in the field
