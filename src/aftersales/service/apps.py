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
        register_full_phone_rule(_serves_open_order)
        from aftersales.service.hooks import repair_history
        from aftersales.warranty.services import register_repair_history

        register_repair_history(repair_history)


def _customers_of_orders(org_id: int):
    from django.db.models import Exists, OuterRef, Q

    from aftersales.service.models import ServiceOrder

    orders = ServiceOrder.objects.filter(customer=OuterRef("pk")).filter(Q(assigned_org_id=org_id) | Q(owning_org_id=org_id))
    return Q(Exists(orders))


def _serves_open_order(user, customer) -> bool:
    """Full numbers only while an open order of this customer is assigned to the user's organization."""
    from aftersales.service.models import OPEN_STATUSES, ServiceOrder

    if not user.organization_id:
        return False
    return ServiceOrder.objects.filter(
        customer=customer, assigned_org_id=user.organization_id, status__in=OPEN_STATUSES
    ).exists()
