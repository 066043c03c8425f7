"""打印: the task order, the service record with parts, labour, signature and confirmation, the
consultation record and the complaint sheet, each with the company, the hotline and a QR code of
the customer's tracking link; phones as the order page shows them."""

from __future__ import annotations

import base64
import io
import re

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from aftersales.service import services
from aftersales.service.models import OrderStatus, ServiceOrder
from aftersales.web.print import qr_svg, tracking_url
from tests.service.helpers import png_bytes, shandong_farmer
from tests.web.test_pages import _to_service, act, login, record

pytestmark = pytest.mark.django_db


@pytest.fixture
def farmer(net):
    return shandong_farmer()


def test_the_task_order_prints_with_company_hotline_and_qr(client, net, farmer, settings):
    settings.SITE_URL = "https://fw.kaituo.example"
    settings.HOTLINE = "400-600-7788"
    settings.COMPANY_NAME = "开拓农业机械有限公司"
    order = record(net, *farmer)
    login(client, net.info_coordinator)
    assert f'href="/orders/{order.pk}/print/"' in client.get(reverse("web:order", args=[order.pk])).content.decode()
    with CaptureQueriesContext(connection) as ctx:
        html = client.get(reverse("web:order-print", args=[order.pk])).content.decode()
    assert "开拓农业机械有限公司" in html and "400-600-7788" in html and "任务单" in html
    assert order.number in html and "拖拉机启动困难，冒黑烟" in html
    url = f"https://fw.kaituo.example/t/{order.tracking_token}"
    assert tracking_url(order) == url and url in html
    assert '<svg' in html and 'class="qr"' in html
    assert "服务记录单" not in html  # nothing recorded yet
    # The strict CSP: no inline script, no handler attributes, no style attributes.
    assert not re.search(r"<script(?![^>]*\bsrc=)", html) and " onclick=" not in html and "style=" not in html
    assert len(ctx.captured_queries) <= 9


def test_the_qr_code_encodes_the_tracking_link():
    # Decoding the printed code needs a camera; here the code's own matrix is compared with a fresh
    # one for the same text, and a different text gives a different code.
    url = "https://fw.kaituo.example/t/abc"
    assert qr_svg(url) == qr_svg(url) != qr_svg(url + "d")
    assert qr_svg("") == ""


def test_the_service_record_prints_parts_labour_signature_and_confirmation(client, net, farmer):
    order = record(net, *farmer)
    _to_service(client, net, order)
    photo = io.BytesIO(png_bytes())
    photo.name = "field.png"
    act(client, order, "record_service", fault_found="喷油嘴堵塞", solution="清洗喷油嘴", component="whole_machine",
        labour_hours="1.5",
        **{"parts-0-part_number": "LX-1105", "parts-0-name": "喷油嘴", "parts-0-quantity": "2", "parts-0-warranty": "on",
           "photos": photo})
    act(client, order, "check_out")
    signature = "data:image/png;base64," + base64.b64encode(png_bytes()).decode()
    act(client, order, "confirm", name="刘大壮", signature_png=signature)
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    sig = order.attachments.get(kind="signature")
    html = client.get(reverse("web:order-print", args=[order.pk])).content.decode()
    assert "服务记录单" in html and "喷油嘴堵塞" in html and "清洗喷油嘴" in html
    assert "LX-1105" in html and "喷油嘴" in html and "1.5" in html
    assert "刘大壮" in html and f'src="/orders/{order.pk}/files/{sig.pk}"' in html
    assert client.get(f"/orders/{order.pk}/files/{sig.pk}").status_code == 200


def test_the_print_shows_the_phone_as_the_order_page_does(client, net, farmer):
    order = record(net, *farmer)
    ServiceOrder.objects.filter(pk=order.pk).update(status=OrderStatus.CLOSED, assigned_org=net.agency_shandong)
    login(client, net.agency_tech)
    page = client.get(reverse("web:order", args=[order.pk])).content.decode()
    printed = client.get(reverse("web:order-print", args=[order.pk])).content.decode()
    assert "139****5678" in page and "139****5678" in printed and "139 1234 5678" not in printed
    login(client, net.supervisor)
    assert "139 1234 5678" in client.get(reverse("web:order-print", args=[order.pk])).content.decode()


def test_another_organizations_order_does_not_print(client, net, farmer):
    order = record(net, *farmer)
    ServiceOrder.objects.filter(pk=order.pk).update(status=OrderStatus.DISPATCHED, assigned_org=net.agency_shandong)
    login(client, net.other_agency_tech)
    assert client.get(reverse("web:order-print", args=[order.pk])).status_code == 404


def test_consultations_and_complaints_print_their_own_sheet(client, net, farmer):
    customer, machine = farmer
    consultation = record(net, customer, machine, order_type="consultation", symptom="LX904 配几铧犁合适？",
                          answer="推荐 3 铧犁。")
    earlier = record(net, customer, machine, duplicate_reason="另一故障", symptom="液压提升无力")
    complaint = services.order_create(actor=net.agent, data=services.OrderInput(
        order_type="complaint", customer_id=customer.pk, symptom="维修人员迟到三小时且态度差",
        about_order_id=earlier.pk, about_org_id=net.agency_shandong.pk,
        complaint_category="attitude", complaint_severity="high")).order
    login(client, net.supervisor)
    html = client.get(reverse("web:order-print", args=[consultation.pk])).content.decode()
    assert "咨询记录" in html and "LX904 配几铧犁合适？" in html and "推荐 3 铧犁。" in html
    html = client.get(reverse("web:order-print", args=[complaint.pk])).content.decode()
    assert "投诉处理单" in html and "维修人员迟到三小时且态度差" in html and earlier.number in html
    assert "服务态度" in html or "态度" in html
