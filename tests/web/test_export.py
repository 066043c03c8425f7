"""导出 Excel: every list page answers ?export=xlsx with its own rows, Chinese headers, dates as dates,
phones masked as the page shows them, formulas neutralised, within a fixed number of queries."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from aftersales.service import services
from aftersales.service.models import OrderStatus, ServiceOrder
from aftersales.web import export
from tests.service.helpers import shandong_farmer
from tests.support import make_customer, make_machine

pytestmark = pytest.mark.django_db

# Every logged-in page reads the session, the user, the user's roles and organization.
BASE = 4
PAGE = BASE + 1  # a page also reads the bell's unread count for the top bar


def record(net, customer, machine, symptom="拖拉机启动困难，冒黑烟", **overrides) -> ServiceOrder:
    data = dict(order_type="repair", customer_id=customer.pk, machine_id=machine.pk, crop="小麦", operation="犁地",
                symptom=symptom, urgency="urgent")
    data.update(overrides)
    return services.order_create(actor=net.agent, data=services.OrderInput(**data)).order


def workbook(resp):
    assert resp.status_code == 200, resp.content[:300]
    assert resp["Content-Type"] == export.XLSX
    assert resp["Content-Disposition"].startswith("attachment; filename*=UTF-8''")
    return load_workbook(io.BytesIO(b"".join(resp.streaming_content)))


def rows_of(resp) -> list[tuple]:
    sheet = workbook(resp).active
    return [tuple(c.value for c in row) for row in sheet.iter_rows()]


def test_cells_starting_with_a_formula_sign_stay_text():
    assert export.cell_value("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")"
    for text in ("+86 138", "-1", "@SUM(A1)", "\tx"):
        assert export.cell_value(text).startswith("'")
    assert export.cell_value("张三") == "张三" and export.cell_value(12) == 12 and export.cell_value("") is None


def test_queue_export_has_the_pages_rows_chinese_headers_and_dates(client, net):
    customer, machine = shandong_farmer()
    orders = [record(net, customer, machine, duplicate_reason=f"第{i}次", symptom=f"拖拉机启动困难 {i}") for i in range(3)]
    client.force_login(net.info_coordinator)
    html = client.get(reverse("web:queue")).content.decode()
    assert "导出 Excel" in html and 'href="?export=xlsx"' in html
    with CaptureQueriesContext(connection) as ctx:
        rows = rows_of(client.get(reverse("web:queue"), {"export": "xlsx"}))
    header, body = rows[0], rows[1:]
    assert header[:4] == ("单号", "类型", "状态", "客户")
    assert {r[0] for r in body} == {o.number for o in orders}
    recorded = header.index("受理时间")
    assert all(isinstance(r[recorded], datetime) for r in body)
    # Shanghai wall time, as on the page.
    order = ServiceOrder.objects.get(number=body[0][0])
    from django.utils import timezone

    assert body[0][recorded] == timezone.localtime(order.created_at).replace(tzinfo=None, microsecond=body[0][recorded].microsecond)
    assert body[0][header.index("状态")] == "新建"
    # Session, user, organization, the rows: not one query per row.
    export_queries = len(ctx.captured_queries)
    more = [record(net, customer, machine, duplicate_reason=f"第{i}次", symptom=f"拖拉机启动困难 {i}") for i in range(3, 9)]
    with CaptureQueriesContext(connection) as ctx:
        rows = rows_of(client.get(reverse("web:queue"), {"export": "xlsx"}))
    assert len(rows) == 1 + len(orders) + len(more)
    # + the bounded count that decides between writing it now and queuing it (exports app)
    assert len(ctx.captured_queries) == export_queries == BASE + 2


def test_queue_export_keeps_the_filters_of_the_tab(client, net):
    customer, machine = shandong_farmer()
    first = record(net, customer, machine)
    second = record(net, customer, machine, duplicate_reason="另一故障", symptom="液压提升无力")
    ServiceOrder.objects.filter(pk=second.pk).update(status=OrderStatus.FORWARDED)
    client.force_login(net.info_coordinator)
    html = client.get(reverse("web:queue"), {"status": "forwarded", "level": "", "after": "2026-01-01T00:00:00+00:00_1"}).content.decode()
    assert 'href="?status=forwarded&amp;level=&amp;export=xlsx"' in html
    numbers = [r[0] for r in rows_of(client.get(reverse("web:queue"), {"status": "forwarded", "export": "xlsx"}))[1:]]
    assert numbers == [second.number]
    numbers = [r[0] for r in rows_of(client.get(reverse("web:queue"), {"number": first.number, "export": "xlsx"}))[1:]]
    assert numbers == [first.number]


def test_a_partner_exports_only_its_orders_and_masked_phones(client, net):
    customer, machine = shandong_farmer()
    mine = record(net, customer, machine)
    other = record(net, customer, machine, duplicate_reason="另一故障", symptom="液压提升无力")
    # Dispatched to the Shandong agency and finished: the agency no longer reads the whole number.
    ServiceOrder.objects.filter(pk=mine.pk).update(status=OrderStatus.CLOSED, assigned_org=net.agency_shandong)
    client.force_login(net.agency_tech)
    rows = rows_of(client.get(reverse("web:queue"), {"status": "closed", "export": "xlsx"}))
    phone = rows[0].index("联系电话")
    assert [r[0] for r in rows[1:]] == [mine.number] and other.number not in str(rows)
    assert rows[1][phone] == "139****5678"
    # The network sees the whole number, as on the order page.
    client.force_login(net.supervisor)
    rows = rows_of(client.get(reverse("web:queue"), {"status": "closed", "export": "xlsx"}))
    assert rows[1][phone] == "139 1234 5678"
    order_page = client.get(reverse("web:order", args=[mine.pk])).content.decode()
    assert "139 1234 5678" in order_page


def test_supervision_lists_export_whole(client, net):
    customer, machine = shandong_farmer()
    late = [record(net, customer, machine, duplicate_reason=f"第{i}次", symptom=f"启动困难 {i}") for i in range(3)]
    ServiceOrder.objects.filter(pk__in=[o.pk for o in late]).update(promised_at=datetime(2026, 1, 5, 9, 0).astimezone())
    client.force_login(net.supervisor)
    html = client.get(reverse("web:supervisor")).content.decode()
    assert "?export=xlsx&amp;list=complaints" in html
    with CaptureQueriesContext(connection) as ctx:
        rows = rows_of(client.get(reverse("web:supervisor"), {"export": "xlsx", "list": "overdue"}))
    assert sorted(r[0] for r in rows[1:]) == sorted(o.number for o in late)
    assert len(ctx.captured_queries) == BASE + 1
    for which, header in (("complaints", "类别"), ("escalations", "问题")):
        with CaptureQueriesContext(connection) as ctx:
            rows = rows_of(client.get(reverse("web:supervisor"), {"export": "xlsx", "list": which}))
        assert header in rows[0] and len(rows) == 1
        assert len(ctx.captured_queries) == BASE + 1


def test_customers_page_and_export_mask_phones_by_the_registry_rule(client, net):
    farmer, machine = shandong_farmer()
    evil = make_customer("=HYPERLINK(\"http://evil\")", "13700001111", province="山东省", city="济南市")
    make_machine("LX904-SD-0099", evil)
    client.force_login(net.supervisor)
    with CaptureQueriesContext(connection) as ctx:
        html = client.get(reverse("web:customers")).content.decode()
    assert farmer.name in html and "139 1234 5678" in html and "导出 Excel" in html
    page_queries = len(ctx.captured_queries)
    make_customer("李四", "13600002222", province="河南省")
    with CaptureQueriesContext(connection) as ctx:
        client.get(reverse("web:customers"))
    assert len(ctx.captured_queries) == page_queries  # phones prefetched, not one query per row
    with CaptureQueriesContext(connection) as ctx:
        rows = rows_of(client.get(reverse("web:customers"), {"export": "xlsx"}))
    assert len(ctx.captured_queries) == BASE + 3  # the bounded count, the customers, their phones (per chunk)
    assert rows[0][:3] == ("姓名", "电话", "客户分类")
    by_name = {r[0]: r for r in rows[1:]}
    assert by_name["'=HYPERLINK(\"http://evil\")"][1] == "137 0000 1111"
    assert by_name[farmer.name][1] == "139 1234 5678"
    # Searched: the export holds the search's rows only.
    rows = rows_of(client.get(reverse("web:customers"), {"q": "李四", "export": "xlsx"}))
    assert [r[0] for r in rows[1:]] == ["李四"]


def test_a_partner_sees_its_customers_masked_and_no_others(client, net):
    farmer, machine = shandong_farmer()
    order = record(net, farmer, machine)
    ServiceOrder.objects.filter(pk=order.pk).update(status=OrderStatus.CLOSED, assigned_org=net.agency_shandong)
    make_customer("黑龙江王五", "13500003333", province="黑龙江省")
    client.force_login(net.agency_tech)
    html = client.get(reverse("web:customers")).content.decode()
    assert farmer.name in html and "139****5678" in html and "王五" not in html
    rows = rows_of(client.get(reverse("web:customers"), {"export": "xlsx"}))
    assert [(r[0], r[1]) for r in rows[1:]] == [(farmer.name, "139****5678")]


def test_machines_page_searches_pages_and_exports_dates_as_dates(client, net):
    farmer, machine = shandong_farmer()
    client.force_login(net.repair_coordinator)
    with CaptureQueriesContext(connection) as ctx:
        html = client.get(reverse("web:machines"), {"q": "LX904"}).content.decode()
    assert machine.serial_number in html
    assert len(ctx.captured_queries) == PAGE + 1
    rows = rows_of(client.get(reverse("web:machines"), {"q": "LX904", "export": "xlsx"}))
    header = rows[0]
    assert header[0] == "出厂编号" and rows[1][0] == machine.serial_number
    invoice = rows[1][header.index("开票日期")]
    assert isinstance(invoice, datetime) and invoice.date() == machine.invoice_date
    assert client.get(reverse("web:machines"), {"page": "x"}).status_code == 200


def test_search_results_export(client, net):
    farmer, machine = shandong_farmer()
    order = record(net, farmer, machine, symptom="发动机冒黑烟")
    client.force_login(net.supervisor)
    assert "导出 Excel" in client.get(reverse("web:search"), {"q": "冒黑烟"}).content.decode()
    rows = rows_of(client.get(reverse("web:search"), {"q": "冒黑烟", "export": "xlsx"}))
    assert rows[0][:2] == ("类型", "标题")
    assert any(r[0] == "任务单" and order.number in r[1] for r in rows[1:])


def test_a_large_export_is_written_by_the_worker_and_announced_in_the_bell(client, net, settings, tmp_path):
    """Issue 13: past EXPORT_INLINE_ROWS the page queues the export as its user instead of writing it
    in the request; the worker runs the page again (same filters, scope and phone rule), keeps the
    file under the var directory and the bell links to it; only its requester can download it."""
    from aftersales.exports.models import ExportFile, ExportStatus
    from aftersales.exports.writer import export_write
    from aftersales.notify.models import Notification

    settings.EXPORT_INLINE_ROWS = 2
    settings.VAR_DIR = tmp_path
    customer, machine = shandong_farmer()
    orders = [record(net, customer, machine, duplicate_reason=f"第{i}次", symptom=f"拖拉机启动困难 {i}") for i in range(3)]
    client.force_login(net.info_coordinator)
    resp = client.get(reverse("web:queue"), {"status": "new", "export": "xlsx"})
    assert resp.status_code == 302 and resp["Location"] == f"{reverse('web:queue')}?status=new"
    job = ExportFile.objects.get()
    assert (job.user, job.status, job.path) == (net.info_coordinator, ExportStatus.QUEUED,
                                                f"{reverse('web:queue')}?status=new&export=xlsx")
    page = client.get(resp["Location"]).content.decode()
    assert "正在后台生成导出文件" in page

    job = export_write(export_id=job.pk)  # what the worker's task does
    assert job.status == ExportStatus.DONE and job.rows == 3 and job.size > 0
    assert (tmp_path / "exports" / f"{job.token}.xlsx").exists()
    note = Notification.objects.get(user=net.info_coordinator, kind="inbox_export_ready")
    inbox = client.get(reverse("web:inbox")).content.decode()
    assert "导出文件" in inbox and reverse("web:inbox-open", args=[note.pk]) in inbox
    opened = client.get(reverse("web:inbox-open", args=[note.pk]))
    assert opened.status_code == 302 and opened["Location"] == reverse("exports:download", args=[job.token])
    body = rows_of(client.get(opened["Location"]))
    assert body[0][0] == "单号" and {r[0] for r in body[1:]} == {o.number for o in orders}
    assert export_write(export_id=job.pk).finished_at == job.finished_at  # a retried task writes nothing again

    client.force_login(net.agent)  # another user: not theirs
    assert client.get(reverse("exports:download", args=[job.token])).status_code == 404
