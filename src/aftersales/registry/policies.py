"""Who may change or fully read customers and machines.

The phone rule lives here and only here (信息安全, customer data is confidential): every page,
fragment, export, API answer, search hit, message and log line that shows a customer's number asks
``phone_for`` (or ``full_phone_reason``). Templates use the ``{% phone_for %}`` tag, which calls it.

- Administrators and the maker's own centres (``NETWORK_WIDE_KINDS``) with a role see every number.
- A partner (branch, agency, dealer) with a role sees the full number of a customer it registered,
  of a customer whose open order is assigned to it now, and (a dealer) the contact number of an
  order it recorded. Every such reveal is written down (``PhoneReveal``: who, whose, when, why,
  where) for supervisors to list and export.
- Everyone else, and every user without a role, sees ``138****5678``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aftersales.accounts import policies as network
from aftersales.core.phones import display_phone, mask_phone

NETWORK = "network"

# Later apps widen who may read a customer's full number (the service-order app: a partner while
# an open order of the customer is assigned to it; a dealer for an order it recorded). A rule takes
# (user, customer, order or None) and answers a RevealReason value or None. Registered in
# AppConfig.ready, so the dependency points from service to registry and not back.
_full_phone_rules: list[Callable[[object, object, object], str | None]] = []
# The same rules as a condition on Customer rows for a partner's organization (suffix searches
# may only match customers whose full number the partner may see).
_full_phone_qs: list[Callable[[int], object]] = []


def register_full_phone_rule(rule: Callable[[object, object, object], str | None], q: Callable[[int], object]) -> None:
    if rule not in _full_phone_rules:
        _full_phone_rules.append(rule)
        _full_phone_qs.append(q)


def may_write(user) -> bool:
    """Users without a role write nothing (a login alone is not a job in the network)."""
    return bool(user.is_authenticated and user.is_active and (user.is_superuser or user.role_codes()))


def may_create(user) -> bool:
    return may_write(user) and network.may_manage_customers(user)


def may_edit_customer(user, customer) -> bool:
    """The hotline and the maker's centres keep the archive; a partner edits only the customers it
    registered (serving one order of a customer is not a licence to rewrite its record)."""
    if not may_write(user):
        return False
    if network.sees_whole_network(user):
        return True
    return bool(user.organization_id and customer.registered_by_id == user.organization_id)


def may_edit_machine(user, machine) -> bool:
    if not may_write(user):
        return False
    if network.sees_whole_network(user):
        return True
    org = user.organization_id
    return bool(org and org in (machine.registered_by_id, machine.selling_dealer_id))


def may_record_hours(user, machine) -> bool:
    """Hour-meter readings by hand only from an organization that may edit the machine; a partner
    serving an order records the reading in its service record instead (the order's own flow)."""
    return may_edit_machine(user, machine)


def full_phone_reason(user, customer=None, *, order=None) -> str | None:
    """Why ``user`` may read the full number of ``customer`` (or of ``order``'s contact), or None."""
    if not (user.is_authenticated and (user.is_superuser or user.role_codes())):
        return None
    if network.sees_whole_network(user):
        return NETWORK
    if not user.organization_id:
        return None
    if customer is None and order is not None:
        customer = order.customer
    if customer is not None and customer.registered_by_id == user.organization_id:
        return "registered"
    for rule in _full_phone_rules:
        reason = rule(user, customer, order)
        if reason:
            return reason
    return None


def may_see_full_phone(user, customer=None, *, order=None) -> bool:
    return full_phone_reason(user, customer, order=order) is not None


@dataclass(frozen=True)
class ShownPhone:
    """A number as one user may see it: ``text`` for people, ``value`` for machines (E.164 or masked)."""

    text: str
    value: str
    masked: bool

    def __str__(self) -> str:
        return self.text


def phone_for(user, customer, number: str, *, order=None, where: str = "") -> ShownPhone:
    """The one rule: ``number`` (E.164, one of ``customer``'s or ``order``'s contact) as ``user`` may
    see it. A full number shown to a partner is recorded (who, whose, when, why, ``where``)."""
    if not number:
        return ShownPhone("", "", False)
    reason = full_phone_reason(user, customer, order=order)
    if reason is None:
        masked = mask_phone(number)
        return ShownPhone(masked, masked, True)
    if reason != NETWORK:
        _record_reveal(user, customer if customer is not None else order.customer, order, reason, where)
    return ShownPhone(display_phone(number), number, False)


def phones_for_orders(user, orders, *, where: str = "") -> dict[int, ShownPhone]:
    """``phone_for`` over a list of orders (their customers read with them): the same rule, and a
    partner's reveals recorded with one INSERT for the whole list, so a list page's queries do not
    grow with its rows."""
    from aftersales.registry.models import PhoneReveal

    seen = user.__dict__.setdefault("_phone_reveals", set())
    shown: dict[int, ShownPhone] = {}
    reveals = []
    for order in orders:
        number = order.contact_phone
        if not number:
            shown[order.pk] = ShownPhone("", "", False)
            continue
        reason = full_phone_reason(user, None, order=order)
        if reason is None:
            masked = mask_phone(number)
            shown[order.pk] = ShownPhone(masked, masked, True)
            continue
        if reason != NETWORK and (order.customer_id, order.pk, reason) not in seen:
            seen.add((order.customer_id, order.pk, reason))
            reveals.append(PhoneReveal(user=user, organization_id=user.organization_id, customer_id=order.customer_id,
                                       order_id=order.pk, reason=reason, purpose=where[:60]))
        shown[order.pk] = ShownPhone(display_phone(number), number, False)
    if reveals:
        PhoneReveal.objects.bulk_create(reveals)
    return shown


def _record_reveal(user, customer, order, reason: str, where: str) -> None:
    # Once per request and customer: a page that shows one number in three places is one reveal.
    # The user object lives as long as the request does.
    seen = user.__dict__.setdefault("_phone_reveals", set())
    key = (customer.pk, getattr(order, "pk", None), reason)
    if key in seen:
        return
    seen.add(key)
    from aftersales.registry.reveals import phone_reveal_record

    phone_reveal_record(user=user, customer=customer, order=order, reason=reason, where=where)


def full_phone_customers_q(user):
    """Customers whose full number ``user`` may read, as a Q (None: every customer; False: none)."""
    from django.db.models import Q

    if not (user.is_authenticated and (user.is_superuser or user.role_codes())):
        return False
    if network.sees_whole_network(user):
        return None
    if not user.organization_id:
        return False
    q = Q(registered_by_id=user.organization_id)
    for provider in _full_phone_qs:
        q |= provider(user.organization_id)
    return q


def may_list_phone_reveals(user) -> bool:
    """Supervisors (and administrators) check who read which number."""
    from aftersales.accounts.models import RoleCode

    return network.is_administrator(user) or (network.sees_whole_network(user) and user.has_role(RoleCode.SUPERVISOR))
