"""信息传递 and diagnosis: the 15-minute handoff to a hotline technician, the callback, diagnosis
steps, solving by phone and confirming the service mode; answering a consultation.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.accounts.models import RoleCode
from aftersales.service.models import (
    ServiceMode,
    ServiceOrder,
)
from aftersales.service.services.common import (
    _perform,
    _raise_if,
    _required,
    _required_text,
    _steps,
    _text,
    _user_with_role,
)


def order_answer(*, actor, order_id: int, version: int, answer: str, note: str = "") -> ServiceOrder:
    """咨询服务单: the question is answered; the order closes with the answer recorded."""
    def apply(order):
        order.answer = _required("answer", answer)
        return {"answer": order.answer}
    return _perform(actor=actor, order_id=order_id, action="answer", version=version, note=note, apply=apply)


def order_forward(*, actor, order_id: int, version: int, hotline_technician_id: int | None = None, note: str = "") -> ServiceOrder:
    """信息传递: hand the order on to a hotline technician (the 15-minute handoff)."""
    def apply(order):
        errors = {}
        tech = _user_with_role(errors, "hotline_technician_id", hotline_technician_id, RoleCode.HOTLINE_TECHNICIAN)
        _raise_if(errors)
        order.hotline_technician = tech
        order.forwarded_at = timezone.now()
        return {"hotline_technician_id": tech.pk if tech else None,
                "received_at": order.created_at.isoformat(), "forwarded_at": order.forwarded_at.isoformat()}
    return _perform(actor=actor, order_id=order_id, action="forward", version=version, note=note, apply=apply)


def order_callback(*, actor, order_id: int, version: int, reached: bool = True, note: str = "") -> ServiceOrder:
    def apply(order):
        order.hotline_technician_id = order.hotline_technician_id or actor.pk
        order.callback_at = timezone.now()
        return {"reached": reached, "called_back_at": order.callback_at.isoformat()}
    return _perform(actor=actor, order_id=order_id, action="callback", version=version, note=note, apply=apply)




def order_diagnose(*, actor, order_id: int, version: int, steps: list[str], note: str = "") -> ServiceOrder:
    def apply(order):
        errors = {}
        cleaned = _steps(errors, steps, required=True)
        _raise_if(errors)
        order.diagnosis = [*order.diagnosis, *cleaned]
        return {"steps": cleaned}
    return _perform(actor=actor, order_id=order_id, action="diagnose", version=version, note=note, apply=apply)


def order_solve_by_phone(*, actor, order_id: int, version: int, solution: str, steps: list[str] = (), note: str = "") -> ServiceOrder:
    """电话解决: the hotline technician fixed it on the phone; closes with the solution recorded."""
    def apply(order):
        errors = {}
        order.answer = _required_text(errors, "solution", solution)
        cleaned = _steps(errors, steps)
        _raise_if(errors)
        order.diagnosis = [*order.diagnosis, *cleaned]
        order.service_mode = ServiceMode.PHONE
        order.completed_at = timezone.now()
        return {"solution": order.answer, "steps": cleaned}
    return _perform(actor=actor, order_id=order_id, action="solve_by_phone", version=version, note=note, apply=apply)


def order_confirm_mode(*, actor, order_id: int, version: int, service_mode: str, reason: str = "",
                       steps: list[str] = (), note: str = "") -> ServiceOrder:
    """The hotline technician fixes the service mode; the order waits for the repair coordinator."""
    def apply(order):
        errors = {}
        if service_mode not in ServiceMode.values or service_mode == ServiceMode.PHONE:
            errors["service_mode"] = _("Pick on-site, carry-in, mail-in or paid; a phone answer is 'solved by phone'.")
        why = _text(reason, 300)
        if service_mode != order.proposed_mode and not why and "service_mode" not in errors:
            errors["reason"] = _("Required when the mode differs from the warranty proposal.")
        cleaned = _steps(errors, steps)
        _raise_if(errors)
        previous = order.service_mode
        order.service_mode = service_mode
        order.diagnosis = [*order.diagnosis, *cleaned]
        return {"service_mode": service_mode, "previous": previous, "reason": why, "steps": cleaned}
    return _perform(actor=actor, order_id=order_id, action="confirm_mode", version=version, note=note, apply=apply)
