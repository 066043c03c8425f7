
from datetime import date, datetime
from decimal import Decimal

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from aftersales.api.errors import COMMON_ERRORS, ErrorOut
from aftersales.api.pagination import LazyPage, Pages
from aftersales.core import throttle
from aftersales.core.errors import Forbidden
from aftersales.core.types import DbId
from aftersales.registry import policies, selectors, services
from aftersales.registry.models import CustomerClass, ProductModel

router = Router(tags=["customers and machines"])
WRITE_ERRORS = {**COMMON_ERRORS, 409: ErrorOut}


class PhoneOut(Schema):
    number: str
    display: str
    kind: str
    is_primary: bool
    masked: bool


class CustomerIn(Schema):
    name: str = Field(..., max_length=100, examples=["张三"])
    phones: list[str] = Field(..., min_length=1, max_length=10, examples=[["138 1234 5678", "0371-6688 1234"]])
    customer_class: str = Field(CustomerClass.FARMER, max_length=20, examples=["farmer"])
    province: str = Field("", max_length=20)
    city: str = Field("", max_length=30)
    county: str = Field("", max_length=30)
    township: str = Field("", max_length=30)
    village: str = Field("", max_length=30)
    address: str = Field("", max_length=200)
    notes: str = Field("", max_length=services.NOTES_MAX)


class CustomerOut(Schema):
    id: int
    name: str
    customer_class: str
    customer_class_display: str
    province: str
    city: str
    county: str
    township: str
    village: str
    address: str
    notes: str
    phones: list[PhoneOut]
    registered_by_id: int | None


def customer_out(customer, user, *, where: str = "api:customer") -> dict:
    # The one phone rule (registry/policies.py): masked unless the user may read the full number,
    # and a full number shown to a partner is recorded.
    shown = [(p, policies.phone_for(user, customer, p.number, where=where)) for p in customer.phones.all()]
    full = all(not s.masked for _p, s in shown) if shown else policies.may_see_full_phone(user, customer)
    phones = [
        {"number": s.value, "display": s.text, "kind": p.kind, "is_primary": p.is_primary, "masked": s.masked}
        for p, s in shown
    ]
    return {
        "id": customer.id, "name": customer.name, "customer_class": customer.customer_class,
        "customer_class_display": customer.get_customer_class_display(),
        "province": customer.province, "city": customer.city, "county": customer.county,
        "township": customer.township, "village": customer.village, "address": customer.address,
        "notes": customer.notes if full else "", "phones": phones, "registered_by_id": customer.registered_by_id,
    }


def lookup_throttle(request, *fragments: str) -> None:
    services.lookup_throttle(user=request.user, address=throttle.client_ip(request), fragments=fragments)


@router.get("/customers", response={200: list[CustomerOut], **COMMON_ERRORS}, summary="Find customers")
@paginate(Pages)
def customers(request, q: str = Query("", max_length=100), phone: str = Query("", max_length=40),
              name: str = Query("", max_length=100), serial: str = Query("", max_length=40)):
    """Search by any of: ``q`` (name, serial number prefix, or phone digits), ``phone`` (whole number,
    or its last 4+ digits among customers whose full number you may read), ``name`` (a fragment),
    ``serial`` (a serial number prefix). Phone look-ups are rate-limited per user and address (429)."""
    lookup_throttle(request, q, phone)
    qs = selectors.customer_search(request.user, q=q, phone=phone, name=name, serial=serial)
    return LazyPage(qs, lambda c: customer_out(c, request.user))


@router.post("/customers", response={201: CustomerOut, **WRITE_ERRORS}, summary="Register a customer")
def customer_create(request, payload: CustomerIn):
    if not policies.may_create(request.user):
        raise Forbidden(_("You may not register customers."))
    # Who recorded the customer, always: the service center's own registrations too.
    org = request.user.organization
    customer = services.customer_create(data=services.CustomerInput(**payload.dict()), registered_by=org,
                                        actor=request.user)
    return Status(201, customer_out(customer, request.user))


@router.get("/customers/{customer_id}", response={200: CustomerOut, **COMMON_ERRORS})
def customer_detail(request, customer_id: DbId):
    return customer_out(selectors.customer_get(request.user, pk=customer_id), request.user)


@router.put("/customers/{customer_id}", response={200: CustomerOut, **WRITE_ERRORS}, summary="Update a customer")
def customer_update(request, customer_id: DbId, payload: CustomerIn):
    customer = selectors.customer_get(request.user, pk=customer_id)
    if not policies.may_edit_customer(request.user, customer):
        raise Forbidden(_("You may not change this customer."))
    customer = services.customer_update(customer=customer, data=services.CustomerInput(**payload.dict()),
                                        actor=request.user)
    customer = selectors.customer_get(request.user, pk=customer.pk)
    return customer_out(customer, request.user)


class MachineIn(Schema):
    serial_number: str = Field(..., max_length=40, examples=["LX904-2026-000123"])
    model_code: str = Field(..., max_length=40, examples=["LX904"])
    owner_id: DbId | None = None
    engine_number: str = Field("", max_length=40)
    invoice_date: date | None = None
    delivery_date: date | None = None
    selling_dealer_id: DbId | None = None
    notes: str = Field("", max_length=services.NOTES_MAX)


class MachineOut(Schema):
    id: int
    serial_number: str
    engine_number: str
    model_code: str
    model_name: str
    category: str
    rated_power_kw: Decimal | None
    owner_id: int | None
    owner_name: str | None
    selling_dealer_id: int | None
    invoice_date: date | None
    delivery_date: date | None
    status: str


def machine_out(m) -> dict:
    return {
        "id": m.id, "serial_number": m.serial_number, "engine_number": m.engine_number,
        "model_code": m.model.code, "model_name": m.model.name, "category": m.model.category,
        "rated_power_kw": m.model.rated_power_kw, "owner_id": m.owner_id,
        "owner_name": m.owner.name if m.owner_id else None, "selling_dealer_id": m.selling_dealer_id,
        "invoice_date": m.invoice_date, "delivery_date": m.delivery_date, "status": m.status,
    }


class HoursIn(Schema):
    hours: Decimal = Field(..., ge=0, lt=100000000)
    read_on: date
    source: str = Field("", max_length=40)
    reason: str = Field("", max_length=300, description="Why a reading beyond what the meter can run is right.")


class HoursOut(Schema):
    id: int
    hours: Decimal
    read_on: date
    source: str


@router.get("/machines", response={200: list[MachineOut], **COMMON_ERRORS}, summary="Find machines")
@paginate(Pages)
def machines(request, q: str = Query("", max_length=100), serial: str = Query("", max_length=40),
             owner_id: DbId | None = None):
    qs = selectors.machine_search(request.user, q=q, serial=serial, owner_id=owner_id)
    return LazyPage(qs, machine_out)


@router.post("/machines", response={201: MachineOut, **WRITE_ERRORS}, summary="Register a machine")
def machine_create(request, payload: MachineIn):
    if not policies.may_create(request.user):
        raise Forbidden(_("You may not register machines."))
    if payload.owner_id is not None:
        selectors.customer_get(request.user, pk=payload.owner_id)  # an invisible owner is a 404
    org = request.user.organization
    machine = services.machine_create(data=services.MachineInput(**payload.dict()), registered_by=org,
                                      actor=request.user)
    return Status(201, machine_out(selectors.machine_get(request.user, pk=machine.pk)))


@router.get("/machines/{machine_id}", response={200: MachineOut, **COMMON_ERRORS})
def machine_detail(request, machine_id: DbId):
    return machine_out(selectors.machine_get(request.user, pk=machine_id))


@router.put("/machines/{machine_id}", response={200: MachineOut, **WRITE_ERRORS}, summary="Update a machine")
def machine_update(request, machine_id: DbId, payload: MachineIn):
    machine = selectors.machine_get(request.user, pk=machine_id)
    if not policies.may_edit_machine(request.user, machine):
        raise Forbidden(_("You may not change this machine."))
    if payload.owner_id is not None:
        selectors.customer_get(request.user, pk=payload.owner_id)
    services.machine_update(machine=machine, data=services.MachineInput(**payload.dict()), actor=request.user)
    return machine_out(selectors.machine_get(request.user, pk=machine_id))


@router.post("/machines/{machine_id}/hours", response={201: HoursOut, **WRITE_ERRORS}, summary="Record an hour-meter reading")
def machine_hours(request, machine_id: DbId, payload: HoursIn):
    """By hand only for an organization that may edit the machine; a technician serving an order
    records the meter in the order's service record. Beyond 24 h a day since the last reading,
    give a ``reason``."""
    machine = selectors.machine_get(request.user, pk=machine_id)
    if not policies.may_record_hours(request.user, machine):
        raise Forbidden(_("You may not record readings for this machine; record the meter in the service record."))
    reading = services.machine_record_hours(
        machine=machine, hours=payload.hours, read_on=payload.read_on, source=payload.source, user=request.user,
        reason=payload.reason,
    )
    return Status(201, reading)


class PhoneRevealOut(Schema):
    id: int
    at: datetime
    user_id: int
    user_name: str
    organization_id: int | None
    organization_name: str | None
    customer_id: int
    customer_name: str
    order_id: int | None
    reason: str
    reason_display: str
    where: str


def phone_reveal_out(r) -> dict:
    return {"id": r.pk, "at": r.at, "user_id": r.user_id, "user_name": str(r.user),
            "organization_id": r.organization_id, "organization_name": r.organization.name if r.organization_id else None,
            "customer_id": r.customer_id, "customer_name": r.customer.name, "order_id": r.order_id,
            "reason": r.reason, "reason_display": str(r.get_reason_display()), "where": r.purpose}


PHONE_REVEAL_COLUMNS = ("id", "at", "user_id", "user_name", "organization_id", "organization_name", "customer_id",
                        "customer_name", "order_id", "reason", "reason_display", "where")


@router.get("/phone-reveals", response={200: list[PhoneRevealOut], **COMMON_ERRORS},
            summary="Who was shown which full phone number (supervisors)")
@paginate(Pages, page_size=50)
def phone_reveals(request, organization: DbId | None = None, customer: DbId | None = None,
                  since: datetime | None = None, until: datetime | None = None):
    """号码查看记录: every time a partner was shown a customer's full number (who, whose, when, why,
    where). Supervisors and administrators only; ``/phone-reveals.csv`` exports the same rows."""
    qs = selectors.phone_reveal_list(request.user, organization=organization, customer=customer, since=since, until=until)
    return LazyPage(qs, phone_reveal_out)


@router.get("/phone-reveals.csv", response={**COMMON_ERRORS}, summary="Export phone reveals as CSV (supervisors)",
            openapi_extra={"responses": {"200": {"description": "CSV, UTF-8 with BOM (opens in Excel)",
                                                 "content": {"text/csv": {"schema": {"type": "string"}}}}}})
def phone_reveals_csv(request, organization: DbId | None = None, customer: DbId | None = None,
                      since: datetime | None = None, until: datetime | None = None):
    qs = selectors.phone_reveal_list(request.user, organization=organization, customer=customer, since=since, until=until)
    return phone_reveals_csv_response(qs)


def phone_reveals_csv_response(qs):
    import csv

    from django.http import StreamingHttpResponse
    from django.utils import timezone

    class _Echo:
        def write(self, value):
            return value

    writer = csv.writer(_Echo())

    def rows():
        yield "\ufeff" + writer.writerow(PHONE_REVEAL_COLUMNS)
        for r in qs.iterator(chunk_size=2000):
            row = phone_reveal_out(r)
            row["at"] = timezone.localtime(row["at"]).isoformat()
            yield writer.writerow([row[c] if row[c] is not None else "" for c in PHONE_REVEAL_COLUMNS])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="phone-reveals.csv"'
    return response


class ProductModelOut(Schema):
    id: int
    code: str
    name: str
    category: str
    rated_power_kw: Decimal | None
    main_components: list[str]
    wear_parts: list[str]


@router.get("/product-models", response={200: list[ProductModelOut], **COMMON_ERRORS})
def product_models(request, category: str | None = Query(None, max_length=32)):
    qs = ProductModel.objects.filter(is_active=True)  # the catalogue is public within the network
    if category:
        qs = qs.filter(category=category)
    return list(qs)
