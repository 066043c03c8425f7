"""派工: to the repair center, a direct branch or an authorized agency; acceptance, assignment to a
technician, the technician's acceptance and the appointment.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.accounts.models import SERVICE_PROVIDER_KINDS, Organization, RoleCode
from aftersales.core.errors import ValidationFailed
from aftersales.notify.services import outbox_enqueue
from aftersales.service import hooks
from aftersales.service.models import ServiceOrder
from aftersales.service.services.common import _perform, _raise_if, _required, _text, _user_with_role


def covers(org: Organization, customer) -> bool | None:
    """Whether the organization's coverage (服务区域) holds the customer's place: a whole province, a
    whole city, or the county. None when the customer's province is not known (nothing to judge)."""
    if not customer.province:
        return None
    return org.coverage.filter(
        Q(province=customer.province)
        & (Q(city="") | Q(city=customer.city, county="") | Q(city=customer.city, county=customer.county))
    ).exists()


def order_dispatch(*, actor, order_id: int, version: int, organization_id: int, technician_id: int | None = None,
                   promised_at: datetime | None = None, outside_coverage_reason: str = "",
                   note: str = "") -> ServiceOrder:
    """派工: to the repair center, a direct branch or an authorized agency, optionally a technician.
    Outside the organization's coverage it needs the coordinator's reason, and the order is flagged."""
    def apply(order):
        errors = {}
        org = Organization.objects.filter(pk=organization_id, is_active=True, kind__in=SERVICE_PROVIDER_KINDS).first()
        if org is None:
            errors["organization_id"] = _("Not an active repair center, branch or authorized agency.")
        tech = _user_with_role(errors, "technician_id", technician_id, RoleCode.FIELD_TECHNICIAN, org.pk if org else None)
        outside = org is not None and covers(org, order.customer) is False
        why = _text(outside_coverage_reason, 300)
        if outside and not why:
            errors["outside_coverage_reason"] = _(
                "%(org)s does not cover %(place)s: say why it should go there.") % {
                "org": org.name, "place": " ".join(p for p in (order.customer.province, order.customer.city,
                                                              order.customer.county) if p)}
        concerns = hooks.assignment_concerns(tech, order) if tech is not None else []
        if concerns and not (note or "").strip():
            errors["note"] = concerns[0]
        _raise_if(errors)
        order.assigned_org, order.assigned_technician = org, tech
        order.outside_coverage = outside
        order.dispatched_at = timezone.now()
        if promised_at is not None:
            order.promised_at = promised_at
        outbox_enqueue(channel="sms", recipient=order.contact_phone, template="order_dispatched", order=order,
                       context={"number": order.number, "organization": org.name,
                                "organization_phone": org.contact_phone,
                                "technician": str(tech) if tech else ""})
        data = {"organization_id": org.pk, "technician_id": tech.pk if tech else None}
        if outside:
            data.update(outside_coverage=True, outside_coverage_reason=why)
        return data
    return _perform(actor=actor, order_id=order_id, action="dispatch", version=version, note=note, apply=apply)


def order_accept(*, actor, order_id: int, version: int, note: str = "") -> ServiceOrder:
    return _perform(actor=actor, order_id=order_id, action="accept", version=version, note=note,
                    apply=lambda order: {"organization_id": order.assigned_org_id})


def order_reject(*, actor, order_id: int, version: int, reason: str, note: str = "") -> ServiceOrder:
    """The organization cannot take it: back to the repair coordinator with the reason."""
    def apply(order):
        why = _required("reason", reason, 300)
        data = {"organization_id": order.assigned_org_id, "reason": why}
        order.assigned_org = order.assigned_technician = None
        order.outside_coverage = False
        return data
    return _perform(actor=actor, order_id=order_id, action="reject", version=version, note=note, apply=apply)


def order_assign(*, actor, order_id: int, version: int, technician_id: int | None = None, note: str = "") -> ServiceOrder:
    def apply(order):
        errors = {}
        chosen = technician_id or order.assigned_technician_id
        if chosen is None:
            errors["technician_id"] = _("This field is required.")
        tech = _user_with_role(errors, "technician_id", chosen, RoleCode.FIELD_TECHNICIAN, order.assigned_org_id)
        _raise_if(errors)
        # Another app's reason to think twice (培训考核: no valid certificate): allowed with a reason.
        concerns = hooks.assignment_concerns(tech, order)
        if concerns and not (note or "").strip():
            errors["note"] = concerns[0]
        _raise_if(errors)
        order.assigned_technician = tech
        return {"technician_id": tech.pk, **({"concerns": concerns} if concerns else {})}
    return _perform(actor=actor, order_id=order_id, action="assign", version=version, note=note, apply=apply)



def order_tech_accept(*, actor, order_id: int, version: int, note: str = "") -> ServiceOrder:
    return _perform(actor=actor, order_id=order_id, action="tech_accept", version=version, note=note)


def order_tech_decline(*, actor, order_id: int, version: int, reason: str, note: str = "") -> ServiceOrder:
    def apply(order):
        why = _required("reason", reason, 300)
        data = {"technician_id": order.assigned_technician_id, "reason": why}
        order.assigned_technician = None
        return data
    return _perform(actor=actor, order_id=order_id, action="tech_decline", version=version, note=note, apply=apply)


def order_schedule(*, actor, order_id: int, version: int, appointment_at: datetime, note: str = "") -> ServiceOrder:
    """守时服务: the time promised to the customer; 'overdue' is measured against it."""
    def apply(order):
        if appointment_at is None or appointment_at < timezone.now() - timedelta(minutes=5):
            raise ValidationFailed(_("Nothing was changed."), fields={"appointment_at": _("Pick a time from now on.")})
        order.appointment_at = order.promised_at = appointment_at
        return {"appointment_at": appointment_at.isoformat()}
    return _perform(actor=actor, order_id=order_id, action="schedule", version=version, note=note, apply=apply)
