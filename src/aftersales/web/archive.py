"""客户档案 and 设备档案 as lists: what the user's organization may see, searched and paged, and
exported (``?export=xlsx``). Reads go through the registry's selectors; nothing here writes."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_GET

from aftersales.registry import policies
from aftersales.registry import selectors as registry_selectors
from aftersales.web import export
from aftersales.web.export import Column

PAGE_SIZE = 25


def customer_phones(user, customer) -> str:
    """The customer's numbers as the one phone rule (registry.policies.phone_for) lets this user read
    them: whole for those who serve the customer (a partner's reveal recorded), masked for the rest."""
    return "，".join(policies.phone_for(user, customer, p.number, where="web:customers").text
                    for p in customer.phones.all())


def _page(request) -> int:
    try:
        return max(1, min(int(request.GET.get("page", "1")), 10_000))
    except ValueError:
        return 1


def _paged(qs, page: int):
    """Offset paging: a customer or machine list is searched before it is paged far, and the
    archive's orders (-updated_at, -id / -id) have no timestamp cursor the queue's keyset uses."""
    start = (page - 1) * PAGE_SIZE
    rows = list(qs[start:start + PAGE_SIZE + 1])
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


def customer_columns(user) -> tuple[Column, ...]:
    return (
        Column(pgettext_lazy("person", "Name"), lambda c: c.name, 14),
        Column(gettext_lazy("phone"), lambda c: customer_phones(user, c), 30),
        Column(gettext_lazy("customer class"), lambda c: c.get_customer_class_display(), 10),
        Column(gettext_lazy("province"), lambda c: c.province, 8),
        Column(gettext_lazy("city"), lambda c: c.city, 10),
        Column(gettext_lazy("county"), lambda c: c.county, 10),
        Column(gettext_lazy("township"), lambda c: c.township, 10),
        Column(gettext_lazy("village"), lambda c: c.village, 10),
        Column(gettext_lazy("Address"), lambda c: c.address, 24),
        Column(gettext_lazy("updated at"), lambda c: c.updated_at, 17),
    )


def machine_columns(user) -> tuple[Column, ...]:
    return (
        Column(gettext_lazy("serial number"), lambda m: m.serial_number, 22),
        Column(gettext_lazy("model code"), lambda m: m.model.code, 12),
        Column(gettext_lazy("product model"), lambda m: m.model.name, 18),
        Column(gettext_lazy("product category"), lambda m: m.model.get_category_display(), 12),
        Column(gettext_lazy("Engine number"), lambda m: m.engine_number, 18),
        Column(gettext_lazy("owner"), lambda m: m.owner.name if m.owner_id else "", 12),
        Column(gettext_lazy("selling dealer"), lambda m: m.selling_dealer.name if m.selling_dealer_id else "", 20),
        Column(gettext_lazy("invoice date"), lambda m: m.invoice_date, 12),
        Column(gettext_lazy("delivery date"), lambda m: m.delivery_date, 12),
        Column(gettext_lazy("Status"), lambda m: m.get_status_display(), 8),
    )


@login_required
@require_GET
def customers(request):
    user = request.user
    q = request.GET.get("q", "").strip()[:100]
    qs = registry_selectors.customer_search(user, q=q)
    if export.wants_xlsx(request):
        return export.queued_if_large(request, qs) or export.xlsx_response(filename=_("customers"), title=_("Customer archive"), columns=customer_columns(user),
                                    rows=export.chunked(qs))
    page = _page(request)
    rows, more = _paged(qs, page)
    return render(request, "web/customers.html", {
        "q": q, "rows": [(c, customer_phones(user, c)) for c in rows], "page": page, "more": more,
        "export_href": export.href(request),
    })


@login_required
@require_GET
def machines(request):
    user = request.user
    q = request.GET.get("q", "").strip()[:100]
    qs = registry_selectors.machine_search(user, q=q)
    if export.wants_xlsx(request):
        return export.queued_if_large(request, qs) or export.xlsx_response(filename=_("machines"), title=_("Machine archive"), columns=machine_columns(user),
                                    rows=export.chunked(qs))
    page = _page(request)
    rows, more = _paged(qs, page)
    return render(request, "web/machines.html", {"q": q, "machines": rows, "page": page, "more": more,
                                                 "export_href": export.href(request)})
