"""Print, export and the knowledge base in a real browser (headless Chromium): the printed service
record shows its QR code and the customer's signature; 导出 Excel downloads a real workbook; a
hotline technician writes an article, an engineer publishes it and an agency finds it by its
pinyin initials. Any 4xx/5xx answer or console error fails the test."""

from __future__ import annotations

import base64

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from aftersales.knowledge.models import Article, ArticleStatus
from aftersales.service import services
from aftersales.service.models import OrderStatus, ServiceOrder
from tests.service.helpers import png_bytes, shandong_farmer
from tests.web.test_browser import OFFICE, PHONE, browser, session, shot  # noqa: F401 (the browser fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def watch(page) -> list[str]:
    """Collect what must not happen: error answers and console errors."""
    problems: list[str] = []
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    return problems


def _completed_order(net):
    """An order served and confirmed with the customer's signature, through the services."""
    customer, machine = shandong_farmer()
    order = services.order_create(actor=net.agent, data=services.OrderInput(
        order_type="repair", customer_id=customer.pk, machine_id=machine.pk, crop="小麦", operation="犁地",
        symptom="拖拉机启动困难，冒黑烟", urgency="urgent")).order
    return order


def test_the_printed_service_record_has_the_qr_code_and_the_signature(browser, live_server, net, settings):  # noqa: F811
    from tests.web.test_pages import _to_service, act, login
    from django.test import Client

    settings.SITE_URL = live_server.url
    order = _completed_order(net)
    client = Client()
    _to_service(client, net, order)
    act(client, order, "record_service", fault_found="喷油嘴堵塞", solution="清洗喷油嘴", component="whole_machine",
        labour_hours="1.5", **{"parts-0-part_number": "LX-1105", "parts-0-name": "喷油嘴", "parts-0-quantity": "2",
                               "parts-0-warranty": "on"})
    act(client, order, "check_out")
    act(client, order, "confirm", name="刘大壮", signature_png="data:image/png;base64," + base64.b64encode(png_bytes()).decode())
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED

    page = session(browser, live_server, net.agency_tech)
    problems = watch(page)
    page.goto(f"{live_server.url}{reverse('web:order', args=[order.pk])}")
    with page.expect_navigation():
        page.click("#print-order")
    assert page.url.endswith(f"/orders/{order.pk}/print/")
    assert page.locator("#task-order h1").inner_text().replace(" ", "") == "任务单"
    record = page.locator("#service-record")
    assert "服务记录单" in record.inner_text() and "LX-1105" in record.inner_text() and "刘大壮" in record.inner_text()
    qr = page.locator("#task-order svg.qr")
    assert qr.count() == 1 and qr.bounding_box()["width"] > 50
    signature = page.locator("#signature")
    signature.wait_for()
    assert page.evaluate("document.getElementById('signature').naturalWidth") > 0  # the image loaded
    # The print stylesheet hides the toolbar on paper.
    page.emulate_media(media="print")
    assert not page.locator(".toolbar").is_visible()
    shot(page, "8-print-service-record")
    page.emulate_media(media="screen")
    assert problems == []
    page.context.close()


def test_export_downloads_a_real_workbook(browser, live_server, net):  # noqa: F811
    customer, machine = shandong_farmer()
    for i in range(3):
        services.order_create(actor=net.agent, data=services.OrderInput(
            order_type="repair", customer_id=customer.pk, machine_id=machine.pk, crop="小麦", operation="犁地",
            symptom=f"=1+1 启动困难 {i}", urgency="urgent", duplicate_reason=f"第{i}次"))
    numbers = set(ServiceOrder.objects.values_list("number", flat=True))
    page = session(browser, live_server, net.info_coordinator)
    problems = watch(page)
    page.goto(f"{live_server.url}{reverse('web:queue')}")
    with page.expect_download() as info:
        page.click("a.export")
    download = info.value
    assert download.suggested_filename.endswith(".xlsx") and "工作队列" in download.suggested_filename
    with open(download.path(), "rb") as f:
        sheet = load_workbook(f).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0][:3] == ["单号", "类型", "状态"]
    assert {r[0] for r in rows[1:]} == numbers
    symptom = rows[0].index("故障现象")
    assert all(r[symptom].startswith("'=1+1") for r in rows[1:])  # a formula stays text
    assert problems == []
    page.context.close()


def test_an_article_goes_from_draft_through_review_to_published(browser, live_server, net):  # noqa: F811
    from tests.support import make_model

    make_model()
    hotline = session(browser, live_server, net.hotline_tech)
    problems = watch(hotline)
    hotline.goto(f"{live_server.url}{reverse('web:knowledge')}")
    hotline.click("#new-article")
    form = hotline.locator("#article-form")
    # A failed save keeps the typing.
    form.locator("[name=symptom]").fill("拖拉机发动机冒黑烟，动力不足")
    form.locator("[name=solution_steps]").fill("看排气颜色\n拆下空滤滤芯\n清理或更换滤芯")
    form.locator("#save-article").click()
    hotline.wait_for_load_state()
    assert hotline.locator("[name=symptom]").input_value() == "拖拉机发动机冒黑烟，动力不足"
    assert "清理或更换滤芯" in hotline.locator("[name=solution_steps]").input_value()
    hotline.locator("[name=title]").fill("发动机冒黑烟")
    hotline.locator("[name=parts]").fill("LX-2201 空气滤芯 1")
    hotline.check("input[name=categories][value=tractor]")
    with hotline.expect_navigation():
        hotline.locator("#save-article").click()
    assert hotline.locator("#article-status").get_attribute("data-status") == "draft"
    assert hotline.locator("#steps li").count() == 3
    with hotline.expect_navigation():
        hotline.click("#article-submit")
    assert hotline.locator("#article-status").get_attribute("data-status") == "review"
    assert hotline.locator("#article-publish").count() == 0
    article = Article.objects.get(title="发动机冒黑烟")
    assert problems == []
    hotline.context.close()

    engineer = session(browser, live_server, net.engineer)
    problems = watch(engineer)
    engineer.goto(f"{live_server.url}{reverse('web:knowledge')}?status=review")
    with engineer.expect_navigation():
        engineer.click(f"a[href='/knowledge/{article.pk}/']")
    with engineer.expect_navigation():
        engineer.click("#article-publish")
    assert engineer.locator("#article-status").get_attribute("data-status") == "published"
    assert engineer.locator("#versions li").count() == 3
    article.refresh_from_db()
    assert article.status == ArticleStatus.PUBLISHED
    assert problems == []
    engineer.context.close()

    # On the phone, an agency technician finds it by the pinyin initials and opens it.
    tech = session(browser, live_server, net.agency_tech, viewport=PHONE)
    problems = watch(tech)
    tech.goto(f"{live_server.url}{reverse('web:search')}?q=fdjmhy")
    with tech.expect_navigation():
        tech.click(f"#results-article a[href='/knowledge/{article.pk}/']")
    assert "拆下空滤滤芯" in tech.locator("#steps").inner_text()
    shot(tech, "9-knowledge-article-phone")
    assert problems == []
    tech.context.close()
