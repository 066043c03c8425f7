"""The web workbenches. Views read through the apps' selectors and write through their services;
none touches the ORM for a write. Domain errors become messages on the page, never error pages."""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.db.models import Q
from django.http import Http404, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from aftersales.core.errors import Conflict, DomainError, NotFound
from aftersales.registry import selectors as registry_selectors
from aftersales.service import selectors
from aftersales.service.models import OPEN_STATUSES, OrderStatus, OrderType, ServiceLevel
from aftersales.web import actions, extensions
from aftersales.web.workbench import STATUS_ORDER, act_first_statuses, workbench_url

PAGE_SIZE = 25


@require_GET
def home(request):
    if request.user.is_authenticated:
        return redirect(workbench_url(request.user))
    return redirect("web:login")


@require_GET
def healthz(request):
    """For load balancers and `make run`: answers only when the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def error_message(exc: DomainError) -> str:
    details = "；".join(exc.fields.values())
    return f"{exc.message} {details}".strip() if details else exc.message


# --- queues ----------------------------------------------------------------------------------

class BadCursor(ValueError):
    """A page cursor this site did not write (the queue answers 400)."""


def _cursor(value: str) -> tuple[datetime, int]:
    """``<created_at ISO>_<id>`` as keyset_page writes it; anything else is a BadCursor (a year
    1 stamp once overflowed the time zone conversion into a 500, a 2**63 id the database)."""
    from aftersales.core.types import DB_INT_MAX

    stamp, _sep, pk = value.partition("_")
    try:
        moment, number = datetime.fromisoformat(stamp), int(pk)
    except ValueError:
        raise BadCursor(value) from None
    if moment.tzinfo is None or not (2000 <= moment.year <= 9998) or not (1 <= number <= DB_INT_MAX):
        raise BadCursor(value)
    return moment, number


# The tabs count each status up to here and then say "100+" (see selectors.order_status_counts).
COUNT_CAP = 100


def shown_count(n: int) -> str:
    return f"{COUNT_CAP}+" if n > COUNT_CAP else str(n)


def keyset_page(qs, after: str):
    """Newest first by (created_at, id), continued from the last row of the previous page: as fast
    on page 4,000 as on page 1, unlike OFFSET."""
    cursor = _cursor(after) if after else None
    if cursor:
        stamp, pk = cursor
        qs = qs.filter(Q(created_at__lt=stamp) | Q(created_at=stamp, id__lt=pk))
    rows = list(qs[:PAGE_SIZE + 1])
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    next_cursor = f"{rows[-1].created_at.isoformat()}_{rows[-1].pk}" if more else ""
    return rows, next_cursor


def _query_without(request, name: str) -> str:
    query = request.GET.copy()
    query.pop(name, None)
    encoded = query.urlencode()
    return f"{encoded}&" if encoded else ""


@login_required
@require_GET
def queue(request):
    user = request.user
    mine = act_first_statuses(user)
    status = request.GET.get("status", "")
    statuses = [status] if status in OrderStatus.values else mine
    filters = {
        "order_type": request.GET.get("type", "") if request.GET.get("type") in OrderType.values else "",
        "level": request.GET.get("level", "") if request.GET.get("level") in ServiceLevel.values else "",
        "number": request.GET.get("number", "").strip()[:20],
    }
    overdue = request.GET.get("overdue") == "1"
    if filters["number"]:
        qs = selectors.order_rows(user, overdue=True if overdue else None, **filters)
    else:
        qs = selectors.order_rows(user, status=",".join(statuses), overdue=True if overdue else None, **filters)
    try:
        orders, next_cursor = keyset_page(qs, request.GET.get("after", ""))
    except BadCursor:
        return HttpResponseBadRequest(_("This page link is not valid; open the queue again."))
    more_pages = request.htmx and request.GET.get("after")
    context = {
        "orders": orders, "next_cursor": next_cursor, "status": status, "filters": filters, "overdue": overdue,
        "clocks": extensions.sla_clocks(user, orders), "sla": extensions.sla_enabled(),
        "types": OrderType.choices, "levels": ServiceLevel.choices, "now": timezone.now(),
    }
    context["base_query"] = _query_without(request, "after")
    if more_pages:  # the next rows only: the tabs are not redrawn
        return render(request, "web/_order_table.html#order-rows", context)
    counts = selectors.order_status_counts(user, STATUS_ORDER, cap=COUNT_CAP)
    context["tabs"] = [(s, OrderStatus(s).label, shown_count(counts.get(s, 0)), s in mine)
                       for s in STATUS_ORDER if counts.get(s) or s in mine]
    mine_total = sum(min(counts.get(s, 0), COUNT_CAP) for s in mine)
    capped = any(counts.get(s, 0) > COUNT_CAP for s in mine)
    context["mine_total"] = f"{mine_total}+" if capped else str(mine_total)
    return render(request, "web/queue.html", context)


@login_required
@require_GET
def tech(request):
    """维修人员 on a phone: my open orders, today's appointments first."""
    user = request.user
    open_now = [s for s in OPEN_STATUSES if s != OrderStatus.COMPLETED]
    orders = list(selectors.order_rows(user, technician=user.pk, status=",".join(open_now))[:50])
    today = timezone.localdate()
    orders.sort(key=lambda o: (o.appointment_at is None, o.appointment_at or o.created_at))
    todays = [o for o in orders if o.appointment_at and timezone.localdate(o.appointment_at) == today]
    others = [o for o in orders if o not in todays]
    return render(request, "web/tech.html", {"todays": todays, "others": others, "today": today,
                                             "clocks": extensions.sla_clocks(user, orders)})


@login_required
@require_GET
def supervisor(request):
    """督查: what is late or at risk, the open complaints and escalations, and SLA breaches by hop."""
    user = request.user
    overdue = list(selectors.order_rows(user, overdue=True).order_by("promised_at", "id")[:20])
    complaints = list(selectors.complaint_queryset(user, open_only=True)[:20])
    escalations = list(selectors.escalation_queryset(user, open_only=True)[:20])
    return render(request, "web/supervisor.html", {
        "overdue": overdue, "complaints": complaints, "escalations": escalations,
        "breaches": extensions.sla_breaches_by_hop(user), "sla": extensions.sla_enabled(),
        "clocks": extensions.sla_clocks(user, overdue), "now": timezone.now(),
    })


@login_required
@require_GET
def search(request):
    """The search box of the top bar: an order number opens the order; anything else is searched
    over articles, orders, customers and machines by the knowledge app (orders and customers
    only while it is not installed)."""
    from aftersales.core.errors import Throttled
    from aftersales.registry.services import lookup_throttle

    q = request.GET.get("q", "").strip()[:100]
    orders, customers, groups = [], [], None
    try:
        lookup_throttle(user=request.user, address=request.META.get("REMOTE_ADDR", ""), fragments=[q])
    except Throttled as exc:
        messages.error(request, exc.message)
        q = ""
    if q:
        orders = list(selectors.order_rows(request.user, number=q)[:10]) if q[:2].upper() == "FW" else []
        if len(orders) == 1:
            return redirect("web:order", orders[0].pk)
        groups = extensions.knowledge_search(request.user, q)
        if groups is None:
            customers = list(registry_selectors.customer_search(request.user, q=q)[:10])
    labels = {"article": _("Knowledge articles"), "order": _("Service orders"), "customer": _("Customers"),
              "machine": _("Machines")}
    kinds = [{"kind": k, "label": labels.get(k, k), "hits": hits} for k, hits in (groups or {}).items()]
    return render(request, "web/search.html", {"q": q, "orders": orders, "customers": customers, "groups": kinds,
                                               "indexed": groups is not None})


# --- the order page ----------------------------------------------------------------------------

def _order_context(request, order) -> dict:
    from aftersales.web.suggestions import order_suggestions

    user = request.user
    return {
        "order": order,
        "forms": actions.build(user, order),
        "events": list(selectors.order_events(user, order)),
        "attachments": list(selectors.order_attachments(user, order)),
        "quotes": list(selectors.order_quotes(user, order)),
        "record": getattr(order, "service_record", None),
        "rating": getattr(order, "rating", None),
        "clocks": extensions.sla_clocks(user, [order]).get(order.pk, []),
        "phone": _phone_for(user, order),
        "suggestions": order_suggestions(user, order),
        "now": timezone.now(),
    }


def _phone_for(user, order) -> str:
    from aftersales.registry.policies import phone_for

    return phone_for(user, None, order.contact_phone, order=order, where="web:order").text


def _get_order(user, pk: int):
    try:
        return selectors.order_get(user, pk, related=selectors.ORDER_PAGE_RELATED)
    except NotFound:
        raise Http404(_("Service order not found.")) from None


@login_required
@require_GET
def order_page(request, pk: int):
    order = _get_order(request.user, pk)
    return render(request, "web/order.html", _order_context(request, order))


@login_required
@require_POST
def order_action(request, pk: int, action: str):
    """Every action of the order page posts here; the registry maps it to ``order_<action>``."""
    user = request.user
    order = _get_order(user, pk)
    if action not in actions.ACTION_DATA:
        raise Http404(_("Unknown action."))
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        version = 0
    try:
        data = actions.parse(user, order, action, request.POST, request.FILES)
        changed = actions.perform(user, order.pk, action, version, request.POST.get("note", ""), data)
    except Conflict as exc:
        if exc.code == "stale_version":
            messages.warning(request, _("Someone else changed this order while you were looking at it. "
                                        "Here it is as it is now; check it and decide again."))
        else:
            messages.error(request, error_message(exc))
        return redirect("web:order", order.pk)
    except DomainError as exc:
        messages.error(request, error_message(exc))
        return redirect("web:order", order.pk)
    messages.success(request, _("Done: %(label)s.") % {"label": actions.label_of(action)})
    # After a rejection the organization no longer sees the order: back to its queue.
    if not selectors.order_queryset_plain(user).filter(pk=changed.pk).exists():
        return redirect(workbench_url(user))
    return redirect("web:order", changed.pk)


@login_required
@require_POST
def order_attach(request, pk: int):
    from aftersales.service import services

    order = _get_order(request.user, pk)
    uploads = request.FILES.getlist("file")
    if not uploads:
        messages.error(request, _("Choose a file first."))
    try:
        for upload in uploads:
            services.attachment_add(actor=request.user, order_id=order.pk, upload=upload,
                                    kind=request.POST.get("kind", "photo"))
        if uploads:
            messages.success(request, _("The file was stored."))
    except DomainError as exc:
        messages.error(request, error_message(exc))
    return redirect("web:order", order.pk)


@login_required
@require_GET
def attachment_file(request, pk: int, attachment_id: int):
    from aftersales.core.files import download_response

    order = _get_order(request.user, pk)
    try:
        attachment = selectors.attachment_get(request.user, order, attachment_id)
    except NotFound:
        raise Http404 from None
    return download_response(attachment)  # a download, never inline from the site's origin
