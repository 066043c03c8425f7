"""退换货: return and exchange decisions and their completion (a new machine, or a refund).
"""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.core.errors import ValidationFailed
from aftersales.registry import services as registry
from aftersales.registry.models import ExchangeKind, Machine, MachineExchange, MachineStatus
from aftersales.service.models import ServiceOrder
from aftersales.service.services.common import _decimal, _perform, _raise_if, _required, _set, _shanghai_today


def _decide_return(order, actor, decision: str, reason: str, override: bool = False) -> dict:
    why = _required("reason", reason, 2000)
    request = order.return_request
    overridden = decision == "approved" and not request.eligible
    if overridden and not override:
        # The 2010 regime's sequence is repair, main-part replacement, exchange, return; approving a
        # step the engine did not reach is the technical centre's call, made knowingly and on record.
        remedy = (request.eligibility or {}).get("remedy") or "none"
        raise ValidationFailed(_("Nothing was changed."), fields={"override": _(
            "The warranty engine did not find this request eligible (remedy: %(remedy)s). To approve it anyway, "
            "override explicitly and give the reason.") % {"remedy": remedy}})
    _set(request, decision=decision, decision_reason=why, decided_by=actor, overridden=overridden)
    data = {"decision": decision, "reason": why, "eligible": request.eligible,
            "remedy": (request.eligibility or {}).get("remedy", "")}
    if overridden:
        data["override"] = True
    return data


def order_approve_return(*, actor, order_id: int, version: int, reason: str, override: bool = False,
                         note: str = "") -> ServiceOrder:
    """Approve an exchange or return. One the engine found eligible needs a reason; one it did not
    needs ``override`` too, and the timeline event records the override and the engine's remedy."""
    return _perform(actor=actor, order_id=order_id, action="approve_return", version=version, note=note,
                    apply=lambda order: _decide_return(order, actor, "approved", reason, override))


def order_reject_return(*, actor, order_id: int, version: int, reason: str, note: str = "") -> ServiceOrder:
    return _perform(actor=actor, order_id=order_id, action="reject_return", version=version, note=note,
                    apply=lambda order: _decide_return(order, actor, "rejected", reason))


def order_complete_exchange(*, actor, order_id: int, version: int, new_serial_number: str, engine_number: str = "",
                            model_code: str = "", note: str = "") -> ServiceOrder:
    """The new machine is handed over; its warranty starts today (整机更换后三包有效期重新计算)."""
    def apply(order):
        old = Machine.objects.select_for_update().select_related("model").get(pk=order.machine_id)
        today = _shanghai_today()
        try:
            new = registry.machine_create(data=registry.MachineInput(
                serial_number=new_serial_number, model_code=model_code or old.model.code, owner_id=old.owner_id,
                engine_number=engine_number, invoice_date=today, delivery_date=today,
                selling_dealer_id=old.selling_dealer_id, notes=_("Exchanged for %(serial)s") % {"serial": old.serial_number},
            ), registered_by=old.registered_by)
        except ValidationFailed as exc:
            raise ValidationFailed(_("Nothing was changed."), fields={
                {"serial_number": "new_serial_number", "model_code": "model_code"}.get(k, k): v for k, v in exc.fields.items()
            }) from None
        request = order.return_request
        # The fault that caused the exchange goes with it: it is where the new machine's warranty
        # history starts (the periods restart; the same fault again gives a return).
        exchange = MachineExchange.objects.create(machine=old, replacement=new, kind=ExchangeKind.EXCHANGE, happened_on=today,
                                                  reason=request.decision_reason,
                                                  component=request.fault_component or "whole_machine",
                                                  serious=request.fault_serious)
        Machine.objects.filter(pk=old.pk).update(status=MachineStatus.EXCHANGED)
        _set(order.return_request, new_machine=new, exchange=exchange)
        order.completed_at = timezone.now()
        return {"new_machine_id": new.pk, "new_serial_number": new.serial_number, "exchange_id": exchange.pk}
    return _perform(actor=actor, order_id=order_id, action="complete_exchange", version=version, note=note, apply=apply)


def order_record_refund(*, actor, order_id: int, version: int, refund_amount, note: str = "") -> ServiceOrder:
    def apply(order):
        errors = {}
        amount = _decimal(errors, "refund_amount", refund_amount, minimum=Decimal("0.01"))
        _raise_if(errors)
        request = order.return_request
        exchange = MachineExchange.objects.create(machine_id=order.machine_id, kind=ExchangeKind.RETURN,
                                                  happened_on=_shanghai_today(), refund_amount=amount,
                                                  reason=request.decision_reason,
                                                  component=request.fault_component or "whole_machine",
                                                  serious=request.fault_serious)
        Machine.objects.filter(pk=order.machine_id).update(status=MachineStatus.RETURNED)
        _set(order.return_request, refund_amount=amount, exchange=exchange)
        order.completed_at = timezone.now()
        return {"refund_amount": str(amount), "exchange_id": exchange.pk}
    return _perform(actor=actor, order_id=order_id, action="record_refund", version=version, note=note, apply=apply)
