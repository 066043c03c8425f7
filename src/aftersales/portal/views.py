"""The customer's phone portal at /m/ (客户自助服务): plain pages for a phone and WeChat's browser,
no script needed except the optional "use my position" button (static/portal/portal.js).
Every change calls portal.services, which call the service functions the hotline uses."""

from __future__ import annotations

import uuid
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from aftersales.core import throttle
from aftersales.core.errors import Conflict, DomainError, NotFound, ValidationFailed
from aftersales.portal import selectors, services
from aftersales.portal.status import machine_status
from aftersales.service.models import OrderStatus
from aftersales.portal.facts import complaint_categories, order_facts
from aftersales.web.tracking import STAR_LABELS

SESSION_KEY = "portal_phone"
SERIAL_KEY = "portal_serial"


def _client(request) -> str:
    return throttle.client_ip(request)


def portal_login_required(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        phone = request.session.get(SESSION_KEY, "")
        if not phone or not selectors.customer_ids(phone):
            return redirect("portal:login")
        request.portal_phone = phone
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message) from None
    return wrapped


def _render(request, template: str, context: dict, status: int = 200):
    return render(request, template, {"hotline": settings.HOTLINE, **context}, status=status)


@require_http_methods(["GET", "POST"])
def login(request):
    """Step 1: the phone number; step 2: the code from the SMS."""
    serial = request.session.get(SERIAL_KEY, "")
    if request.method == "GET":
        if request.session.get(SESSION_KEY):
            return redirect("portal:home")
        return _render(request, "portal/login.html", {"step": "phone", "serial": serial})
    phone = request.POST.get("phone", "")[:30]
    if request.POST.get("step") == "code":
        try:
            e164 = services.login_code_verify(phone=phone, code=request.POST.get("code", ""), client=_client(request))
        except DomainError as exc:
            return _render(request, "portal/login.html", {"step": "code", "phone": phone, "serial": serial,
                                                         "errors": exc.fields, "error": exc.message}, status=exc.status)
        request.session.cycle_key()  # a new session id at login: a planted one opens nothing
        request.session[SESSION_KEY] = e164
        request.session.pop(SERIAL_KEY, None)
        machine = selectors.machine_by_serial(e164, serial) if serial else None
        return redirect("portal:machine", machine.pk) if machine else redirect("portal:home")
    try:
        services.login_code_send(phone=phone, client=_client(request))
    except DomainError as exc:
        return _render(request, "portal/login.html", {"step": "phone", "phone": phone, "serial": serial,
                                                     "errors": exc.fields, "error": exc.message}, status=exc.status)
    return _render(request, "portal/login.html", {"step": "code", "phone": phone, "serial": serial, "sent": True})


@require_POST
def logout(request):
    request.session.pop(SESSION_KEY, None)
    request.session.cycle_key()
    return redirect("portal:login")


@require_GET
def scan(request, serial: str):
    """The QR code on the machine's plate: the machine's page once logged in."""
    serial = serial.strip()[:40]
    phone = request.session.get(SESSION_KEY, "")
    if phone:
        machine = selectors.machine_by_serial(phone, serial)
        if machine is not None:
            return redirect("portal:machine", machine.pk)
        return redirect("portal:home")
    request.session[SERIAL_KEY] = serial
    return redirect("portal:login")


@portal_login_required
@require_GET
def home(request):
    phone = request.portal_phone
    machines = list(selectors.machine_queryset(phone))
    for m in machines:
        m.status_info = machine_status(m)
    orders = list(selectors.order_queryset(phone)[:30])
    open_orders = [o for o in orders if o.status not in (OrderStatus.CLOSED, OrderStatus.CANCELLED)]
    return _render(request, "portal/home.html", {
        "customers": selectors.customers(phone), "machines": machines, "open_orders": open_orders,
        "past_orders": [o for o in orders if o not in open_orders],
    })


@portal_login_required
@require_GET
def machine(request, pk: int):
    m = selectors.machine_get(request.portal_phone, pk)
    history = list(selectors.order_queryset(request.portal_phone).filter(machine=m))
    return _render(request, "portal/machine.html", {"machine": m, "status_info": machine_status(m),
                                                     "history": history})


def _report_page(request, machine, *, status=200, **extra):
    machines = list(selectors.machine_queryset(request.portal_phone))
    return _render(request, "portal/report.html", {
        "machine": machine, "machines": machines, "key": uuid.uuid4().hex, **extra}, status=status)


@portal_login_required
@require_http_methods(["GET", "POST"])
def report(request):
    phone = request.portal_phone
    if request.method == "GET":
        chosen = None
        if request.GET.get("machine", "").isdigit():
            chosen = selectors.machine_queryset(phone).filter(pk=int(request.GET["machine"])).first()
        return _report_page(request, chosen)
    try:
        machine_id = int(request.POST.get("machine", ""))
    except ValueError:
        machine_id = 0
    chosen = selectors.machine_queryset(phone).filter(pk=machine_id).first()
    form = {k: request.POST.get(k, "")[:4000] for k in ("symptom", "address", "latitude", "longitude",
                                                         "duplicate_reason")}
    form["stopped"] = request.POST.get("stopped") == "1"
    if chosen is None:
        return _report_page(request, None, status=422, form=form, errors={"machine": _("Choose your machine.")},
                            error=_("The request was not sent."))
    rep = services.FaultReport(
        machine_id=chosen.pk, symptom=form["symptom"], stopped=form["stopped"], address=form["address"],
        latitude=form["latitude"], longitude=form["longitude"], duplicate_reason=form["duplicate_reason"],
        photos=request.FILES.getlist("photos"), video=request.FILES.get("video"), voice=request.FILES.get("voice"))
    try:
        result = services.fault_report(phone=phone, report=rep, idempotency_key=request.POST.get("key", "")[:100])
    except Conflict as exc:
        duplicate = None
        if exc.code == "duplicate_order" and isinstance(exc.current, dict):
            duplicate = selectors.order_queryset(phone).filter(pk=exc.current.get("id")).first()
        return _report_page(request, chosen, status=409, form=form, duplicate=duplicate, error=exc.message,
                            errors=exc.fields)
    except DomainError as exc:
        return _report_page(request, chosen, status=exc.status, form=form, error=exc.message, errors=exc.fields)
    return redirect(reverse("portal:order", args=[result.order.number]) + "?sent=1")


def _order_page(request, order, *, status=200, **extra):
    # The same facts the portal API answers with (portal.facts): one place decides what a customer sees.
    facts = order_facts(order)
    return _render(request, "portal/order.html", {
        "order": order, **facts, "stars": list(STAR_LABELS.items()), "categories": complaint_categories(),
        "sent": request.GET.get("sent") == "1", "key": uuid.uuid4().hex, **extra,
    }, status=status)


@portal_login_required
@require_GET
def order(request, number: str):
    return _order_page(request, selectors.order_get(request.portal_phone, number))


def _int(value, default=0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


@portal_login_required
@require_POST
def order_act(request, number: str, action: str):
    phone = request.portal_phone
    current = selectors.order_get(phone, number)
    version = _int(request.POST.get("version"), -1)
    try:
        if action == "confirm":
            services.order_confirm(phone=phone, number=number, version=version, code=request.POST.get("code", ""))
            message = _("Thank you: the repair is confirmed.")
        elif action == "rate":
            score = _int(request.POST.get("score"))
            if score not in STAR_LABELS:
                raise ValidationFailed(_("Nothing was changed."), fields={"score": _("Please choose from 1 to 5 stars.")})
            services.order_rate(phone=phone, number=number, version=version, score=score,
                                comment=request.POST.get("comment", "")[:2000])
            message = _("Thank you for your rating!")
        elif action == "complain":
            complaint = services.complaint_file(phone=phone, number=number, category=request.POST.get("category", ""),
                                                text=request.POST.get("text", "")[:4000],
                                                idempotency_key=request.POST.get("key", "")[:100])
            return redirect(reverse("portal:order", args=[complaint.number]) + "?sent=1")
        else:
            raise Http404()
    except DomainError as exc:
        return _order_page(request, current, status=exc.status, error=exc.message, errors=exc.fields,
                           failed_action=action, form={k: request.POST.get(k, "")[:2000] for k in ("comment", "text")})
    messages.success(request, message)
    return redirect("portal:order", number)
