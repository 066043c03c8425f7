"""Old parts back (旧件返回): warranty parts shipped back in batches, received and inspected at the
technical centre; split from services.py by what it holds."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.core.errors import Conflict, NotFound
from aftersales.parts import policies, selectors
from aftersales.parts.models import (
    OldPart,
    OldPartStatus,
    ReturnBatch,
    Verdict,
)
from aftersales.parts.services import _fail, next_number


# --- old parts (旧件返回) --------------------------------------------------------------------------------

def old_parts_ship(*, actor, old_part_ids: list[int], tracking_number: str) -> ReturnBatch:
    """Ship awaiting old parts of one's organization back to the technical centre in one batch."""
    policies.check(policies.may_use_parts(actor))
    with transaction.atomic():
        tracking = (tracking_number or "").strip()
        if not tracking:
            _fail(tracking_number=_("Ship with a tracking number."))
        if not old_part_ids:
            _fail(old_part_ids=_("Choose the old parts to ship."))
        rows = list(selectors.old_part_queryset(actor).select_for_update(of=("self",)).filter(pk__in=old_part_ids))
        if len(rows) != len(set(old_part_ids)):
            raise NotFound(_("Old part not found."))
        if any(r.status != OldPartStatus.AWAITING for r in rows) or len({r.organization_id for r in rows}) != 1:
            raise Conflict(_("Only old parts still to be returned, of one organization, ship in a batch."),
                           code="invalid_transition")
        batch = ReturnBatch.objects.create(number=next_number("JH"), organization_id=rows[0].organization_id,
                                           tracking_number=tracking[:60], shipped_by=actor, shipped_at=timezone.now())
        OldPart.objects.filter(pk__in=[r.pk for r in rows]).update(status=OldPartStatus.SHIPPED, batch=batch)
        return batch


def batch_receive(*, actor, batch_id: int) -> ReturnBatch:
    policies.check(policies.may_inspect(actor))
    with transaction.atomic():
        batch = selectors.batch_queryset(actor).select_for_update().filter(pk=batch_id).first()
        if batch is None:
            raise NotFound(_("Return batch not found."))
        if batch.received_at is not None:
            raise Conflict(_("This batch was received already."), code="invalid_transition")
        batch.received_at = timezone.now()
        batch.save(update_fields=["received_at"])
        batch.parts.filter(status=OldPartStatus.SHIPPED).update(status=OldPartStatus.RECEIVED)
        return batch


def old_part_inspect(*, actor, old_part_id: int, verdict: str, note: str = "") -> OldPart:
    """The technical centre's verdict; ``not_returned`` also for a part that never came. The claim's
    automatic checks read it."""
    policies.check(policies.may_inspect(actor))
    with transaction.atomic():
        row = selectors.old_part_queryset(actor).select_for_update(of=("self",)).filter(pk=old_part_id).first()
        if row is None:
            raise NotFound(_("Old part not found."))
        if verdict not in Verdict.values:
            _fail(verdict=_("Choose a verdict."))
        if verdict != Verdict.NOT_RETURNED and row.status != OldPartStatus.RECEIVED:
            raise Conflict(_("Inspect a part once it has been received."), code="invalid_transition")
        if verdict in (Verdict.MISUSE, Verdict.NO_FAULT_FOUND) and not (note or "").strip():
            _fail(note=_("Say what the inspection found."))
        row.status, row.verdict, row.inspection_note = OldPartStatus.INSPECTED, verdict, (note or "").strip()[:300]
        row.inspected_by, row.inspected_at = actor, timezone.now()
        row.save()
        return row
