"""投诉: investigation, resolution and the customer's acceptance of a complaint order.
"""

from __future__ import annotations

from django.utils import timezone

from aftersales.service.models import ServiceOrder
from aftersales.service.services.common import _perform, _required, _set, _text


def order_investigate(*, actor, order_id: int, version: int, note: str = "") -> ServiceOrder:
    def apply(order):
        if order.complaint.supervisor_id is None:
            _set(order.complaint, supervisor=actor)
        return {"supervisor_id": order.complaint.supervisor_id}
    return _perform(actor=actor, order_id=order_id, action="investigate", version=version, note=note, apply=apply)


def order_resolve(*, actor, order_id: int, version: int, resolution: str, findings: str = "", note: str = "") -> ServiceOrder:
    def apply(order):
        text = _required("resolution", resolution)
        _set(order.complaint, resolution=text, findings=_text(findings), customer_accepted=None)
        return {"resolution": text}
    return _perform(actor=actor, order_id=order_id, action="resolve", version=version, note=note, apply=apply)


def order_customer_accept(*, actor, order_id: int, version: int, note: str = "") -> ServiceOrder:
    def apply(order):
        _set(order.complaint, customer_accepted=True)
        order.completed_at = timezone.now()
        return {"customer_accepted": True}
    return _perform(actor=actor, order_id=order_id, action="customer_accept", version=version, note=note, apply=apply)


def order_customer_reject(*, actor, order_id: int, version: int, reason: str, note: str = "") -> ServiceOrder:
    def apply(order):
        why = _required("reason", reason)
        _set(order.complaint, customer_accepted=False)
        return {"customer_accepted": False, "reason": why}
    return _perform(actor=actor, order_id=order_id, action="customer_reject", version=version, note=note, apply=apply)
