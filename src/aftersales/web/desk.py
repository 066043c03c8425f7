"""话务台: the call agent's workbench. One search field finds the caller as they type; the intake
form follows the seed's questions in order; the proposal (level, mode, warranty reasons) and a
duplicate warning come before the order is saved."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from aftersales.calls import selectors as calls_selectors
from aftersales.calls import services as calls_services
from aftersales.core import throttle
from aftersales.core.errors import Conflict, DomainError, NotFound, Throttled
from aftersales.registry import selectors as registry_selectors
from aftersales.registry import services as registry_services
from aftersales.registry.models import Customer, CustomerClass
from aftersales.registry.policies import phone_for
from aftersales.service import selectors, services
from aftersales.service.models import (
    OPEN_STATUSES,
    OrderType,
    ReturnKind,
    ServiceLevel,
    ServiceMode,
    Urgency,
    WarrantyRemedy,
)
from aftersales.warranty.parts import part_label
from aftersales.warranty.services import category_components

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
                     "mode": evaluation.get("service_mode", ""), "parts_wait_days": whole.get("parts_wait_days", 0)})
    return rows


def caller_card(user, customer) -> dict:
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
    form = intake_context(request.user, request.GET)
    callers = [caller_card(request.user, form["customer"])] if form.get("customer") is not None and form["customer"].pk else []
    context = {"phrases": _phrases(request.user), "form": form, "callers": callers, "q": request.GET.get("q", "")}
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
        registry_services.lookup_throttle(user=request.user, address=throttle.client_ip(request), fragments=[q])
    except Throttled as exc:
        return render(request, "web/desk.html#lookup", {"callers": [], "q": q, "throttled": exc.message}, status=429)
    if len(q) >= 2:
        customers = registry_selectors.customer_search(request.user, q=q)[:LOOKUP_CUSTOMERS]
        callers = [caller_card(request.user, c) for c in customers]
    return render(request, "web/desk.html#lookup", {"callers": callers, "q": q})


NEW = "new"
CUSTOMER_FIELDS = ("name", "customer_class", "province", "city", "county", "township", "village", "address")
MACHINE_FIELDS = ("model_code", "serial_number", "engine_number", "invoice_date", "delivery_date", "selling_dealer_id")


def seller_choices(user) -> list:
    """The organizations a machine can have been sold by, for the new-machine form."""
    from aftersales.accounts import selectors as account_selectors
    from aftersales.accounts.models import OrganizationKind as K

    return list(account_selectors.organization_queryset(user).filter(
        is_active=True, kind__in=[K.DEALER, K.DIRECT_BRANCH, K.AUTHORIZED_AGENCY]).order_by("kind", "code"))


def _duplicates(user, values) -> dict:
    """A new caller's number or a new machine's serial number already in the archive: shown with
    the customer or machine when this user may see it, else only that it is taken."""
    found = {}
    if values.get("customer") == NEW:
        for key in ("c_phone", "c_phone2"):
            if values.get(key, "").strip():
                owner, taken = registry_selectors.phone_owner(user, phone=values[key])
                if taken:
                    found[key] = {"customer": owner}
    if values.get("machine") == NEW and values.get("m_serial_number", "").strip():
        machine, taken = registry_selectors.serial_owner(user, serial=values["m_serial_number"])
        if taken:
            found["m_serial_number"] = {"machine": machine}
    return found


def intake_context(user, values, errors=None, duplicate=None) -> dict:
    """The intake form for the chosen (or a new) customer and machine, with the proposal beside it."""
    values = values.dict() if hasattr(values, "dict") else dict(values)
    context = {"values": values, "errors": errors or {}, "duplicate": duplicate, "customer": None, "machines": [],
               "proposal": None, "types": [(OrderType.REPAIR, OrderType.REPAIR.label),
                                           (OrderType.CONSULTATION, OrderType.CONSULTATION.label),
                                           (OrderType.RETURN_EXCHANGE, OrderType.RETURN_EXCHANGE.label)],
               "return_kinds": ReturnKind.choices, "remedies": WarrantyRemedy.choices, "components": [],
               "urgencies": Urgency.choices, "levels": ServiceLevel.choices, "modes": ServiceMode.choices,
               "classes": CustomerClass.choices, "new_customer": False, "new_machine": False,
               "q": values.get("q", "")}
    customer_id = str(values.get("customer", ""))
    if customer_id == NEW:
        call_number = calls_selectors.caller_of_my_call(user, values.get("c_phone_call", ""))
        if call_number:  # the caller's number by reference: shown as the phone rule lets this user see it
            context["call_phone"] = phone_for(user, None, call_number, where="web:call-pop").text
        customer = Customer(name=values.get("c_name", "").strip(),
                            customer_class=values.get("c_class") if values.get("c_class") in CustomerClass.values
                            else CustomerClass.FARMER)
        machines = []
        context["new_customer"] = True
    elif customer_id.isdigit():
        try:
            customer = registry_selectors.customer_get(user, pk=int(customer_id))
        except NotFound:
            return context
        machines = list(registry_selectors.machine_search(user, owner_id=customer.pk)[:10])
    else:
        return context
    chosen = str(values.get("machine", ""))
    new_machine = chosen == NEW or (customer.pk is None and "machine" not in values) or (
        customer.pk is not None and not machines and "machine" not in values)
    machine = None
    if not new_machine:
        machine = next((m for m in machines if str(m.pk) == chosen), None)
        if machine is None and machines and "machine" not in values:
            machine = machines[0]
    order_type = values.get("order_type") or OrderType.REPAIR
    urgency = values.get("urgency") if values.get("urgency") in Urgency.values else Urgency.NORMAL
    # The fault the caller reports (its component, if the agent can tell, and whether it is serious):
    # the engine weighs it against the machine's repair record, so the proposal shows the remedy due.
    fault = {"component": values.get("fault_component") or None, "serious": bool(values.get("fault_serious"))}
    if machine is not None:
        language = get_language() or "zh-hans"
        context["components"] = [(c, part_label(c, language))
                                 for c in category_components(machine.model.category, model=machine.model)]
    try:
        proposal = services.order_proposal(machine=machine, customer=customer,
                                           order_type=order_type if order_type in OrderType.values else OrderType.REPAIR,
                                           urgency=urgency, fault=fault)
    except DomainError:
        proposal = None
    phone = customer.phones.first() if customer.pk else None
    # The one phone rule: a user who may not read the full number gets the field empty (the order
    # then takes the customer's own number) with the masked one shown beside it, never the number.
    shown = phone_for(user, customer, phone.number, where="web:desk") if phone else None
    # The purchase date belongs to the machine it was read from or typed for: another machine
    # brings its own date (the form says which machine the date is for in purchase_for).
    machine_key = str(machine.pk) if machine else (NEW if new_machine else "")
    purchase_date = values.get("purchase_date", "") if values.get("purchase_for", "") == machine_key else ""
    if not purchase_date and machine and machine.warranty_start:
        purchase_date = machine.warranty_start.isoformat()
    context.update(customer=customer, machines=machines, machine=machine, proposal=proposal,
                   new_machine=new_machine, machine_key=machine_key,
                   order_type=order_type, urgency=urgency,
                   # What the agent typed comes back as typed; otherwise the number as the rule shows it.
                   contact_value=values.get("contact_phone") or (shown.text if shown and not shown.masked else ""),
                   masked_phone=shown.text if shown and shown.masked else "",
                   purchase_date=purchase_date,
                   models=list(registry_selectors.product_models()) if new_machine else [],
                   sellers=seller_choices(user) if new_machine else [],
                   duplicates=_duplicates(user, {**values, "machine": NEW if new_machine else chosen}))
    return context


@login_required
@require_GET
def intake_form(request):
    """The form again for another customer, machine, type or urgency (htmx swaps it in place).

    ``take``: the agent pressed Enter in the caller search. One customer found: their intake;
    none: a new caller with the typed number filled in; several: the list on the left to pick from."""
    values = request.GET
    take = values.get("take", "").strip()[:60]
    if take and "customer" not in values:
        found = list(registry_selectors.customer_search(request.user, q=take)[:2]) if len(take) >= 2 else []
        values = values.copy()
        values["q"] = take
        if len(found) == 1:
            values["customer"] = str(found[0].pk)
        elif not found:
            values["customer"] = NEW
            digits = "".join(c for c in take if c.isdigit())
            if len(digits) >= 7:
                values["c_phone"] = take
            else:
                values["c_name"] = take
        else:
            return render(request, "web/desk.html#intake", {"form": {"pick": True, "q": take}})
    return render(request, "web/desk.html#intake", {"form": intake_context(request.user, values)})


def _date(errors: dict, name: str, raw: str):
    raw = raw.strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[name] = _("Enter a valid date.")
        return None


def order_input_from_form(post, errors: dict, user=None) -> services.OrderInput:
    def text(name):
        return post.get(name, "").strip()

    new_customer = new_machine = None
    customer_id = int(text("customer")) if text("customer").isdigit() else None
    if text("customer") == NEW:
        phone = text("c_phone")
        if not phone and text("c_phone_call") and user is not None:
            # The caller's number the page never showed (masked for this user): read by the call's id.
            phone = calls_selectors.caller_of_my_call(user, text("c_phone_call")) or ""
        new_customer = registry_services.CustomerInput(
            name=text("c_name"), phones=[p for p in (phone, text("c_phone2")) if p],
            customer_class=text("c_class") or CustomerClass.FARMER, province=text("c_province"), city=text("c_city"),
            county=text("c_county"), township=text("c_township"), village=text("c_village"),
            address=text("c_address"))
    machine_id = int(text("machine")) if text("machine").isdigit() else None
    if text("machine") == NEW:
        dealer = text("m_selling_dealer_id")
        new_machine = registry_services.MachineInput(
            serial_number=text("m_serial_number"), model_code=text("m_model_code"),
            engine_number=text("m_engine_number"),
            invoice_date=_date(errors, "m_invoice_date", text("m_invoice_date")),
            delivery_date=_date(errors, "m_delivery_date", text("m_delivery_date")),
            selling_dealer_id=int(dealer) if dealer.isdigit() else None)
    contact_phone = text("contact_phone") or (new_customer.phones[0] if new_customer and new_customer.phones else "")
    return services.OrderInput(
        order_type=text("order_type") or OrderType.REPAIR,
        customer_id=customer_id, new_customer=new_customer, machine_id=machine_id, new_machine=new_machine,
        contact_phone=contact_phone, contact_name=text("contact_name") or text("c_name"),
        purchase_date=_date(errors, "purchase_date", text("purchase_date")),
        crop=text("crop"), operation=text("operation"), field_location=text("field_location"),
        urgency=text("urgency") or Urgency.NORMAL, symptom=text("symptom"),
        service_level=text("service_level"), service_mode=text("service_mode"), override_reason=text("override_reason"),
        answer=text("answer"), duplicate_reason=text("duplicate_reason"),
        fault_component=text("fault_component"), fault_serious=bool(text("fault_serious")), return_kind=text("return_kind"),
    )


# The service names the new customer's and machine's fields by their place in the API's body
# (``new_customer.phones[0]``); the form names them c_* and m_*.
def form_errors(fields: dict) -> dict:
    errors = {}
    for key, message in fields.items():
        if key.startswith("new_customer.phones"):
            index = key.rpartition("[")[2].rstrip("]")
            errors["c_phone2" if index == "1" else "c_phone"] = message
        elif key.startswith("new_customer."):
            errors["c_" + key.split(".", 1)[1].replace("customer_class", "class")] = message
        elif key.startswith("new_machine."):
            errors["m_" + key.split(".", 1)[1]] = message
        else:
            errors[key] = message
    return errors


def _page(request, values, *, errors=None, duplicate=None, status=200):
    """The whole desk again after a refused save: what was typed in the form, and on the left the
    caller as they were found (the looked-up customer, or the search as typed)."""
    form = intake_context(request.user, values, errors=errors, duplicate=duplicate)
    callers = []
    if form.get("customer") is not None and form["customer"].pk:
        callers = [caller_card(request.user, form["customer"])]
    return render(request, "web/desk.html", {"phrases": _phrases(request.user), "form": form, "callers": callers,
                                            "q": values.get("q", "")}, status=status)


@login_required
@require_http_methods(["POST"])
def intake(request):
    """Record the order, with a new customer and machine when the caller is new. A duplicate
    answers with the order it looks like, before anything is saved; a refused save changes
    nothing and shows the form as it was typed."""
    errors: dict[str, str] = {}
    data = order_input_from_form(request.POST, errors, request.user)
    if errors:
        return _page(request, request.POST, errors={"all": _("Nothing was saved."), **errors}, status=422)
    try:
        result = services.order_create(actor=request.user, data=data)
    except Conflict as exc:
        duplicate = None
        if exc.code == "duplicate_order" and exc.current:
            duplicate = selectors.order_queryset(request.user).filter(pk=exc.current["id"]).first()
        return _page(request, request.POST, errors={"all": exc.message, **form_errors(exc.fields)},
                     duplicate=duplicate, status=409)
    except DomainError as exc:
        fields = form_errors(exc.fields)
        # "already belongs to customer #12" would name another organization's customer: the form
        # shows the duplicate as far as this user may see it (desk.html, from _duplicates).
        for key in ("c_phone", "c_phone2"):
            if key in fields and registry_selectors.phone_owner(request.user, phone=request.POST.get(key, ""))[1]:
                fields[key] = _("This number is already registered.")
        return _page(request, request.POST, errors={"all": exc.message, **fields}, status=422)
    order = result.order
    # The order taken while the agent's phone is in a call joins that call's log.
    calls_services.call_link_order(agent=request.user, order=order)
    messages.success(request, _("Order %(number)s recorded.") % {"number": order.number})
    if order.order_type == OrderType.CONSULTATION and order.answer:
        return redirect("web:desk")
    return redirect("web:order", order.pk)


@login_required
@require_GET
def check(request):
    """As the agent types a new caller's number or a new machine's serial number: is it already
    in the archive? (htmx swaps the answer in under the field.)"""
    field = request.GET.get("field", "")
    values = {"customer": NEW, "machine": NEW, field: request.GET.get(field, "")}
    found = _duplicates(request.user, values).get(field)
    return render(request, "web/desk.html#duplicate", {"field": field, "found": found, "form": {}})
