"""导出 Excel: every list page answers ``?export=xlsx`` at its own URL with the rows its filters select.

A list view describes its columns once (a tuple of ``Column``) and hands its queryset to
``xlsx_response``. The workbook is written by openpyxl in write-only mode, which serialises each
row to a temporary file as it comes, and the rows are read from the database in chunks
(``QuerySet.iterator``), so an export of 100,000 orders holds a chunk of rows, not the result, in
the worker's memory; the finished file is then streamed from disk by ``FileResponse``.

What a cell shows is what the page shows: the same selector (the user's scope), the same phone
rule (a column's value function calls the page's display function), and dates as Excel dates in
Asia/Shanghai. A text cell that starts with = + - @ (or a tab/CR) is prefixed with an apostrophe,
so a customer named "=HYPERLINK(...)" stays text in Excel (CSV/formula injection)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from urllib.parse import quote

from django.http import FileResponse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Rows fetched per database round trip: big enough that 100,000 rows take 50 queries on
# PostgreSQL's server-side cursor, small enough that a chunk of model instances stays a few MB.
CHUNK = 2000
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"


@dataclass(frozen=True)
class Column:
    """One column of an export: its header (a lazy translation) and how a row gives its value.
    ``width`` is in Excel's character units (a Chinese character counts about two)."""

    header: object
    value: Callable[[object], object]
    width: int = 14


def wants_xlsx(request) -> bool:
    return request.GET.get("export") == "xlsx"


def safe_text(value: str) -> str:
    """Neutralise a formula: Excel, WPS and LibreOffice evaluate a cell typed as text that starts
    with one of these when it is edited or re-imported as CSV."""
    return "'" + value if value.startswith(FORMULA_START) else value


def cell_value(value):
    """A Python value as Excel stores it: aware datetimes in local time without the zone (Excel has
    no zones), dates and numbers as they are, everything else as safe text."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    if isinstance(value, (date, int, float, Decimal)) and not isinstance(value, bool):
        return value
    return safe_text(str(value))


def write_rows(sheet, columns: tuple[Column, ...], rows: Iterable) -> int:
    bold = Font(bold=True)
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=capfirst(str(column.header)))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    # One style object per kind, not per cell: write-only mode keeps every distinct style in memory.
    n = 0
    for row in rows:
        cells = []
        for column in columns:
            value = cell_value(column.value(row))
            if isinstance(value, (date, datetime)):
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = DATETIME_FORMAT if isinstance(value, datetime) else DATE_FORMAT
                cells.append(cell)
            else:
                cells.append(value)
        sheet.append(cells)
        n += 1
    return n


def xlsx_response(*, filename: str, title: str, columns: tuple[Column, ...], rows: Iterable) -> FileResponse:
    """The workbook as a download. ``rows`` is iterated once; pass ``queryset.iterator(CHUNK)``
    (or ``chunked(queryset)``) so that the rows are not all held at once."""
    return workbook_response(filename=filename, sheets=[(title, columns, rows)])


def workbook_response(*, filename: str, sheets: list[tuple[str, tuple[Column, ...], Iterable]]) -> FileResponse:
    """A workbook of several sheets (title, columns, rows), each written as ``xlsx_response`` writes one."""
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    count = 0
    for title, columns, rows in sheets:
        sheet = workbook.create_sheet(title=title[:31])  # Excel's limit for a sheet name
        sheet.freeze_panes = "A2"
        for i, column in enumerate(columns, start=1):
            sheet.column_dimensions[get_column_letter(i)].width = column.width
        count += write_rows(sheet, columns, rows)
    # Deleted when closed: FileResponse closes it after the last byte has been sent.
    out = tempfile.TemporaryFile(suffix=".xlsx")
    workbook.save(out)
    out.seek(0)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    name = f"{filename}-{stamp}.xlsx"
    response = FileResponse(out, content_type=XLSX, as_attachment=True, filename=name)
    # RFC 6266 with a UTF-8 name: browsers save 工单-20260601.xlsx, not a mangled ASCII name.
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    response["Cache-Control"] = "no-store"  # customer data: no copy in a shared cache
    response.export_rows = count  # for the exports app's record of a background export (rows of all sheets)
    return response


def queued_if_large(request, queryset):
    """An export of more than ``EXPORT_INLINE_ROWS`` rows is not written inside the request (100,000
    orders take about a minute): it is queued for the worker as this user (exports app), the page
    says so and the bell announces the file. None: small enough, write it now (and always inside
    the worker, which runs the page again with ``request.export_inline``)."""
    from django.conf import settings
    from django.contrib import messages
    from django.shortcuts import redirect

    from aftersales.exports.services import export_request

    limit = settings.EXPORT_INLINE_ROWS
    if getattr(request, "export_inline", False) or queryset.order_by()[:limit + 1].count() <= limit:
        return None
    export_request(user=request.user, path=request.get_full_path())
    messages.info(request, _("More than %(n)s rows: the export is being prepared. The bell tells you when "
                             "the file is ready to download.") % {"n": limit})
    query = request.GET.copy()
    query.pop("export", None)
    return redirect(f"{request.path}?{query.urlencode()}" if query else request.path)


def chunked(queryset, size: int = CHUNK):
    """The rows of a queryset read ``size`` at a time. ``prefetch_related`` lookups are honoured per
    chunk (Django ≥ 4.1 needs the chunk size for that)."""
    return queryset.iterator(chunk_size=size)


def labels(choices) -> dict[str, str]:
    """{value: label} of a TextChoices class in the current language."""
    return {value: str(label) for value, label in choices.choices}


# --- the columns of the lists -----------------------------------------------------------------

def order_columns(user) -> tuple[Column, ...]:
    """The order lists (queues, supervision, search): the columns of web/_order_table.html and the
    contact phone as the order page shows it to this user."""
    # The order page's own display function: the export masks exactly as the page does.
    from aftersales.service.models import OrderStatus, OrderType, ServiceLevel
    from aftersales.web.orders import order_phone as phone_for

    # Labels translated once per export: get_FOO_display() hashes the choices on every call, a
    # fifth of the export's CPU at 100,000 rows.
    types, statuses, levels = labels(OrderType), labels(OrderStatus), labels(ServiceLevel)
    return (
        Column(_("Number"), lambda o: o.number, 18),
        Column(_("Type"), lambda o: types.get(o.order_type, o.order_type), 10),
        Column(_("Status"), lambda o: statuses.get(o.status, o.status), 10),
        Column(_("Customer"), lambda o: o.customer.name, 12),
        Column(_("Contact phone"), lambda o: phone_for(user, o), 16),
        Column(_("county"), lambda o: o.customer.county or o.customer.city, 10),
        Column(_("Machine"), lambda o: o.machine.model.name if o.machine_id else "", 16),
        Column(_("serial number"), lambda o: o.machine.serial_number if o.machine_id else "", 22),
        Column(_("Level"), lambda o: levels.get(o.service_level, o.service_level), 10),
        Column(_("Assigned to"), lambda o: str(o.assigned_technician or o.assigned_org or ""), 16),
        Column(_("Recorded"), lambda o: o.created_at, 17),
        Column(_("Promised"), lambda o: o.promised_at, 17),
        Column(_("Appointment"), lambda o: o.appointment_at, 17),
        Column(_("Fault symptom"), lambda o: o.symptom, 40),
    )


# What order_columns reads beyond a list row (ORDER_ROW_FIELDS): the phone and what the phone
# rule looks at.
ORDER_EXPORT_FIELDS = ("contact_phone", "owning_org_id")


def orders_xlsx(user, queryset, *, filename: str, title: str) -> FileResponse:
    """An order list (a queryset from ``selectors.order_rows``) as a workbook."""
    from aftersales.service.selectors import ORDER_ROW_FIELDS

    rows = queryset.only(*ORDER_ROW_FIELDS, *ORDER_EXPORT_FIELDS)
    return xlsx_response(filename=filename, title=title, columns=order_columns(user), rows=chunked(rows))


def href(request) -> str:
    """The page's own URL with its filters and ``export=xlsx`` (without a page cursor: the export
    holds every row the filters select, not the page on screen)."""
    query = request.GET.copy()
    for name in ("after", "page", "export"):
        query.pop(name, None)
    query["export"] = "xlsx"
    return "?" + query.urlencode()


def supervision_xlsx(user, which: str) -> FileResponse:
    """The three lists of the supervision page, whole (the page shows the first 20 of each)."""
    from aftersales.service import selectors

    if which == "complaints":
        columns = (
            Column(_("Number"), lambda c: c.order.number, 18),
            Column(_("Customer"), lambda c: c.order.customer.name, 12),
            Column(_("Category"), lambda c: c.get_category_display(), 12),
            Column(_("Severity"), lambda c: c.get_severity_display(), 8),
            Column(_("Status"), lambda c: c.order.get_status_display(), 10),
            Column(_("about order"), lambda c: c.about_order.number if c.about_order_id else "", 18),
            Column(_("about organization"), lambda c: c.about_org.name if c.about_org_id else "", 20),
            Column(_("Recorded"), lambda c: c.order.created_at, 17),
            Column(_("Fault symptom"), lambda c: c.order.symptom, 40),
        )
        rows = selectors.complaint_queryset(user, open_only=True)
        return xlsx_response(filename=_("Open complaints"), title=_("Open complaints"), columns=columns, rows=chunked(rows))
    if which == "escalations":
        columns = (
            Column(_("Number"), lambda e: e.order.number, 18),
            Column(_("Problem"), lambda e: e.problem, 40),
            Column(_("What was tried"), lambda e: e.tried, 30),
            Column(_("raised by"), lambda e: str(e.raised_by), 12),
            Column(_("Raised"), lambda e: e.raised_at, 17),
            Column(_("Technical engineer"), lambda e: str(e.engineer or ""), 12),
        )
        rows = selectors.escalation_queryset(user, open_only=True)
        return xlsx_response(filename=_("Open escalations"), title=_("Open escalations"), columns=columns, rows=chunked(rows))
    from aftersales.sla import supervision

    rows = supervision.overdue_orders(user)  # the page's own list, whole
    return orders_xlsx(user, rows, filename=_("Overdue orders"), title=_("Overdue orders"))


SEARCH_EXPORT_LIMIT = 50


def search_xlsx(user, q: str) -> FileResponse:
    """The search page's hits, group by group (up to 50 a kind), as plain text."""
    from aftersales.knowledge.selectors import search
    from aftersales.service.models import OrderStatus

    labels = {"article": _("Knowledge articles"), "order": _("Service orders"), "customer": _("Customers"),
              "machine": _("Machines")}
    statuses = dict(OrderStatus.choices)
    rows = [(kind, hit) for kind, hits in search(user, q, limit=SEARCH_EXPORT_LIMIT).items() for hit in hits]
    columns = (
        Column(_("kind"), lambda r: labels.get(r[0], r[0]), 12),
        Column(_("title"), lambda r: r[1]["title"], 40),
        Column(_("Status"), lambda r: statuses.get(r[1]["status"], "") if r[0] == "order" else "", 10),
        Column(_("Excerpt"), lambda r: _plain(r[1]["snippet_html"]), 60),
    )
    return xlsx_response(filename=_("Search"), title=_("Search"), columns=columns, rows=rows)


def _plain(fragment: str) -> str:
    # The snippet is escaped HTML with <mark> added (knowledge.selectors.highlight): undo both.
    import html

    return html.unescape(fragment.replace("<mark>", "").replace("</mark>", ""))
