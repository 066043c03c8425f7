"""The customer's confirmation of the work: a 6-digit SMS code (only an HMAC stored) or a name with
a drawn signature.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.core.errors import ValidationFailed
from aftersales.notify.services import outbox_enqueue
from aftersales.service.models import (
    AttachmentKind,
    ServiceOrder,
)
from aftersales.service.services.common import CONFIRMATION_MAX_FAILURES, _perform, _raise_if, _required_text, _text


def _code_hash(order: ServiceOrder, code: str) -> str:
    # Keyed by the secret and the order, so a leaked hash column cannot be tried offline cheaply.
    return hmac.new(settings.SECRET_KEY.encode(), f"{order.pk}:{code}".encode(), hashlib.sha256).hexdigest()


def _issue_code(order: ServiceOrder) -> None:
    code = f"{secrets.randbelow(10**6):06d}"
    order.confirmation_code_hash = _code_hash(order, code)
    order.confirmation_failures = 0
    # The code lives only in the outbox (to the customer's phone), never on the order.
    outbox_enqueue(channel="sms", recipient=order.contact_phone, template="confirmation_code", order=order,
                   context={"number": order.number, "code": code})


def order_resend_code(*, actor, order_id: int, version: int, note: str = "") -> ServiceOrder:
    def apply(order):
        _issue_code(order)
        return {}
    return _perform(actor=actor, order_id=order_id, action="resend_code", version=version, note=note, apply=apply)


def order_confirm(*, actor, order_id: int, version: int, name: str = "", signature_id: int | None = None,
                  code: str = "", note: str = "") -> ServiceOrder:
    """The customer confirms: a name and a signature image, or the code sent to their phone."""
    def apply(order):
        errors = {}
        how = ""
        if _text(code):
            if order.confirmation_failures >= CONFIRMATION_MAX_FAILURES:
                errors["code"] = _("Too many wrong codes; send a new one.")
            elif not order.confirmation_code_hash or not hmac.compare_digest(order.confirmation_code_hash, _code_hash(order, _text(code))):
                raise _WrongCode()
            how = "code"
        else:
            who = _required_text(errors, "name", name, 50)
            if signature_id is None or not order.attachments.filter(pk=signature_id, kind=AttachmentKind.SIGNATURE).exists():
                errors["signature_id"] = _("Upload the customer's signature to this order first.")
            order.confirmed_by_name = who
            how = "signature"
        _raise_if(errors)
        order.confirmed_by_name = order.confirmed_by_name or order.contact_name
        order.confirmed_at = order.completed_at = timezone.now()
        order.confirmation_code_hash = ""
        outbox_enqueue(channel="sms", recipient=order.contact_phone, template="order_completed", order=order,
                       context={"number": order.number, "rating_path": f"/t/{order.tracking_token}"})
        return {"how": how, "name": order.confirmed_by_name, "signature_id": signature_id if how == "signature" else None}
    try:
        return _perform(actor=actor, order_id=order_id, action="confirm", version=version, note=note, apply=apply)
    except _WrongCode:
        # Counted outside the rolled-back transaction, so guessing is limited.
        ServiceOrder.objects.filter(pk=order_id).update(confirmation_failures=F("confirmation_failures") + 1)
        raise ValidationFailed(_("Nothing was changed."), fields={"code": _("The code is not right.")}) from None


class _WrongCode(Exception):
    pass


def order_confirm_by_customer(*, token: str, version: int, code: str) -> ServiceOrder:
    """The customer confirms the repair with the SMS code, on their own phone, through the public
    API: the tracking token is the credential (as for the rating). The event has no actor and says
    ``by: customer``; wrong codes count towards the same limit as the technician's tries."""
    from django.db import transaction

    from aftersales.core.errors import Conflict, NotFound
    from aftersales.service import policies
    from aftersales.service.models import OrderStatus, OrderType
    from aftersales.service.services.common import _append_event, _changed, _save_if_version

    with transaction.atomic():
        order = ServiceOrder.objects.select_for_update().filter(tracking_token=token).first() if token else None
        if order is None:
            raise NotFound(_("Service order not found."))
        if order.version != version:
            raise Conflict(_("The order was changed by someone else; reload it and decide again."),
                           code="stale_version", current=policies.order_brief(order))
        if order.status != OrderStatus.AWAITING_CONFIRMATION or order.order_type != OrderType.REPAIR:
            raise Conflict(_("This order cannot be confirmed now."), code="invalid_transition",
                           current=policies.order_brief(order), fields={"action": _("Not awaiting your confirmation.")})
        errors = {}
        entered = _required_text(errors, "code", code, 12)
        if not errors and order.confirmation_failures >= CONFIRMATION_MAX_FAILURES:
            errors["code"] = _("Too many wrong codes; send a new one.")
        _raise_if(errors)
        good = bool(order.confirmation_code_hash) and hmac.compare_digest(order.confirmation_code_hash,
                                                                           _code_hash(order, entered))
        if good:
            order.confirmed_by_name = order.confirmed_by_name or order.contact_name
            order.confirmed_at = order.completed_at = timezone.now()
            order.confirmation_code_hash = ""
            order.status = OrderStatus.COMPLETED
            order.version = version + 1
            outbox_enqueue(channel="sms", recipient=order.contact_phone, template="order_completed", order=order,
                           context={"number": order.number, "rating_path": f"/t/{order.tracking_token}"})
            _append_event(order, actor=None, action="confirm", from_status=OrderStatus.AWAITING_CONFIRMATION,
                          to_status=order.status, data={"how": "code", "by": "customer",
                                                        "name": order.confirmed_by_name})
            _save_if_version(order, version)
            _changed(order)
            return order
    ServiceOrder.objects.filter(pk=order.pk).update(confirmation_failures=F("confirmation_failures") + 1)
    raise ValidationFailed(_("Nothing was changed."), fields={"code": _("The code is not right.")})
