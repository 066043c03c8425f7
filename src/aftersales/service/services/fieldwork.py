"""The technician's work: arrival (check-in) or receipt of a carried-in or mailed machine, the
service record (服务记录单) with parts and labour, and check-out.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.core.errors import ValidationFailed
from aftersales.registry import services as registry
from aftersales.service.models import (
    PartAction,
    OrderStatus,
    PartUsage,
    ServiceMode,
    ServiceOrder,
    ServiceRecord,
)
from aftersales.service.services.common import (
    _decimal,
    _perform,
    _position,
    _raise_if,
    _required_text,
    _shanghai_today,
    _steps,
    _text,
)
from aftersales.service.services.confirmation import _issue_code
from aftersales.warranty.services import component_errors


def order_check_in(*, actor, order_id: int, version: int, note: str = "", latitude=None, longitude=None,
                   accuracy_m: int | None = None) -> ServiceOrder:
    """Arrival on site. Without an appointment (the order never scheduled) the event says
    ``unscheduled``, so punctuality (守时服务) is measured only against times that were promised.
    The technician's position, when shared, is stored on the event (latitude, longitude, accuracy)."""
    position = _position(latitude, longitude, accuracy_m)

    def apply(order):
        now = timezone.now()
        unscheduled = order.status != OrderStatus.SCHEDULED or order.appointment_at is None
        return {"arrived_at": now.isoformat(), "unscheduled": unscheduled,
                "late": bool(not unscheduled and order.appointment_at < now)}
    return _perform(actor=actor, order_id=order_id, action="check_in", version=version, note=note, apply=apply,
                    position=position)


def order_receive(*, actor, order_id: int, version: int, inbound_tracking: str = "", note: str = "") -> ServiceOrder:
    """送修 / 寄修: the machine is in the workshop; a mail-in comes with its tracking number."""
    def apply(order):
        tracking = _text(inbound_tracking, 60)
        if order.service_mode == ServiceMode.MAIL_IN and not tracking:
            raise ValidationFailed(_("Nothing was changed."), fields={"inbound_tracking": _("A mail-in needs the tracking number.")})
        order.inbound_tracking = tracking
        return {"inbound_tracking": tracking}
    return _perform(actor=actor, order_id=order_id, action="receive", version=version, note=note, apply=apply)


@dataclass(frozen=True)
class PartInput:
    """One line of the service record: a part used, and what the 三包 rules count about it: the
    component it worked on (a code; empty: the record's component), whether that component was
    repaired or replaced, and whether the fault was serious (None: as the record says)."""

    part_number: str
    quantity: Decimal | str | int
    name: str = ""
    warranty: bool = True
    unit_price: Decimal | str | int = 0
    component: str = ""
    action: str = PartAction.REPAIRED
    serious: bool | None = None
    fit_reason: str = ""  # a catalogue part listed for other models needs it (parts.services.consume_for_record)
    serial: str = ""  # a serial-tracked catalogue part leaves the van by its serial number


def order_record_service(*, actor, order_id: int, version: int, fault_found: str, solution: str, cause: str = "",
                         diagnosis_steps: list[str] = (), parts: list[PartInput] = (), labour_hours=0,
                         hours_meter=None, photo_ids: list[int] = (), component: str = "whole_machine",
                         serious: bool = False, note: str = "") -> ServiceOrder:
    """服务记录单: replaces an earlier record of the same visit; the event keeps every version."""
    def apply(order):
        errors: dict[str, str] = {}
        component_code = (component or "whole_machine").strip()
        named = {"component": component_code}
        named.update({f"parts[{i}].component": (p.component or "").strip() for i, p in enumerate(parts or [])})
        machine = order.machine if order.machine_id else None
        errors.update(component_errors(named, category=machine.model.category if machine else "other",
                                       model=machine.model if machine else None))
        found = _required_text(errors, "fault_found", fault_found)
        fix = _required_text(errors, "solution", solution)
        hours = _decimal(errors, "labour_hours", labour_hours)
        meter = _decimal(errors, "hours_meter", hours_meter, allow_none=True)
        rows = []
        for i, p in enumerate(parts or []):
            number = _required_text(errors, f"parts[{i}].part_number", p.part_number, 40)
            qty = _decimal(errors, f"parts[{i}].quantity", p.quantity, minimum=Decimal("0.01"))
            price = _decimal(errors, f"parts[{i}].unit_price", p.unit_price)
            if p.action not in PartAction.values:
                errors[f"parts[{i}].action"] = _("Say whether the component was repaired or replaced.")
            line = {"component": (p.component or "").strip() or component_code, "action": p.action,
                    "serious": bool(serious) if p.serious is None else bool(p.serious)}
            rows.append((number, qty, price, p, line))
        photos = list(order.attachments.filter(pk__in=list(photo_ids or [])).values_list("pk", flat=True))
        if set(photos) != set(photo_ids or []):
            errors["photo_ids"] = _("Upload the photos to this order first.")
        if meter is not None and order.machine_id and "hours_meter" not in errors:
            try:
                # A reading beyond what the meter can run needs a reason: the record's note gives it.
                registry.machine_record_hours(machine=order.machine, hours=meter, read_on=_shanghai_today(),
                                              source=f"service {order.number}", user=actor, reason=_text(note, 300))
            except ValidationFailed as exc:
                errors["hours_meter"] = exc.fields.get("hours") or exc.message
        _raise_if(errors)
        ServiceRecord.objects.filter(order=order).delete()
        record = ServiceRecord.objects.create(
            order=order, technician=actor, fault_found=found, cause=_text(cause), solution=fix,
            diagnosis_steps=_steps(errors, diagnosis_steps), labour_hours=hours, hours_meter=meter,
            component=component_code, serious=bool(serious),
        )
        usages = PartUsage.objects.bulk_create([
            PartUsage(record=record, part_number=n, name=_text(p.name, 100), quantity=q, warranty=bool(p.warranty),
                      unit_price=pr, **line)
            for n, q, pr, p, line in rows
        ])
        # Parts of the catalogue leave the technician's van (or the organization's stock) in this
        # transaction; the parts app decides who pays each line (imported here: it imports this package).
        from aftersales.parts.services import consume_for_record

        issued = consume_for_record(actor=actor, order=order, usages=usages,
                                    fit_reasons=[_text(p.fit_reason, 300) for p in parts or []],
                                    serials=[_text(p.serial, 60) for p in parts or []])
        return {**({"stock": issued} if issued else {}),"service_record_id": record.pk, "parts": [{"part_number": n, "quantity": str(q), "warranty": bool(p.warranty),
                                                           **line} for n, q, _pr, p, line in rows],
                "labour_hours": str(hours), "hours_meter": str(meter) if meter is not None else None, "photo_ids": photos,
                "component": component_code, "serious": bool(serious)}
    return _perform(actor=actor, order_id=order_id, action="record_service", version=version, note=note, apply=apply)


def order_check_out(*, actor, order_id: int, version: int, outbound_tracking: str = "", note: str = "",
                    latitude=None, longitude=None, accuracy_m: int | None = None) -> ServiceOrder:
    """Leaving the site (or sending the machine back): the customer's confirmation code goes out;
    the position, when shared, is stored on the event as at check-in."""
    position = _position(latitude, longitude, accuracy_m)

    def apply(order):
        tracking = _text(outbound_tracking, 60)
        if order.service_mode == ServiceMode.MAIL_IN and not tracking:
            raise ValidationFailed(_("Nothing was changed."), fields={"outbound_tracking": _("Send the machine back with a tracking number.")})
        order.outbound_tracking = tracking
        _issue_code(order)
        return {"left_at": timezone.now().isoformat(), "outbound_tracking": tracking}
    return _perform(actor=actor, order_id=order_id, action="check_out", version=version, note=note, apply=apply,
                    position=position)
