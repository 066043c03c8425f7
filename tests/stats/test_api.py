"""/api/v1/stats: figures from the orders' real events, scoped to what the caller may see."""

from __future__ import annotations

from tests.stats.orders import two_orders  # noqa: F401 (a fixture)


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


def test_weekly_and_monthly_reports_go_out_once_each_with_the_subscribers_own_figures(net, api, two_orders):
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from aftersales.notify.models import OutboxMessage
    from aftersales.stats.services import reports_send

    for user in (net.supervisor, net.agency_tech):
        user.email = f"{user.username}@example.cn"
        user.save(update_fields=["email"])
    assert api.put("/stats/subscriptions", {"frequencies": ["weekly", "monthly"]}, token=net.token(net.supervisor)) == \
        (200, {"frequencies": ["monthly", "weekly"]})
    assert api.put("/stats/subscriptions", {"frequencies": ["weekly"]}, token=net.token(net.agency_tech))[0] == 200
    nobody_mail = api.put("/stats/subscriptions", {"frequencies": ["weekly"]}, token=net.token(net.repair_coordinator))
    assert nobody_mail[0] == 422 and nobody_mail[1]["errors"][0]["field"] == "frequencies"

    # a week after the orders were made, both weekly reports and the monthly one (if the month ended) are due
    later = datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=7)
    first = reports_send(now=later)
    assert reports_send(now=later) == 0  # the worker runs again: nothing twice
    mails = OutboxMessage.objects.filter(template__startswith="stats_report_")
    assert mails.count() == first and first >= 2
    by = {(m.recipient, m.template): m.context for m in mails}
    weekly_sup = by[("supervisor@example.cn", "stats_report_weekly")]
    weekly_agency = by[("agencytech@example.cn", "stats_report_weekly")]
    assert weekly_sup["intake"] == 2 and weekly_agency["intake"] == 1  # each sees only its own orders
    assert weekly_sup["link"].startswith("http") and "/stats/?" in weekly_sup["link"]
