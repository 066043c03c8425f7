"""Scoped reads of customers and machines. Every read takes the acting user; what the user's
organization may not see does not exist for them (404)."""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from aftersales.accounts import policies
from aftersales.core.errors import NotFound
from aftersales.core.phones import phone_search_digits
from aftersales.core.rawrows import JoinedRead, fits_key
from aftersales.registry.models import Customer, CustomerPhone, Machine

# Later apps (service orders) add the customers a partner may see through its orders. Each
# provider takes an organization id and returns a Q over Customer. Registered in AppConfig.ready,
# so the dependency points from service to registry and not back.
_customer_visibility: list[Callable[[int], Q]] = []


def register_customer_visibility(provider: Callable[[int], Q]) -> None:
    if provider not in _customer_visibility:
        _customer_visibility.append(provider)


def _partner_customer_q(org_id: int) -> Q:
    q = Q(registered_by_id=org_id) | Q(Exists(Machine.objects.filter(owner=OuterRef("pk"), selling_dealer_id=org_id)))
    for provider in _customer_visibility:
        q |= provider(org_id)
    return q


def customer_queryset(user) -> QuerySet[Customer]:
    qs = Customer.objects.all()
    if policies.sees_whole_network(user):
        return qs
    if user.is_authenticated and user.organization_id:
        return qs.filter(_partner_customer_q(user.organization_id))
    return qs.none()


def customer_get(user, *, pk: int) -> Customer:
    try:
        return customer_queryset(user).prefetch_related("phones").get(pk=pk)
    except Customer.DoesNotExist:
        raise NotFound("Customer not found.") from None


def _whole_number(text: str) -> str | None:
    from aftersales.core.errors import ValidationFailed
    from aftersales.core.phones import normalize_phone

    try:
        return normalize_phone(text)
    except ValidationFailed:
        return None


def customer_phone_q(user, raw: str) -> Q | None:
    """Customers matching a phone fragment, as far as ``user`` may match them. A suffix ("last four
    digits") finds only customers whose full number the user may read; for everyone else only the
    whole number matches, so a masked 138****5678 cannot be recovered digit by digit."""
    from aftersales.registry.policies import full_phone_customers_q

    digits = phone_search_digits(raw)
    if len(digits) < 4:
        return None
    number = _whole_number(raw)
    whole = Q(phones__number=number) if number else None
    full = full_phone_customers_q(user)
    suffix = Q(phones__reversed_digits__startswith=digits[::-1])
    if full is None:
        return suffix
    if full is not False:
        suffix &= full
        return suffix | whole if whole is not None else suffix
    return whole


def customer_search(user, *, q: str = "", phone: str = "", name: str = "", serial: str = "") -> QuerySet[Customer]:
    """Find customers by a phone (whole number or last 4+ digits), a name fragment or a serial number."""
    qs = customer_queryset(user)
    if phone:
        cond = customer_phone_q(user, phone)
        qs = qs.filter(cond) if cond is not None else qs.none()
    if name:
        qs = qs.filter(name__contains=name.strip())
    if serial:
        qs = qs.filter(machines__serial_number__startswith=serial.strip().upper())
    if q:
        text = q.strip()
        digits = phone_search_digits(text)
        cond = Q(name__contains=text) | Q(machines__serial_number__startswith=text.upper())
        if len(digits) >= 4 and digits == text.replace(" ", "").replace("-", "").lstrip("+"):
            phone_cond = customer_phone_q(user, text)
            if phone_cond is not None:
                cond |= phone_cond
        qs = qs.filter(cond)
    return qs.distinct().prefetch_related("phones").order_by("-updated_at", "-id")


def customer_find_by_phone(user, *, phone: str) -> Customer | None:
    """The one customer whose number this is, in any spelling; None if unknown or not visible."""
    from aftersales.core.errors import ValidationFailed
    from aftersales.core.phones import normalize_phone

    try:
        number = normalize_phone(phone)
    except ValidationFailed:
        return None
    owner_ids = CustomerPhone.objects.filter(number=number).values("customer_id")
    return customer_queryset(user).filter(pk__in=owner_ids).first()


_MACHINE_RELATED = ("model", "owner", "selling_dealer")
_MACHINE_READS: dict = {}


def machine_queryset(user) -> QuerySet[Machine]:
    qs = Machine.objects.select_related(*_MACHINE_RELATED)
    if policies.sees_whole_network(user):
        return qs
    if user.is_authenticated and user.organization_id:
        org_id = user.organization_id
        # Correlated on the machine's owner: an uncorrelated "owner IN (every visible customer)"
        # made the database work out the whole visible customer list for each query (~190 ms for
        # an agency's search at 100,000 orders), where a handful of machines were being checked.
        owner_visible = Customer.objects.filter(pk=OuterRef("owner_id")).filter(_partner_customer_q(org_id))
        return qs.filter(Q(registered_by_id=org_id) | Q(selling_dealer_id=org_id) | Q(Exists(owner_visible)))
    return qs.none()


def customer_and_machine(user, *, customer_id: int | None, machine_id: int | None) -> tuple[Customer | None, Machine | None]:
    """The chosen customer and machine as ``user`` may see them (None for either not visible), in
    one read where it can be: the machine comes with its owner joined, and for a user who sees
    every customer that owner is the customer when the ids match (the usual intake: a caller's own
    machine), so the customer is not read a second time (issue 14)."""
    machine = None
    if machine_id is not None and not fits_key(machine_id):
        machine = None  # no row has such an id
    elif machine_id is not None and policies.sees_whole_network(user):
        # Hand-written (issue 14): every repair intake reads its machine, and the ORM's
        # select_related of three tables cost more to build than to run. core.rawrows.JoinedRead
        # writes the same joined read from the models once per process; a user who sees every
        # machine needs no condition. tests/test_registry_reads.py pins it on both databases.
        from django.db import connection

        read = _MACHINE_READS.get(connection.vendor)
        if read is None:
            read = _MACHINE_READS[connection.vendor] = JoinedRead(Machine, _MACHINE_RELATED, connection)
        machine = read.get(connection, machine_id)
    elif machine_id is not None:
        machine = machine_queryset(user).filter(pk=machine_id).first()
    if customer_id is None:
        return None, machine
    if machine is not None and machine.owner_id == customer_id and policies.sees_whole_network(user):
        return machine.owner, machine
    return customer_queryset(user).filter(pk=customer_id).first(), machine


def machine_get(user, *, pk: int) -> Machine:
    try:
        return machine_queryset(user).get(pk=pk)
    except Machine.DoesNotExist:
        raise NotFound("Machine not found.") from None


def machine_search(user, *, q: str = "", serial: str = "", owner_id: int | None = None) -> QuerySet[Machine]:
    qs = machine_queryset(user)
    if serial:
        qs = qs.filter(serial_number__startswith=serial.strip().upper())
    if owner_id is not None:
        qs = qs.filter(owner_id=owner_id)
    if q:
        text = q.strip()
        qs = qs.filter(
            Q(serial_number__startswith=text.upper()) | Q(engine_number__startswith=text.upper())
            | Q(model__code__startswith=text.upper()) | Q(owner__name__contains=text)
        )
    return qs.order_by("-id")


# --- duplicates at the call desk (避免重复单据): found network-wide, shown only as far as visible ----

def phone_owner(user, *, phone: str) -> tuple[Customer | None, bool]:
    """Whose number this is: (the customer, if this user may see them; whether anyone has it).

    A number is unique in the archive, so registering it again must be stopped even when it
    belongs to another organization's customer; that customer's name and id stay hidden."""
    from aftersales.core.errors import ValidationFailed
    from aftersales.core.phones import normalize_phone

    try:
        number = normalize_phone(phone)
    except ValidationFailed:
        return None, False
    owner_ids = CustomerPhone.objects.filter(number=number).values("customer_id")
    taken = CustomerPhone.objects.filter(number=number).exists()
    return (customer_queryset(user).filter(pk__in=owner_ids).first() if taken else None), taken


def serial_owner(user, *, serial: str) -> tuple[Machine | None, bool]:
    """The machine with this serial number: (it, if this user may see it; whether it exists at all)."""
    serial = (serial or "").strip().upper()
    if not serial:
        return None, False
    taken = Machine.objects.filter(serial_number=serial).exists()
    return (machine_queryset(user).filter(serial_number=serial).first() if taken else None), taken


def product_models(*, active_only: bool = True) -> QuerySet:
    """The product catalogue (not tenant data: every organization sells and serves the same models)."""
    from aftersales.registry.models import ProductModel

    qs = ProductModel.objects.all()
    return qs.filter(is_active=True) if active_only else qs


def phone_reveal_list(user, *, organization: int | None = None, customer: int | None = None,
                      since=None, until=None) -> QuerySet:
    """号码查看记录 for supervisors: who was shown which customer's full number, when and why,
    newest first. Anyone else is refused (403): the list names customers of every organization."""
    from aftersales.core.errors import Forbidden
    from aftersales.registry.models import PhoneReveal
    from aftersales.registry.policies import may_list_phone_reveals

    if not may_list_phone_reveals(user):
        raise Forbidden(_("Only supervisors see who read which phone number."))
    qs = PhoneReveal.objects.select_related("user", "organization", "customer")
    if organization is not None:
        qs = qs.filter(organization_id=organization)
    if customer is not None:
        qs = qs.filter(customer_id=customer)
    if since is not None:
        qs = qs.filter(at__gte=since)
    if until is not None:
        qs = qs.filter(at__lt=until)
    return qs.order_by("-at", "-id")
