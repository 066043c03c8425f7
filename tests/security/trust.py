"""Builders shared by the trust tests (issue 12): a customer the Shandong agency can see without
serving it, and an order dispatched to that agency through the real services."""

from __future__ import annotations

from aftersales.service import services
from aftersales.service.models import ServiceOrder
from tests.support import make_customer, make_machine

PHONE = "18369332971"
# Every spelling a page or an answer could carry the full number in.
FULL_FORMS = (PHONE, "+86" + PHONE, "183 6933 2971", "183-6933-2971")


def full_number_in(text: str) -> bool:
    return any(form in text for form in FULL_FORMS)


def sold_by_agency(net, phone: str = PHONE, serial: str = "LX904-TRUST-0001"):
    """A farmer registered by the hotline whose tractor the Shandong agency sold: the agency sees
    the customer (and must see the number masked: it serves no order of theirs)."""
    owner = make_customer("王秀英", phone, province="山东省", city="潍坊市", county="寿光市")
    machine = make_machine(serial, owner, dealer=net.agency_shandong)
    return owner, machine


def act(order: ServiceOrder, action: str, user, **data) -> ServiceOrder:
    order.refresh_from_db()
    fn = getattr(services, f"order_{action}")
    return fn(actor=user, order_id=order.pk, version=order.version, **data)


def dispatched_to_agency(net, customer, machine, symptom: str = "离合器打滑，挂挡困难") -> ServiceOrder:
    order = services.order_create(actor=net.agent, data=services.OrderInput(
        order_type="repair", customer_id=customer.pk, machine_id=machine.pk, symptom=symptom,
        crop="小麦", operation="犁地")).order
    act(order, "forward", net.info_coordinator, hotline_technician_id=net.hotline_tech.pk)
    act(order, "callback", net.hotline_tech)
    order.refresh_from_db()
    act(order, "confirm_mode", net.hotline_tech, service_mode=order.proposed_mode or "on_site")
    act(order, "dispatch", net.repair_coordinator, organization_id=net.agency_shandong.pk)
    order.refresh_from_db()
    return order
