"""话务台: the call agent's workbench. One search field finds the caller as they type; the intake
form follows the seed's questions in order; the proposal (level, mode, warranty reasons) and a
duplicate warning come before the order is saved."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from aftersales.core.errors import Conflict, DomainError, NotFound, Throttled
from aftersales.registry import selectors as registry_selectors
from aftersales.registry import services as registry_services
from aftersales.registry.policies import phone_for
from aftersales.service import selectors, services
from aftersales.service.models import OPEN_STATUSES, OrderType, ServiceLevel, ServiceMode, Urgency
from aftersales.web.views import error_message

LOOKUP_CUSTOMERS = 5


def _machines_with_warranty(user, customer) -> list[dict]:
    rows = []
    for machine in registry_selectors.machine_search(user, owner_id=customer.pk)[:10]:
        try:
            evaluation = services.warranty_evaluate(machine)
        except DomainError:
            evaluation = {}
        whole = evaluation.get("coverage", {}).get("whole_machine", {})
        rows.append({"machine": machine, "state": whole.get("state", ""), "end": whole.get("end"),
                     "mode": evaluation.get("service_mode", "")})
    return rows


def _caller(user, customer) -> dict:
    orders = list(selectors.order_rows(user, customer=customer.pk)[:8])
    return {
        "customer": customer,
        "phones": [p for p in customer.phones.all()],
        "machines": _machines_with_warranty(user, customer),
        "open_orders": [o for o in orders if o.status in OPEN_STATUSES],
        "recent_orders": [o for o in orders if o.status not in OPEN_STATUSES][:5],
    }


@login_required
@require_GET
def desk(request):
    context = {"phrases": _phrases(request.user), "form": _intake_context(request.user, request.GET)}
    return render(request, "web/desk.html", context)


def _phrases(user) -> dict:
    number = user.employee_no or user.username
    return {
        "greeting": _("Hello, Kaituo Machinery customer service, agent number %(number)s at your service.") % {"number": number},
        "transfer": _("Please hold on a moment, I will transfer you."),
        "closing": [_("Thank you for your call, goodbye."), _("Whenever you need service, please contact us.")],
    }


@login_required
@require_GET
def lookup(request):
    """As the agent types: a phone (4+ digits), a name or a serial number."""
    q = request.GET.get("q", "").strip()[:60]
    callers = []
    try:
        registry_services.lookup_throttle(user=request.user, address=request.META.get("REMOTE_ADDR", ""), fragments=[q])
    except Throttled as exc:
        return render(request, "web/desk.html#lookup", {"callers": [], "q": q, "throttled": exc.message}, status=429)
    if len(q) >= 2:
        customers = registry_selectors.customer_search(request.user, q=q)[:LOOKUP_CUSTOMERS]
        callers = [_caller(request.user, c) for c in customers]
    return render(request, "web/desk.html#lookup", {"callers": callers, "q": q})


def _intake_context(user, values, errors=None, duplicate=None) -> dict:
    """The intake form for the chosen customer (and machine), with the proposal shown beside it."""
    context = {"values": values, "errors": errors or {}, "duplicate": duplicate, "customer": None, "machines": [],
               "proposal": None, "types": [(OrderType.REPAIR, OrderType.REPAIR.label),
                                           (OrderType.CONSULTATION, OrderType.CONSULTATION.label)],
               "urgencies": Urgency.choices, "levels": ServiceLevel.choices, "modes": ServiceMode.choices}
    customer_id = values.get("customer", "")
    if not str(customer_id).isdigit():
        return context
    try:
        customer = registry_selectors.customer_get(user, pk=int(customer_id))
    except NotFound:
        return context
    machines = list(registry_selectors.machine_search(user, owner_id=customer.pk)[:10])
    machine = next((m for m in machines if str(m.pk) == str(values.get("machine", ""))), None)
    if machine is None and machines and "machine" not in values:
        machine = machines[0]
    order_type = values.get("order_type") or OrderType.REPAIR
    urgency = values.get("urgency") if values.get("urgency") in Urgency.values else Urgency.NORMAL
    try:
        proposal = services.order_proposal(machine=machine, customer=customer,
                                           order_type=order_type if order_type in OrderType.values else OrderType.REPAIR,
                                           urgency=urgency)
    except DomainError:
        proposal = None
    phone = customer.phones.first()
    # The one phone rule: a user who may not read the full number gets the field empty (the order
    # then takes the customer's own number) with the masked one shown beside it, never the number.
    shown = phone_for(user, customer, phone.number, where="web:desk") if phone else None
    context.update(customer=customer, machines=machines, machine=machine, proposal=proposal,
                   order_type=order_type, urgency=urgency,
                   # What the agent typed comes back as typed; otherwise the number as the rule shows it.
                   contact_value=values.get("contact_phone") or (shown.text if shown and not shown.masked else ""),
                   masked_phone=shown.text if shown and shown.masked else "",
                   purchase_date=values.get("purchase_date") or (machine.warranty_start.isoformat()
                                                                 if machine and machine.warranty_start else ""))
    return context


@login_required
@require_GET
def intake_form(request):
    """The form again for another customer, machine, type or urgency (htmx swaps it in place)."""
    return render(request, "web/desk.html#intake", {"form": _intake_context(request.user, request.GET)})


def _order_input(post) -> services.OrderInput:
    def text(name):
        return post.get(name, "").strip()

    purchase = text("purchase_date")
    return services.OrderInput(
        order_type=text("order_type") or OrderType.REPAIR,
        customer_id=int(text("customer")) if text("customer").isdigit() else None,
        machine_id=int(text("machine")) if text("machine").isdigit() else None,
        contact_phone=text("contact_phone"), contact_name=text("contact_name"),
        purchase_date=date.fromisoformat(purchase) if purchase else None,
        crop=text("crop"), operation=text("operation"), field_location=text("field_location"),
        urgency=text("urgency") or Urgency.NORMAL, symptom=text("symptom"),
        service_level=text("service_level"), service_mode=text("service_mode"), override_reason=text("override_reason"),
        answer=text("answer"), duplicate_reason=text("duplicate_reason"),
    )


@login_required
@require_http_methods(["POST"])
def intake(request):
    """Record the order. A duplicate answers with the order it looks like, before anything is saved."""
    try:
        data = _order_input(request.POST)
        result = services.order_create(actor=request.user, data=data)
    except ValueError:
        form = _intake_context(request.user, request.POST, errors={"purchase_date": _("Enter a valid date.")})
        return render(request, "web/desk.html", {"phrases": _phrases(request.user), "form": form}, status=422)
    except Conflict as exc:
        duplicate = None
        if exc.code == "duplicate_order" and exc.current:
            duplicate = selectors.order_queryset(request.user).filter(pk=exc.current["id"]).first()
        form = _intake_context(request.user, request.POST, errors={"all": exc.message}, duplicate=duplicate)
        return render(request, "web/desk.html", {"phrases": _phrases(request.user), "form": form}, status=409)
    except DomainError as exc:
        form = _intake_context(request.user, request.POST, errors={"all": error_message(exc), **exc.fields})
        return render(request, "web/desk.html", {"phrases": _phrases(request.user), "form": form}, status=422)
    order = result.order
    messages.success(request, _("Order %(number)s recorded.") % {"number": order.number})
    if order.order_type == OrderType.CONSULTATION and order.answer:
        return redirect("web:desk")
    return redirect("web:order", order.pk)
