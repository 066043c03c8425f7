"""What a customer logged in to the portal may see: the machines of the customers who hold the
phone they proved (客户电话), and the orders of those customers or reported from that phone.
The "user" of these selectors is the proved phone (E.164); anything else is a 404."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from aftersales.core.errors import NotFound
from aftersales.registry.models import Customer, CustomerPhone, Machine
from aftersales.service.models import ServiceOrder


def customer_ids(phone: str) -> list[int]:
    if not phone:
        return []
    return list(CustomerPhone.objects.filter(number=phone).values_list("customer_id", flat=True))


def customers(phone: str) -> QuerySet[Customer]:
    return Customer.objects.filter(pk__in=customer_ids(phone))


def machine_queryset(phone: str) -> QuerySet[Machine]:
    return (Machine.objects.filter(owner_id__in=customer_ids(phone)).select_related("model", "owner")
            .order_by("serial_number"))


def machine_get(phone: str, machine_id: int) -> Machine:
    machine = machine_queryset(phone).filter(pk=machine_id).first()
    if machine is None:
        raise NotFound(_("Machine not found."))
    return machine


def machine_by_serial(phone: str, serial: str) -> Machine | None:
    return machine_queryset(phone).filter(serial_number=(serial or "").strip()[:40]).first()


def order_queryset(phone: str) -> QuerySet[ServiceOrder]:
    if not phone:
        return ServiceOrder.objects.none()
    return (ServiceOrder.objects.filter(Q(customer_id__in=customer_ids(phone)) | Q(contact_phone=phone))
            .select_related("machine__model", "assigned_org", "assigned_technician").order_by("-created_at"))


def order_get(phone: str, number: str) -> ServiceOrder:
    order = order_queryset(phone).filter(number=(number or "")[:20]).first()
    if order is None:
        raise NotFound(_("Service order not found."))
    return order
