"""技术支持: the technician escalates to an engineer of the technical center, who answers.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.service.models import (
    Escalation,
    EscalationOutcome,
    ServiceOrder,
)
from aftersales.service.services.common import _perform, _raise_if, _required, _required_text, _text


def order_escalate(*, actor, order_id: int, version: int, problem: str, tried: str = "", note: str = "") -> ServiceOrder:
    """疑难升级单: lifted to the technical engineers with what was already tried."""
    def apply(order):
        text = _required("problem", problem)
        esc = Escalation.objects.create(order=order, raised_by=actor, raised_at=timezone.now(), problem=text,
                                        tried=_text(tried), resume_status=order.status)
        return {"escalation_id": esc.pk, "resume_status": esc.resume_status}
    return _perform(actor=actor, order_id=order_id, action="escalate", version=version, note=note, apply=apply)


def order_answer_escalation(*, actor, order_id: int, version: int, outcome: str, answer: str, note: str = "") -> ServiceOrder:
    """The engineer answers (guidance, takes it over, or a product quality issue); the order resumes."""
    def apply(order):
        errors = {}
        if outcome not in EscalationOutcome.values:
            errors["outcome"] = _("Use guidance, taken_over or quality_issue.")
        text = _required_text(errors, "answer", answer)
        _raise_if(errors)
        esc = order.escalations.get(answered_at__isnull=True)
        esc.engineer, esc.outcome, esc.answer, esc.answered_at = actor, outcome, text, timezone.now()
        esc.save(update_fields=["engineer", "outcome", "answer", "answered_at"])
        return {"escalation_id": esc.pk, "outcome": outcome}
    return _perform(actor=actor, order_id=order_id, action="answer_escalation", version=version, note=note, apply=apply)
