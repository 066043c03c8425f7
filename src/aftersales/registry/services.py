"""Writes to the customer and machine archives. Every function validates all fields first and
writes nothing when any is wrong, so a caller gets every field error at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.core.choices import ProductCategory
from aftersales.core.errors import Conflict, ValidationFailed
from aftersales.core.phones import normalize_phone, phone_kind
from aftersales.registry import hooks
from aftersales.registry.reveals import phone_reveal_record  # noqa: F401 (its writes' home; named here too)
from aftersales.registry.models import (
    Customer,
    CustomerClass,
    CustomerPhone,
    HoursReading,
    Machine,
    ProductModel,
)


def _reversed_national(e164: str) -> str:
    national = e164[3:] if e164.startswith("+86") else e164.lstrip("+")
    return national[::-1]


def _clean_text(value, limit: int, field: str | None = None, errors: dict[str, str] | None = None) -> str:
    """Stripped text; longer than the column allows is an error (never cut silently: a cut serial
    number could be another machine's)."""
    text = (value or "").strip()
    if len(text) > limit:
        if errors is not None and field:
            errors[field] = _("At most %(limit)s characters (this has %(n)s).") % {"limit": limit, "n": len(text)}
        return text[:limit]
    return text


def _normalize_phones(phones, errors: dict[str, str], field: str = "phones") -> dict[str, int]:
    """Valid numbers in the order given, each with the position the caller gave it at."""
    result: dict[str, int] = {}
    for i, raw in enumerate(phones or []):
        try:
            number = normalize_phone(raw, field=f"{field}[{i}]")
        except ValidationFailed as exc:
            errors.update(exc.fields)
            continue
        result.setdefault(number, i)
    return result


def _visible(actor, model_queryset, pk) -> bool:
    """Whether ``actor`` may see the object an error would name. Without an actor (imports, the
    demo, the admin: the maker's own tools) everything is named."""
    return actor is None or model_queryset(actor).filter(pk=pk).exists()


def _check_phones_free(numbers: dict[str, int], errors: dict[str, str], *, customer: Customer | None = None,
                       actor=None) -> None:
    from aftersales.registry.selectors import customer_queryset

    taken = CustomerPhone.objects.filter(number__in=list(numbers))
    if customer is not None:
        taken = taken.exclude(customer=customer)
    for number, owner_id in taken.values_list("number", "customer_id"):
        # An answer names only what the caller may see: another organization's customer is not
        # even confirmed to exist (its id would be a 404 for the caller).
        if _visible(actor, customer_queryset, owner_id):
            message = _("This number already belongs to customer #%(id)s.") % {"id": owner_id}
        else:
            message = _("This number cannot be registered here; ask the service center to check it.")
        errors[f"phones[{numbers[number]}]"] = message


@dataclass(frozen=True)
class CustomerInput:
    name: str
    phones: list[str]
    customer_class: str = CustomerClass.FARMER
    province: str = ""
    city: str = ""
    county: str = ""
    township: str = ""
    village: str = ""
    address: str = ""
    notes: str = ""


# Lengths of the free-text fields (a 9.9 MB text once held a worker for seconds): over the limit
# is a 422 naming the field, never a silent cut.
NOTES_MAX = 2000


def _validate_customer(data: CustomerInput, *, customer: Customer | None = None, actor=None) -> tuple[dict, list[str]]:
    errors: dict[str, str] = {}
    name = _clean_text(data.name, 100, "name", errors)
    if not name:
        errors["name"] = _("This field is required.")
    if data.customer_class not in CustomerClass.values:
        errors["customer_class"] = _("Unknown customer class %(value)s; use one of %(choices)s.") % {
            "value": data.customer_class, "choices": ", ".join(CustomerClass.values)}
    if not data.phones:
        errors["phones"] = _("At least one phone number is required.")
    elif len(data.phones) > 10:
        errors["phones"] = _("At most %(limit)s phone numbers.") % {"limit": 10}
    numbers = _normalize_phones(data.phones[:10], errors)
    if numbers:
        _check_phones_free(numbers, errors, customer=customer, actor=actor)
    fields = dict(name=name, customer_class=data.customer_class, notes=_clean_text(data.notes, NOTES_MAX, "notes", errors))
    for key, limit in (("province", 20), ("city", 30), ("county", 30), ("township", 30), ("village", 30), ("address", 200)):
        fields[key] = _clean_text(getattr(data, key), limit, key, errors)
    if errors:
        raise ValidationFailed(_("The customer was not saved."), fields=errors)
    numbers = list(numbers)
    return fields, numbers


def _set_phones(customer: Customer, numbers: list[str], *, new: bool = False) -> None:
    existing: set[str] = set()
    if not new:
        customer.phones.exclude(number__in=numbers).delete()
        existing = set(customer.phones.values_list("number", flat=True))
    CustomerPhone.objects.bulk_create(
        [
            CustomerPhone(
                customer=customer, number=n, kind=phone_kind(n), is_primary=(i == 0),
                reversed_digits=_reversed_national(n),
            )
            for i, n in enumerate(numbers)
            if n not in existing
        ]
    )
    if numbers and not new:
        customer.phones.exclude(number=numbers[0]).update(is_primary=False)
        customer.phones.filter(number=numbers[0]).update(is_primary=True)


def customer_create(*, data: CustomerInput, registered_by=None, actor=None) -> Customer:
    fields, numbers = _validate_customer(data, actor=actor)
    try:
        with transaction.atomic():
            customer = Customer.objects.create(registered_by=registered_by, **fields)
            _set_phones(customer, numbers, new=True)
            hooks.customer_changed(customer)
    except IntegrityError:
        # Another request took one of the numbers between our check and our insert.
        raise Conflict(_("One of these phone numbers cannot be registered here; try again or ask the service center."),
                       code="phone_taken", fields={"phones": _("One of these numbers cannot be registered here.")})
    return customer


def customer_update(*, customer: Customer, data: CustomerInput, actor=None) -> Customer:
    fields, numbers = _validate_customer(data, customer=customer, actor=actor)
    try:
        with transaction.atomic():
            for key, value in fields.items():
                setattr(customer, key, value)
            customer.save()
            _set_phones(customer, numbers)
            hooks.customer_changed(customer)
    except IntegrityError:
        raise Conflict(_("One of these phone numbers cannot be registered here; try again or ask the service center."),
                       code="phone_taken", fields={"phones": _("One of these numbers cannot be registered here.")})
    return customer


@dataclass(frozen=True)
class MachineInput:
    serial_number: str
    model_code: str
    owner_id: int | None = None
    engine_number: str = ""
    invoice_date: date | None = None
    delivery_date: date | None = None
    selling_dealer_id: int | None = None
    notes: str = ""


def _serial_taken_message(serial: str, other_pk: int | None, actor) -> str:
    from aftersales.registry.selectors import machine_queryset

    if other_pk is not None and _visible(actor, machine_queryset, other_pk):
        return _("Serial number %(serial)s is already registered.") % {"serial": serial}
    # Another organization's machine: not confirmed, not named.
    return _("Serial number %(serial)s cannot be registered here; ask the service center to check it.") % {"serial": serial}


def _validate_machine(data: MachineInput, *, machine: Machine | None = None, actor=None) -> dict:
    errors: dict[str, str] = {}
    serial = _clean_text(data.serial_number, 40, "serial_number", errors).upper()
    other = (Machine.objects.filter(serial_number=serial).exclude(pk=getattr(machine, "pk", None))
             .values_list("pk", flat=True).first()) if serial else None
    if not serial:
        errors["serial_number"] = _("This field is required.")
    elif other is not None:
        errors["serial_number"] = _serial_taken_message(serial, other, actor)
    # Codes are stored upper-cased; agents and spreadsheets type them either way. A discontinued
    # (inactive) model is still accepted: its machines stay in the field for years.
    model = ProductModel.objects.filter(code=(data.model_code or "").strip().upper()).first() if data.model_code else None
    if model is None:
        errors["model_code"] = _("Unknown product model %(code)s.") % {"code": data.model_code or ""}
    # A delivery before the invoice is allowed (a machine lent on trial, invoiced later); the
    # warranty starts at the later of the two dates.
    today = timezone.localdate()
    for key in ("invoice_date", "delivery_date"):
        value = getattr(data, key)
        if value is not None and value > today:
            errors[key] = _("The date %(date)s is in the future.") % {"date": value.isoformat()}
    owner = None
    if data.owner_id is not None:
        owner = Customer.objects.filter(pk=data.owner_id).first()
        if owner is None:
            errors["owner_id"] = _("Unknown customer #%(id)s.") % {"id": data.owner_id}
    dealer = None
    if data.selling_dealer_id is not None:
        from aftersales.accounts.models import Organization, OrganizationKind

        dealer = Organization.objects.filter(pk=data.selling_dealer_id).first()
        if dealer is None:
            errors["selling_dealer_id"] = _("Unknown organization #%(id)s.") % {"id": data.selling_dealer_id}
        elif dealer.kind not in (OrganizationKind.DEALER, OrganizationKind.DIRECT_BRANCH, OrganizationKind.AUTHORIZED_AGENCY):
            errors["selling_dealer_id"] = _("%(name)s does not sell machines.") % {"name": dealer.name}
    engine_number = _clean_text(data.engine_number, 40, "engine_number", errors).upper()
    notes = _clean_text(data.notes, NOTES_MAX, "notes", errors)
    if errors:
        raise ValidationFailed(_("The machine was not saved."), fields=errors)
    return dict(
        serial_number=serial,
        model=model,
        owner=owner,
        engine_number=engine_number,
        invoice_date=data.invoice_date,
        delivery_date=data.delivery_date,
        selling_dealer=dealer,
        notes=notes,
    )


def machine_create(*, data: MachineInput, registered_by=None, actor=None) -> Machine:
    fields = _validate_machine(data, actor=actor)
    try:
        with transaction.atomic():
            machine = Machine.objects.create(registered_by=registered_by, **fields)
            hooks.machine_changed(machine)
            return machine
    except IntegrityError:
        message = _serial_taken_message(fields["serial_number"], None if actor is not None else 0, actor)
        raise Conflict(message, code="serial_taken", fields={"serial_number": message})


def machine_update(*, machine: Machine, data: MachineInput, actor=None) -> Machine:
    fields = _validate_machine(data, machine=machine, actor=actor)
    try:
        with transaction.atomic():
            for key, value in fields.items():
                setattr(machine, key, value)
            machine.save()
            hooks.machine_changed(machine)
    except IntegrityError:
        message = _serial_taken_message(fields["serial_number"], None if actor is not None else 0, actor)
        raise Conflict(message, code="serial_taken", fields={"serial_number": message})
    return machine


# An hour meter cannot run more than 24 hours a day; a reading beyond that since the last one (or
# since the warranty started) is an outlier and needs a reason, because a reading never goes back:
# a mistyped 99,999 h would otherwise block every true reading after it.
MAX_HOURS_PER_DAY = 24


def machine_record_hours(*, machine: Machine, hours, read_on: date, source: str = "", user=None,
                         reason: str = "") -> HoursReading:
    errors = {}
    try:
        value = Decimal(str(hours))
        if value < 0 or value >= Decimal("100000000"):
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        errors["hours"] = _("Enter a number of hours, 0 or more.")
        value = None
    if read_on > timezone.localdate():
        errors["read_on"] = _("The date %(date)s is in the future.") % {"date": read_on.isoformat()}
    source = _clean_text(source, 40, "source", errors)
    reason = _clean_text(reason, 300, "reason", errors)
    last = machine.hours_readings.filter(read_on__lte=read_on).order_by("-read_on", "-id").first()
    if value is not None and last is not None and value < last.hours:
        errors["hours"] = _("The meter read %(last)s h on %(date)s; a reading cannot go back.") % {
            "last": last.hours, "date": last.read_on.isoformat()}
    elif value is not None and not reason:
        base_hours, base_date = (last.hours, last.read_on) if last else (Decimal(0), machine.warranty_start)
        if base_date is not None:
            ceiling = base_hours + MAX_HOURS_PER_DAY * ((read_on - base_date).days + 1)
            if value > ceiling:
                errors["hours"] = _("%(hours)s h is more than the meter can run since %(date)s (at most %(ceiling)s h); "
                                    "check the reading or give a reason.") % {
                    "hours": value, "date": base_date.isoformat(), "ceiling": ceiling}
    if errors:
        raise ValidationFailed(_("The reading was not saved."), fields=errors)
    return HoursReading.objects.create(machine=machine, hours=value, read_on=read_on, source=source, recorded_by=user,
                                       reason=reason)


def lookup_throttle(*, user, address: str, fragments) -> None:
    """Phone look-ups (a fragment with 4+ digits) are counted per user and per client address and
    refused (429) past ``LOOKUP_LIMIT_PER_USER`` / ``LOOKUP_LIMIT_PER_ADDRESS`` a minute: a masked
    number must not be recoverable by trying many fragments, from one account or from many."""
    from django.conf import settings

    if not any(sum(ch.isdigit() for ch in (f or "")) >= 4 for f in fragments):
        return
    if getattr(user, "is_authenticated", False):
        lookup_count(keys=[f"lookup:user:{user.pk}"], limit=settings.LOOKUP_LIMIT_PER_USER)
    lookup_count(keys=[f"lookup:addr:{address}"], limit=settings.LOOKUP_LIMIT_PER_ADDRESS)


def lookup_count(*, keys: list[str], limit: int, window_seconds: int = 60) -> None:
    """Count one look-up under each key (``lookup:user:<id>``, ``lookup:addr:<ip>``) and refuse (429)
    past ``limit`` in the window: the shared database counter of ``core.throttle``, which every
    worker process and node sees."""
    from aftersales.core import throttle

    for key in keys:
        throttle.hit(key[:120], limit=limit, window=window_seconds)


def product_model_create(
    *, code: str, name: str, category: str, rated_power_kw=None, main_components=(), wear_parts=()
) -> ProductModel:
    errors: dict[str, str] = {}
    code = _clean_text(code, 40).upper()
    if not code:
        errors["code"] = _("This field is required.")
    elif ProductModel.objects.filter(code=code).exists():
        errors["code"] = _("Model %(code)s already exists.") % {"code": code}
    if category not in ProductCategory.values:
        errors["category"] = _("Unknown product category %(value)s; use one of %(choices)s.") % {
            "value": category, "choices": ", ".join(ProductCategory.values)}
    power = None
    if rated_power_kw not in (None, ""):
        try:
            power = Decimal(str(rated_power_kw))
            if power <= 0:
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            errors["rated_power_kw"] = _("Enter the rated power in kW, greater than 0.")
    if category == ProductCategory.TRACTOR and power is None and "rated_power_kw" not in errors:
        errors["rated_power_kw"] = _("A tractor needs its rated power: the warranty differs above and below 18 kW.")
    if errors:
        raise ValidationFailed(_("The product model was not saved."), fields=errors)
    try:
        with transaction.atomic():
            return ProductModel.objects.create(
                code=code, name=_clean_text(name, 100) or code, category=category, rated_power_kw=power,
                main_components=list(main_components), wear_parts=list(wear_parts),
            )
    except IntegrityError:
        raise Conflict(_("Model %(code)s already exists.") % {"code": code}, code="model_taken",
                       fields={"code": _("Already exists.")})
