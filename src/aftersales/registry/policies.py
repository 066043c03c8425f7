"""Who may change or fully read customers and machines."""

from __future__ import annotations

from collections.abc import Callable

from aftersales.accounts import policies as network

# Later apps widen who may read a customer's full number (the service-order app: a partner while
# an open order of the customer is assigned to it). Registered in AppConfig.ready, so the
# dependency points from service to registry and not back.
_full_phone_rules: list[Callable[[object, object], bool]] = []


def register_full_phone_rule(rule: Callable[[object, object], bool]) -> None:
    if rule not in _full_phone_rules:
        _full_phone_rules.append(rule)


def may_create(user) -> bool:
    return network.may_manage_customers(user)


def may_edit_customer(user, customer) -> bool:
    """The hotline and the maker's centres keep the archive; a partner edits the customers it recorded."""
    if network.sees_whole_network(user):
        return True
    if user.organization_id and customer.registered_by_id == user.organization_id:
        return True
    return any(rule(user, customer) for rule in _full_phone_rules)


def may_edit_machine(user, machine) -> bool:
    if network.sees_whole_network(user):
        return True
    org = user.organization_id
    return bool(org and org in (machine.registered_by_id, machine.selling_dealer_id))


def may_see_full_phone(user, customer) -> bool:
    """Customer data is confidential (信息安全): partners see full numbers only of customers they serve.

    The service-order app widens this to customers whose open order is assigned to the partner.
    """
    if network.sees_whole_network(user):
        return True
    if user.organization_id and customer.registered_by_id == user.organization_id:
        return True
    return any(rule(user, customer) for rule in _full_phone_rules)
