from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceConfig(AppConfig):
    name = "aftersales.service"
    label = "service"
    verbose_name = _("Service orders")

    def ready(self) -> None:
        from aftersales.registry.policies import register_full_phone_rule
        from aftersales.registry.selectors import register_customer_visibility

        # A partner sees the customers of the orders dispatched to it (and a dealer those of the
        # orders it recorded).
        register_customer_visibility(_customers_of_orders)
        register_full_phone_rule(_serves_open_order, _served_customers_q)
        from aftersales.service.hooks import repair_history
        from aftersales.warranty.services import register_repair_history

        register_repair_history(repair_history)


def _customers_of_orders(org_id: int):
    from django.db.models import Exists, OuterRef, Q

    from aftersales.service.models import ServiceOrder

    # Two EXISTS, one per column: each is one probe of its (customer, organization) index, where an OR
    # inside one EXISTS walked all the customer's orders (tens of thousands for a big farm).
    orders = ServiceOrder.objects.filter(customer=OuterRef("pk"))
    return Q(Exists(orders.filter(assigned_org_id=org_id))) | Q(Exists(orders.filter(owning_org_id=org_id)))


def _serves_open_order(user, customer, order):
    """Full numbers only while an open order of this customer is assigned to the user's
    organization; a dealer also for the contact of an order it recorded."""
    from aftersales.accounts.models import OrganizationKind
    from aftersales.service.models import OPEN_STATUSES, ServiceOrder

    org_id = user.organization_id
    if not org_id:
        return None
    if order is not None:
        if order.assigned_org_id == org_id and order.status in OPEN_STATUSES:
            return "serves_open_order"
        if order.owning_org_id == org_id and user.organization.kind == OrganizationKind.DEALER:
            return "recorded_order"
    if customer is not None and ServiceOrder.objects.filter(
        customer=customer, assigned_org_id=org_id, status__in=OPEN_STATUSES
    ).exists():
        return "serves_open_order"
    return None


def _served_customers_q(org_id: int):
    from django.db.models import Exists, OuterRef, Q

    from aftersales.service.models import OPEN_STATUSES, ServiceOrder

    return Q(Exists(ServiceOrder.objects.filter(customer=OuterRef("pk"), assigned_org_id=org_id, status__in=OPEN_STATUSES)))

