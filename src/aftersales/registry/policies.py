"""Who may change or fully read customers and machines."""

from __future__ import annotations

from aftersales.accounts import policies as network


def may_create(user) -> bool:
    return network.may_manage_customers(user)


def may_edit_customer(user, customer) -> bool:
    """The hotline and the maker's centres keep the archive; a partner edits the customers it recorded."""
    if network.sees_whole_network(user):
        return True
    return bool(user.organization_id and customer.registered_by_id == user.organization_id)


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
    return bool(user.organization_id and customer.registered_by_id == user.organization_id)
