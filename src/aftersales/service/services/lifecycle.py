"""Closing, cancelling, follow-up calls and pausing/resuming the SLA clocks of an order.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from aftersales.core.errors import ValidationFailed
from aftersales.service import workflow
from aftersales.service.models import (
    Channel,
    ServiceOrder,
)
from aftersales.service.services.common import _perform, _raise_if, _required, _required_text


def order_close(*, actor, order_id: int, version: int, reason: str, note: str = "") -> ServiceOrder:
    def apply(order):
        why = _required("reason", reason, 300)
        return {"reason": why}
    return _perform(actor=actor, order_id=order_id, action="close", version=version, note=note, apply=apply)


def order_cancel(*, actor, order_id: int, version: int, reason: str, note: str = "") -> ServiceOrder:
    """Orders are cancelled with a reason, never deleted: the number stays taken."""
    def apply(order):
        order.cancel_reason = _required("reason", reason, 300)
        return {"reason": order.cancel_reason}
    return _perform(actor=actor, order_id=order_id, action="cancel", version=version, note=note, apply=apply)


def order_follow_up(*, actor, order_id: int, version: int, summary: str, channel: str = Channel.PHONE,
                    note: str = "") -> ServiceOrder:
    """The customer called again about this order (避免重复单据): recorded on it, not as a new order."""
    def apply(order):
        errors = {}
        text = _required_text(errors, "summary", summary)
        if channel not in Channel.values:
            errors["channel"] = _("Unknown channel.")
        _raise_if(errors)
        return {"summary": text, "channel": channel}
    return _perform(actor=actor, order_id=order_id, action="follow_up", version=version, note=note, apply=apply)


def order_pause_clock(*, actor, order_id: int, version: int, reason: str, note: str = "") -> ServiceOrder:
    """Stop the SLA clocks while the order waits on something outside the holder's hands."""
    def apply(order):
        if reason not in workflow.PAUSE_REASONS:
            raise ValidationFailed(_("Nothing was changed."), fields={"reason": _("Pick waiting_customer, waiting_parts or weather.")})
        return {"reason": reason}
    return _perform(actor=actor, order_id=order_id, action="pause_clock", version=version, note=note, apply=apply)


def order_resume_clock(*, actor, order_id: int, version: int, note: str = "") -> ServiceOrder:
    return _perform(actor=actor, order_id=order_id, action="resume_clock", version=version, note=note)
