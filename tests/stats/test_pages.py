"""/stats/ in a real browser: the supervisor sees figures and charts, filters them, drills into a slow
hop and reaches the orders; a partner sees its own orders only; the page has no inline script."""

from __future__ import annotations

import pytest

from aftersales.service.models import ServiceOrder
from tests.stats.orders import two_orders  # noqa: F401 (a fixture)
from tests.support import make_user
from tests.web.test_browser import browser, session  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db(transaction=True)


def test_supervisor_reads_figures_charts_and_the_map_then_drills_into_arrival(browser, live_server, net, two_orders):
    sd_id, ha_id = two_orders
    page = session(browser, live_server, net.supervisor)
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.goto(f"{live_server.url}/stats/")
    assert page.locator("h1").inner_text() == "统计中心"
    # ECharts (vendored, SVG renderer) drew every chart from the page's JSON: an <svg> in each container
    for name in ("intake", "groups", "rates"):
        chart = page.locator(f"[data-echart={name}]")
        chart.locator("svg").first.wait_for()
        assert chart.get_attribute("data-rendered") == "echarts"
    assert page.locator("svg.process-map").count() == 1  # the process map stays a server-drawn diagram
    assert page.locator("#rates-table").inner_text().count("%") >= 3  # the charts' numbers as a table
    table = page.locator("#h-table").locator("xpath=..").locator("tbody")
    assert set(table.locator("th").all_inner_texts()) == {"潍坊金丰农机维修站", "郑州直营分店"}
    # the dispatch ping-pong of the Shandong order is a named deviation with the order as example
    deviations = page.locator("text=多次派工").locator("xpath=ancestor::tr")
    assert deviations.locator("a").inner_text() == f"#{sd_id}"

    # filter: only repair orders, grouped by province
    page.select_option("select[name=group_by]", "province")
    page.click("form.filters button[type=submit]")
    page.wait_for_load_state()
    assert "group_by=province" in page.url
    assert set(table.locator("th").all_inner_texts()) == {"山东省", "河南省"}

    # drill from the arrival time of 山东省 to the order behind it
    row = table.locator("tr", has=page.locator("th", has_text="山东省"))
    arrival_column = page.locator("#h-table").locator("xpath=..").locator("thead th").all_inner_texts().index("到达时长")
    row.locator("td").nth(arrival_column - 1).locator("a").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "到达时长 · 山东省"
    links = page.locator("a.num")
    assert links.count() == 1
    assert links.inner_text() == ServiceOrder.objects.get(pk=sd_id).number
    assert errors == []


def test_a_partner_dashboard_counts_its_own_orders_only(client, net, two_orders):
    client.force_login(net.agency_tech)
    resp = client.get("/stats/", {"group_by": "none"})
    assert resp.status_code == 200
    body = resp.content.decode()
    assert "共 1 张" in body or "1 张任务单" in body or ": 1 " in body, body[:2000]
    assert "郑州直营分店" not in body


def test_people_without_a_role_get_403_and_bad_periods_say_which_field(client, net):
    client.force_login(make_user("norole", net.dealer_henan))
    assert client.get("/stats/").status_code == 403
    client.force_login(net.supervisor)
    resp = client.get("/stats/", {"date_from": "2026-05-01", "date_to": "2026-04-01"})
    assert resp.status_code == 422
    assert "不能晚于截止日期" in resp.content.decode()
    resp = client.get("/stats/orders/", {"measure": "colour"})
    assert resp.status_code == 422


def test_dashboard_has_no_inline_script_or_style_attributes(client, net, two_orders):
    client.force_login(net.supervisor)
    body = client.get("/stats/").content.decode()
    assert "<script>" not in body and " style=" not in body and " onclick=" not in body


def test_the_report_subscription_form_saves_and_says_why_not(client, net):
    client.force_login(net.supervisor)
    resp = client.post("/stats/subscribe", {"frequencies": ["weekly"]}, follow=True)
    assert "没有可接收报告的电子邮箱" in resp.content.decode()
    net.supervisor.email = "supervisor@example.cn"
    net.supervisor.save(update_fields=["email"])
    resp = client.post("/stats/subscribe", {"frequencies": ["weekly", "monthly"]}, follow=True)
    assert "已保存" in resp.content.decode()
    assert set(net.supervisor.report_subscriptions.values_list("frequency", flat=True)) == {"weekly", "monthly"}
    body = client.get("/stats/").content.decode()
    assert 'value="weekly" checked' in body and 'value="monthly" checked' in body


def test_the_dashboard_downloads_as_excel_and_prints_with_the_same_numbers(client, net, two_orders):
    import io

    from openpyxl import load_workbook

    sd_id, ha_id = two_orders
    client.force_login(net.supervisor)
    page = client.get("/stats/", {"group_by": "organization"}).content.decode()
    assert "export=xlsx" in page and "/stats/print/?group_by=organization" in page
    resp = client.get("/stats/", {"group_by": "organization", "export": "xlsx"})
    assert resp.status_code == 200 and resp["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(b"".join(resp.streaming_content)), read_only=True)
    assert book.sheetnames == ["指标", "按服务单位", "按时间", "流程地图", "偏离"]
    figures = {row[0]: row for row in book["指标"].iter_rows(min_row=2, values_only=True)}
    assert figures["受理量"][1] == 2 and figures["受理量"][5] == 2
    groups = {row[0]: row for row in book["按服务单位"].iter_rows(min_row=2, values_only=True)}
    assert set(groups) == {"潍坊金丰农机维修站", "郑州直营分店"} and groups["潍坊金丰农机维修站"][1] == 1
    edges = {(r[0], r[1]): r[2] for r in book["流程地图"].iter_rows(min_row=2, values_only=True)}
    assert edges[("已派工", "待派工")] == 1  # the rejected dispatch
    deviations = {r[0]: r for r in book["偏离"].iter_rows(min_row=2, values_only=True)}
    assert deviations["多次派工"][1:] == (1, f"#{sd_id}")

    printed = client.get("/stats/print/", {"group_by": "organization"})
    assert printed.status_code == 200
    html = printed.content.decode()
    assert "统计报表" in html and "data-print" in html and "潍坊金丰农机维修站" in html and "<script>" not in html
    client.force_login(net.agency_tech)  # a partner's workbook holds its own orders only
    book = load_workbook(io.BytesIO(b"".join(client.get("/stats/", {"group_by": "organization", "export": "xlsx"})
                                             .streaming_content)), read_only=True)
    assert {row[0] for row in book["按服务单位"].iter_rows(min_row=2, values_only=True)} == {"潍坊金丰农机维修站"}


def test_a_slow_hop_of_the_process_map_opens_the_orders_that_waited_there(client, net, two_orders):
    sd_id, ha_id = two_orders
    client.force_login(net.supervisor)
    page = client.get("/stats/", {"group_by": "none"}).content.decode()
    assert "measure=move%3Adispatched%3Eawaiting_dispatch" in page and "近 12 个月" in page
    resp = client.get("/stats/orders/", {"measure": "move:dispatched>awaiting_dispatch"})
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "已派工 → 待派工" in html and ServiceOrder.objects.get(pk=sd_id).number in html
    assert ServiceOrder.objects.get(pk=ha_id).number not in html
    assert client.get("/stats/orders/", {"measure": "move:nowhere>closed"}).status_code == 422


def test_filters_narrow_the_page_and_the_rates_drill_down_reaches_the_orders(browser, live_server, net, two_orders):
    sd_id, ha_id = two_orders
    page = session(browser, live_server, net.supervisor)
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_server.url}/stats/")
    page.fill("input[name=province]", "河南省")
    page.click("form.filters button[type=submit]")
    page.wait_for_load_state()
    assert "province=" in page.url
    table = page.locator("#h-table").locator("xpath=..").locator("tbody")
    assert table.locator("th").all_inner_texts() == ["郑州直营分店"]
    page.locator("[data-echart=groups] svg").first.wait_for()
    # the organization filter (with the organizations below it) on top
    page.fill("input[name=province]", "")
    page.select_option("select[name=organization]", str(net.agency_shandong.pk))
    page.click("form.filters button[type=submit]")
    page.wait_for_load_state()
    assert table.locator("th").all_inner_texts() == ["潍坊金丰农机维修站"]
    # from the rates table to the orders behind "escalation rate": the Shandong repair order (not escalated)
    page.locator("#rates-table a").first.click()
    page.wait_for_load_state()
    assert page.locator("a.num").all_inner_texts() == [ServiceOrder.objects.get(pk=sd_id).number]
    page.locator("a.num").first.click()
    page.wait_for_load_state()
    assert ServiceOrder.objects.get(pk=sd_id).number in page.locator("h1").inner_text()

    page.goto(f"{live_server.url}/stats/more/")
    page.locator("[data-echart=failures] svg").first.wait_for()
    assert "LX904" in page.locator("#failures").inner_text()
    assert errors == []


def test_the_page_reads_the_aggregates_the_worker_keeps_and_the_events_only_on_request(client, api, net, two_orders):
    """The dashboard must not walk the period's orders per request (44 s at 8,000,000 orders): it reads
    the daily aggregates, so an order the worker has not counted yet is not on it; ?source=events
    walks the orders for the exact medians."""
    from aftersales.stats.services import aggregates_refresh
    from tests.service.helpers import create, repair_body
    from tests.support import make_customer, make_machine

    client.force_login(net.supervisor)
    resp = client.get("/stats/", {"group_by": "none"})
    assert resp.context["from_aggregates"] is True and resp.context["orders"] == 2
    body = resp.content.decode()
    assert 'id="from-aggregates"' in body and "source=events" in body and "后台任务统计于" in body
    farmer = make_customer("赵秋收", "13611112222", province="河南省", city="郑州市", county="中牟县")
    status, _ = create(api, net, repair_body(farmer, make_machine("LX904-HA-0010", farmer)))
    assert status == 201
    assert client.get("/stats/", {"group_by": "none"}).context["orders"] == 2  # not counted yet
    events = client.get("/stats/", {"group_by": "none", "source": "events"})
    assert events.context["from_aggregates"] is False and events.context["orders"] == 3
    assert 'id="from-aggregates"' not in events.content.decode()
    aggregates_refresh()  # the worker's tick
    assert client.get("/stats/", {"group_by": "none"}).context["orders"] == 3
    # a filter the aggregates cannot answer (a city) is computed from the events
    city = client.get("/stats/", {"group_by": "none", "city": "郑州市"})
    assert city.context["from_aggregates"] is False and city.context["orders"] == 2
