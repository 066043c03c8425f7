"""The quality pages in a real browser: the engineer finds the batch alarm in the technical centre's
list, analyses it, records the countermeasure and starts a campaign; a partner gets 403."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from aftersales.quality.models import CampaignTarget, QualityIssue
from aftersales.quality.services import quality_scan
from tests.quality.test_quality import field  # noqa: F401 (a fixture)
from tests.web.test_browser import browser, session  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db(transaction=True)


def test_engineer_works_the_batch_alarm_and_starts_a_campaign(browser, live_server, net, field):
    quality_scan()
    issue = QualityIssue.objects.get()
    page = session(browser, live_server, net.engineer)
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.goto(f"{live_server.url}/")
    page.click("nav >> text=质量问题")
    page.click(f"text={issue.number}")
    assert "LX904-2406" in page.locator("h1").inner_text()

    # analysing: the first action is open; the countermeasure needs a text
    page.fill("#action-analyse textarea[name=text]", "拆检6台：二轴轴承滚道剥落，同一供应商批次")
    page.click("#action-analyse button[type=submit]")
    page.wait_for_load_state()
    assert page.locator(".msg-success").count() == 1
    page.fill("#action-countermeasure textarea[name=text]", "更换轴承供应商；在用机器更换二轴轴承")
    page.click("#action-countermeasure button[type=submit]")
    page.wait_for_load_state()
    assert "更换轴承供应商" in page.locator("#h-facts").locator("xpath=..").inner_text()

    # an engineer records no orders: started in their own name, the campaign is refused, the typing kept
    page.locator("#campaign summary").click()
    page.fill("#campaign input[name=title]", "2406批次变速箱轴承更换")
    page.fill("#campaign textarea[name=instructions]", "检查并更换二轴轴承")
    page.click("#campaign button[type=submit]")
    page.wait_for_load_state()
    assert "首问负责人" in page.locator(".messages").inner_text()
    assert page.locator("#campaign input[name=title]").input_value() == "2406批次变速箱轴承更换"
    # in the information coordinator's name it starts, and the first orders are there at once
    page.select_option("#campaign select[name=owner_id]", str(net.info_coordinator.pk))
    page.click("#campaign button[type=submit]")
    page.wait_for_load_state()
    assert "10 / 30" in page.locator(".msg-success").inner_text()
    assert CampaignTarget.objects.exclude(order=None).count() == 10
    assert [e for e in errors if "422" not in e] == []  # the refused campaign above answers 422


def test_supervisor_starts_the_campaign_in_their_own_name(browser, live_server, net, field):
    quality_scan()
    issue = QualityIssue.objects.get()
    page = session(browser, live_server, net.supervisor)
    page.goto(f"{live_server.url}/quality/{issue.pk}/")
    page.locator("#campaign summary").click()
    page.fill("#campaign input[name=title]", "2406批次变速箱轴承更换")
    page.fill("#campaign textarea[name=instructions]", "检查并更换二轴轴承")
    page.click("#campaign button[type=submit]")
    page.wait_for_load_state()
    assert "10 / 30" in page.locator(".msg-success").inner_text()
    call_command("quality", "campaigns")  # the worker makes the rest
    page.reload()
    assert "已生成 30 / 30" in page.locator("#h-campaigns").locator("xpath=..").inner_text()


def test_partners_get_403_on_quality_pages(client, net):
    client.force_login(net.agency_tech)
    assert client.get("/quality/").status_code == 403


def test_the_list_filters_have_distinct_chinese_names(client, net):
    """"Active" (every issue not closed) and the status "Open" both read 处理中 once: two chips with one
    name and different lists."""
    import re

    client.force_login(net.engineer)
    html = client.get("/quality/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    chips = re.findall(r'<a href="\?status=[a-z]+"[^>]*>([^<]+)</a>', html)
    assert len(chips) >= 3 and len(chips) == len(set(chips)), chips
    assert "未关闭" in chips
