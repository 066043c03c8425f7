"""The web workbenches. Views read through the apps' selectors and write through their services;
none touches the ORM for a write. Domain errors become messages on the page, never error pages."""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from aftersales.core import throttle
from aftersales.core.errors import Conflict, DomainError, NotFound, ValidationFailed
from aftersales.knowledge import selectors as knowledge_selectors
from aftersales.notify import inbox as notify_inbox
from aftersales.notify import selectors as notify_selectors
from aftersales.calls import selectors as calls_selectors
from aftersales.parts import selectors as parts_selectors
from aftersales.quality import selectors as quality_selectors
from aftersales.service import selectors, workflow
from aftersales.service.models import (
    OPEN_STATUSES,
    Channel,
    OrderStatus,
    OrderType,
    ServiceLevel,
)
from aftersales.sla import selectors as sla_selectors
from aftersales.sla import supervision
from aftersales.web import actions, export
from aftersales.web.templatetags.web import punctuation
from aftersales.web.orders import error_message  # noqa: F401 (named here for the pages that import it)
from aftersales.web.orders import get_order as _get_order
from aftersales.web.orders import order_phone as _phone_for
from aftersales.web.suggestions import order_suggestions
from aftersales.web.workbench import STATUS_ORDER, act_first_statuses, workbench_url

PAGE_SIZE = 25


@require_GET
def home(request):
    if request.user.is_authenticated:
        return redirect(workbench_url(request.user))
    return redirect("web:login")


@require_GET
def favicon(request):
    """Browsers ask for /favicon.ico on every site; no icon is an empty answer, not a 404 in the log."""
    from django.http import HttpResponse

    response = HttpResponse(status=204)
    response["Cache-Control"] = "public, max-age=86400"
    return response


@require_GET
def healthz(request):
    """For load balancers, monitors and `make run`: 200 when the database answers and the worker
    keeps up (SLA sweeps recent, outbox not lagging), else 503; the body says which (core.health)."""
    from aftersales.core.health import health

    healthy, report = health()
    return JsonResponse(report, status=200 if healthy else 503)


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
        "channel": request.GET.get("channel", "") if request.GET.get("channel") in Channel.values else "",
    }
    overdue = request.GET.get("overdue") == "1"
    if filters["number"]:
        qs = selectors.order_rows(user, **filters)
    else:
        qs = selectors.order_rows(user, status=",".join(statuses), **filters)
    if overdue:
        # Late by the promise to the customer, or a clock run out that the user or the user's pool
        # holds (the coordinators' late 15-minute handoffs are in their overdue list).
        now = timezone.now()
        promised_late = Q(promised_at__lt=now, status__in=[s for s in OPEN_STATUSES if s != OrderStatus.COMPLETED])
        qs = qs.filter(Q(pk__in=sla_selectors.overdue_order_ids(user)) | promised_late)
    if export.wants_xlsx(request):
        return export.queued_if_large(request, qs) or export.orders_xlsx(
            user, qs, filename=_("Work queue"), title=_("Work queue"))
    try:
        orders, next_cursor = keyset_page(qs, request.GET.get("after", ""))
    except BadCursor:
        return HttpResponseBadRequest(_("This page link is not valid; open the queue again."))
    more_pages = request.htmx and request.GET.get("after")
    context = {
        "orders": orders, "next_cursor": next_cursor, "status": status, "filters": filters, "overdue": overdue,
        "clocks": sla_selectors.clocks_for_orders(user, orders), "sla": True,
        "types": OrderType.choices, "levels": ServiceLevel.choices, "now": timezone.now(),
        "channels": Channel.choices,
    }
    context["base_query"] = _query_without(request, "after")
    context["export_href"] = export.href(request)
    if more_pages:  # the next rows only: the tabs are not redrawn
        return render(request, "web/_order_table.html#order-rows", context)
    counts = selectors.order_status_counts(user, STATUS_ORDER, cap=COUNT_CAP)
    context["tabs"] = [(s, OrderStatus(s).label, shown_count(counts.get(s, 0)), s in mine)
                       for s in STATUS_ORDER if counts.get(s) or s in mine]
    mine_total = sum(min(counts.get(s, 0), COUNT_CAP) for s in mine)
    capped = any(counts.get(s, 0) > COUNT_CAP for s in mine)
    context["mine_total"] = f"{mine_total}+" if capped else str(mine_total)
    context["quality_issues"] = quality_selectors.queue_issues(user)  # the technical centre's inbox
    return render(request, "web/queue.html", context)


@login_required
@require_GET
def tech(request):
    """维修人员 on a phone: my open orders, today's appointments first, each with a call button and
    a map link; and the orders dispatched to my organization that nobody has taken on yet (the
    station's manager and technicians see them alike)."""
    user = request.user
    open_now = [s for s in OPEN_STATUSES if s != OrderStatus.COMPLETED]
    related = ("customer", "machine__model", "assigned_org", "assigned_technician")
    orders = list(selectors.order_search(user, technician=user.pk, status=",".join(open_now))
                  .select_related(*related)[:50])
    today = timezone.localdate()
    orders.sort(key=lambda o: (o.appointment_at is None, o.appointment_at or o.created_at))
    todays = [o for o in orders if o.appointment_at and timezone.localdate(o.appointment_at) == today]
    others = [o for o in orders if o not in todays]
    waiting = []
    if user.organization_id:
        waiting = list(selectors.order_search(
            user, organization=user.organization_id,
            status=",".join([OrderStatus.DISPATCHED, OrderStatus.ACCEPTED])).select_related(*related)[:30])
        mine = {o.pk for o in orders}
        waiting = [o for o in waiting if o.pk not in mine]  # already on the technician's own list
    from aftersales.registry.policies import phones_for_orders

    shown = phones_for_orders(user, (*orders, *waiting), where="web:tech")
    for o in (*orders, *waiting):
        o.call = shown[o.pk].text
        o.address = order_address(o)
    return render(request, "web/tech.html", {"todays": todays, "others": others, "waiting": waiting, "today": today,
                                             "clocks": sla_selectors.clocks_for_orders(user, orders + waiting)})


@login_required
@require_GET
def supervisor(request):
    """督查: the numbers first (intake, open, overdue, breaches per hop and organization, average
    handoff and arrival, satisfaction), then the overdue orders, open complaints and escalations."""
    user = request.user
    if export.wants_xlsx(request):
        return export.supervision_xlsx(user, request.GET.get("list", ""))
    now = timezone.now()
    figures = supervision.numbers(user, now)
    overdue = list(supervision.overdue_orders(user, now)[:20])
    complaints = list(selectors.complaint_queryset(user, open_only=True)[:20])
    escalations = list(selectors.escalation_queryset(user, open_only=True)[:20])
    return render(request, "web/supervisor.html", {
        "n": figures, "overdue": overdue, "complaints": complaints, "escalations": escalations,
        "sla": True, "clocks": sla_selectors.clocks_for_orders(user, overdue), "now": now,
    })


# --- the inbox (站内通知) -------------------------------------------------------------------------

INBOX_PAGE = 50


@login_required
@require_GET
def inbox(request):
    """What the system told this user: handoffs, dispatches, warnings, breaches, escalation answers."""
    user = request.user
    items = list(notify_selectors.inbox(user)[:INBOX_PAGE])
    rows = [{"n": n, "text": notify_selectors.text_of(n)} for n in items]
    return render(request, "web/inbox.html", {"rows": rows, "unread": notify_selectors.unread_count(user)})


@login_required
@require_GET
def inbox_open(request, pk: int):
    """Opening a notification marks it read (only one's own; twice is harmless) and shows its order."""
    try:
        n = notify_selectors.notification_get(request.user, pk)
    except NotFound:
        raise Http404(_("Notification not found.")) from None
    notify_inbox.inbox_mark_read(user=request.user, ids=[n.pk])
    if n.kind == "inbox_export_ready":
        return redirect("exports:download", n.context.get("export", ""))
    return redirect("web:order", n.order_id) if n.order_id else redirect("web:inbox")


@login_required
@require_POST
def inbox_read_all(request):
    notify_inbox.inbox_mark_read(user=request.user)
    return redirect("web:inbox")


@login_required
@require_GET
def search(request):
    """The search box of the top bar: an order number opens the order; anything else is searched
    over articles, orders, customers and machines by the knowledge app."""
    from aftersales.core.errors import Throttled
    from aftersales.registry.services import lookup_throttle

    q = request.GET.get("q", "").strip()[:100]
    if q and export.wants_xlsx(request):
        return export.search_xlsx(request.user, q)
    orders, customers, groups = [], [], None
    try:
        lookup_throttle(user=request.user, address=throttle.client_ip(request), fragments=[q])
    except Throttled as exc:
        messages.error(request, exc.message)
        q = ""
    if q:
        orders = list(selectors.order_rows(request.user, number=q)[:10]) if q[:2].upper() == "FW" else []
        if len(orders) == 1:
            return redirect("web:order", orders[0].pk)
        groups = knowledge_selectors.search(request.user, q, limit=8)
    labels = {"article": _("Knowledge articles"), "order": _("Service orders"), "customer": _("Customers"),
              "machine": _("Machines")}
    kinds = [{"kind": k, "label": labels.get(k, k), "hits": hits} for k, hits in (groups or {}).items()]
    return render(request, "web/search.html", {"q": q, "orders": orders, "customers": customers, "groups": kinds,
                                               "indexed": True, "export_href": export.href(request)})


# --- the order page ----------------------------------------------------------------------------

def _order_context(request, order, **form_state) -> dict:
    user = request.user
    forms = actions.build(user, order, done=request.GET.get("done", ""), **form_state)
    return {
        "order": order,
        "forms": forms,
        "ready": [f for f in forms if f.enabled],
        "blocked": [f for f in forms if not f.enabled],
        "next_step": actions.next_step(order),
        "events": _timeline(selectors.order_events(user, order)),
        "attachments": list(selectors.order_attachments(user, order)),
        "calls": calls_selectors.call_log(user, order=order, limit=20),
        "quotes": list(selectors.order_quotes(user, order)),
        "record": getattr(order, "service_record", None),
        "rating": getattr(order, "rating", None),
        "complaint": (selectors.complaint_queryset(user).filter(order=order).first()
                      if order.order_type == OrderType.COMPLAINT else None),
        "escalations": list(selectors.escalation_queryset(user).filter(order=order).order_by("raised_at", "id")),
        "clocks": sla_selectors.clocks_for_orders(user, [order], current_only=False).get(order.pk, []),
        "phone": _phone_for(user, order),
        "address": order_address(order),
        "suggestions": order_suggestions(user, order),
        "now": timezone.now(),
        "requisitions": (requisitions := parts_selectors.order_requisitions(user, order)),
        "warranty_now": parts_selectors.warranty_now(order) if requisitions else None,
    }


def _when(value: str) -> str:
    try:
        return timezone.localtime(datetime.fromisoformat(value)).strftime("%Y-%m-%d %H:%M")
    except (TypeError, ValueError):
        return ""


def _timeline(events) -> list:
    """The events with the few facts of their data a reader needs, in words: a new appointment or
    promised time, the steps recorded, the reason given."""
    rows = []
    for e in events:
        data = e.data or {}
        details = []
        if data.get("appointment_at"):
            details.append(_("Appointment: %(when)s") % {"when": _when(data["appointment_at"])})
        if e.action == workflow.PROMISE_CHANGE:
            # Its own event: from what to what (the first promise has no "from").
            details.append(f"{_when(data['previous']) if data.get('previous') else '—'} → "
                           f"{_when(data['promised_at']) if data.get('promised_at') else '—'}")
        elif data.get("promised_at") and e.action != "create":
            details.append(_("Promised time changed to %(when)s") % {"when": _when(data["promised_at"])})
        for key, label in (("reason", _("Reason")), ("solution", _("Solution")), ("problem", _("Question")),
                           ("answer", _("Answer")), ("summary", _("Summary"))):
            if isinstance(data.get(key), str) and data[key]:
                details.append(f"{label}{punctuation('：')}{data[key]}")
        e.details = details
        if e.latitude is not None and e.longitude is not None:
            where = _("Position %(lat).5f, %(lon).5f") % {"lat": e.latitude, "lon": e.longitude}
            if e.accuracy_m is not None:
                where += _(" (within %(m)s m)") % {"m": e.accuracy_m}
            details.append(where)
        e.steps = [s for s in data.get("steps", []) if isinstance(s, str)] if isinstance(data.get("steps"), list) else []
        rows.append(e)
    return rows


def order_address(order) -> str:
    """The customer's address in one line with each region name once, then where the machine is
    (地块) when that was given: a field location typed as "历城区王村东" after the county 历城区
    does not say the county again."""
    customer = order.customer
    region = [p for p in (customer.province, customer.city, customer.county, customer.township, customer.village) if p]
    text = "".join(region)
    for extra, joiner in ((customer.address, ""), (order.field_location, " · ")):
        extra = (extra or "").strip()
        trimmed = True
        while trimmed:
            trimmed = False
            for part in region:
                if extra.startswith(part):
                    extra, trimmed = extra[len(part):].strip(), True
        if extra and extra not in text:
            text = f"{text}{joiner}{extra}" if text else extra
    return text


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
    post = request.POST
    data = None
    try:
        data = actions.parse(user, order, action, post, request.FILES)
        changed = actions.perform(user, order.pk, action, version, post.get("note", ""), data)
    except ValidationFailed as exc:
        return _failed(request, order, action, post, data, exc)
    except Conflict as exc:
        if exc.code == "stale_version":
            messages.warning(request, _("Someone else changed this order while you were looking at it. "
                                        "Here it is as it is now; check it and decide again."))
        else:
            messages.error(request, error_message(exc))
        return redirect("web:order", order.pk)
    except DomainError as exc:  # not yours to take, or no longer possible: the page as it is now says why
        messages.error(request, error_message(exc))
        return redirect("web:order", order.pk)
    messages.success(request, _("Done: %(label)s.") % {"label": actions.label_of(action)})
    # After a rejection the organization no longer sees the order: back to its queue.
    if not selectors.order_queryset_plain(user).filter(pk=changed.pk).exists():
        return redirect(workbench_url(user))
    # The page shows the new state with the form just used shut and the next step open.
    return redirect(f"{reverse('web:order', args=[changed.pk])}?done={action}")


def _failed(request, order, action: str, post, data: dict | None, exc: DomainError):
    """A refused save: the same page with the form open and filled as it was typed, each field's
    error beside it. Photos or a signature the form stored come back ticked (by id), so the next
    try reuses them instead of storing them again."""
    post = post.copy()
    if data is not None:
        if data.get("photo_ids"):
            post.setlist("photo_ids", [str(i) for i in data["photo_ids"]])
        if data.get("signature_id"):
            post["signature_id"] = str(data["signature_id"])
    order = _get_order(request.user, order.pk)
    context = _order_context(request, order, posted=post, failed=action, errors=exc.fields,
                             message=exc.message)
    return render(request, "web/order.html", context, status=422)


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
