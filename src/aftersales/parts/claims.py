"""三包索赔 and 月度结算: the claim a completed warranty order drafts for the serving organization, its
automatic checks, the centre's review, and the monthly settlement the partner confirms.

Amounts: parts at the partner price list (the organization's kind is its level), labour as the
standard hours of each repair code (component × repaired/replaced) × the region's hourly rate, travel
as the distance × the rate per km. The distance is computed from coordinates (GeoPoint of the
organization and the customer) as the great-circle distance × 1.3 (roads are not straight; the factor
is a setting of this module); without coordinates the partner's claimed distance stands and the
check cannot judge it (the flag ``distance_unknown`` says so)."""

from __future__ import annotations

import math
import re
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _, gettext_lazy

from aftersales.core.errors import Conflict, NotFound, ValidationFailed
from aftersales.parts import policies, selectors
from aftersales.parts.models import (
    LOCKED_CLAIM_STATUSES,
    Claim,
    ClaimLine,
    ClaimLineKind,
    ClaimRate,
    ClaimStatus,
    GeoPoint,
    OldPart,
    OldPartStatus,
    Part,
    Settlement,
    SettlementStatus,
    StandardHours,
    Verdict,
)
from aftersales.parts.services import next_number

CENT = Decimal("0.01")
ROAD_FACTOR = Decimal("1.3")
DUPLICATE_WINDOW = timedelta(days=90)
CHECKIN_TOLERANCE_KM = Decimal("5")

FLAG_LABELS = {
    "part_not_returned": gettext_lazy("Old part not returned"),
    "part_rejected": gettext_lazy("Old part rejected at inspection"),
    "part_outstanding": gettext_lazy("Old part not yet inspected"),
    "distance_above_computed": gettext_lazy("Claimed distance far above the computed one"),
    "distance_unknown": gettext_lazy("Distance cannot be computed (no coordinates)"),
    "checkin_far": gettext_lazy("Check-in far from the customer"),
    "duplicate_part": gettext_lazy("Same part claimed for this machine recently"),
    "filed_late": gettext_lazy("Filed after the deadline"),
    "no_meter_photo": gettext_lazy("No hour-meter reading or photo"),
}
# Flags that are information, not suspicion: they do not stop an approval without a reason.
SOFT_FLAGS = frozenset({"part_outstanding", "distance_unknown"})


def _money(x) -> Decimal:
    return Decimal(x).quantize(CENT, rounding=ROUND_HALF_UP)


def haversine_km(a: tuple[Decimal, Decimal], b: tuple[Decimal, Decimal]) -> Decimal:
    lat1, lon1, lat2, lon2 = map(lambda v: math.radians(float(v)), (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    # Coordinates are the one float step; the distance becomes Decimal at once, to 0.1 km.
    return Decimal(str(round(2 * 6371.0 * math.asin(math.sqrt(h)), 1)))


def rate_for(province: str, on: date) -> ClaimRate | None:
    rows = ClaimRate.objects.filter(valid_from__lte=on, province__in=[province, ""]).order_by("-valid_from")
    return next((r for r in rows if r.province == province), None) or next((r for r in rows if r.province == ""), None)


def computed_distance(order) -> Decimal | None:
    org_point = GeoPoint.objects.filter(organization_id=order.assigned_org_id).first()
    cust_point = GeoPoint.objects.filter(customer_id=order.customer_id).first()
    if org_point is None or cust_point is None:
        return None
    return (haversine_km((org_point.lat, org_point.lon), (cust_point.lat, cust_point.lon)) * ROAD_FACTOR).quantize(
        Decimal("0.1"))


_POSITION = re.compile(r"(-?\d{1,2}\.\d{3,})\D{1,4}(-?\d{1,3}\.\d{3,})")


def checkin_position(order) -> tuple[Decimal, Decimal] | None:
    """The browser's position recorded with the check-in (web/views._with_location puts it in the
    event's note; the numbers are found whatever the language)."""
    event = order.events.filter(action="check_in").order_by("-seq").first()
    match = _POSITION.search(event.note) if event else None
    return (Decimal(match.group(1)), Decimal(match.group(2))) if match else None


def is_warranty_order(order) -> bool:
    from aftersales.service.models import OrderType, ServiceMode

    return (order.order_type == OrderType.REPAIR and order.service_mode != ServiceMode.PAID
            and order.warranty_status == "covered" and order.assigned_org_id is not None)


def on_order_changed(order, events) -> None:
    """Hook (service.hooks): a warranty order that reaches 'completed' drafts its claim."""
    from aftersales.service.models import OrderStatus

    if any(e.to_status == OrderStatus.COMPLETED and e.from_status != OrderStatus.COMPLETED for e in events) \
            and is_warranty_order(order) and not Claim.objects.filter(order=order).exists():
        claim_draft(order)


def _lines_for(order) -> tuple[list[ClaimLine], Decimal | None]:
    from aftersales.service.models import PartUsage, ServiceMode

    record = getattr(order, "service_record", None)
    org = order.assigned_org
    on = timezone.localdate(order.completed_at or timezone.now())
    rate = rate_for(org.province, on)
    lines: list[ClaimLine] = []
    usages = list(PartUsage.objects.filter(record__order=order, warranty=True)) if record else []
    catalogue = {p.number: p for p in Part.objects.filter(number__in=[u.part_number for u in usages])}
    for u in usages:
        part = catalogue.get(u.part_number)
        price = (selectors.price_for(part, "partner", org.kind, on) if part else None)
        price = price if price is not None else u.unit_price
        lines.append(ClaimLine(kind=ClaimLineKind.PART, part=part, description=f"{u.part_number} {u.name}".strip()[:200],
                               quantity=u.quantity, unit_price=_money(price), amount=_money(price * u.quantity)))
    if record is not None and rate is not None:
        codes = {(u.component or record.component, u.action) for u in usages} or {(record.component, "repaired")}
        standard = {(s.component, s.action): s.hours for s in StandardHours.objects.filter(
            component__in=[c for c, _a in codes])}
        for component, action in sorted(codes):
            hours = standard.get((component, action))
            if hours is None:
                continue
            lines.append(ClaimLine(kind=ClaimLineKind.LABOUR, description=f"{component}/{action}", quantity=hours,
                                   unit_price=rate.labour_per_hour, amount=_money(hours * rate.labour_per_hour)))
        if not standard and record.labour_hours:
            lines.append(ClaimLine(kind=ClaimLineKind.LABOUR, description=_("Recorded labour hours"),
                                   quantity=record.labour_hours, unit_price=rate.labour_per_hour,
                                   amount=_money(record.labour_hours * rate.labour_per_hour)))
    km = computed_distance(order) if order.service_mode in (ServiceMode.ON_SITE,) else None
    return lines, km


def _travel_line(claim: Claim, km: Decimal | None) -> ClaimLine | None:
    if km is None or not km:
        return None
    rate = rate_for(claim.organization.province, timezone.localdate(claim.completed_at))
    if rate is None:
        return None
    return ClaimLine(claim=claim, kind=ClaimLineKind.TRAVEL, description=_("Travel"), quantity=km,
                     unit_price=rate.travel_per_km, amount=_money(km * rate.travel_per_km))


def _totals(claim: Claim) -> None:
    sums = {k: Decimal(0) for k in ClaimLineKind.values}
    for line in claim.lines.all():
        sums[line.kind] += line.amount
    claim.parts_amount, claim.labour_amount, claim.travel_amount = (sums["part"], sums["labour"], sums["travel"])
    claim.total = sums["part"] + sums["labour"] + sums["travel"]


def claim_draft(order) -> Claim:
    """The draft of a completed warranty order (called in the completing transaction)."""
    lines, km = _lines_for(order)
    claim = Claim.objects.create(number=next_number("SP"), order=order, organization=order.assigned_org,
                                 completed_at=order.completed_at or timezone.now(), computed_km=km, claimed_km=km,
                                 created_at=timezone.now())
    for line in lines:
        line.claim = claim
    travel = _travel_line(claim, km)
    ClaimLine.objects.bulk_create(lines + ([travel] if travel else []))
    _totals(claim)
    claim.flags = claim_checks(claim)
    claim.save()
    return claim


def claim_checks(claim: Claim, *, submitted_at=None) -> list[str]:
    """The automatic checks (fraud and rule checks), recomputed at each step: they read the old
    parts' inspection, the machine's other claims and the order's check-in."""
    order = claim.order
    flags: list[str] = []
    old = list(OldPart.objects.filter(order=order))
    if any(p.verdict == Verdict.NOT_RETURNED for p in old):
        flags.append("part_not_returned")
    if any(p.verdict in (Verdict.MISUSE, Verdict.NO_FAULT_FOUND) for p in old):
        flags.append("part_rejected")
    if any(p.status != OldPartStatus.INSPECTED for p in old):
        flags.append("part_outstanding")
    if claim.claimed_km is not None and claim.computed_km is not None:
        if claim.claimed_km > claim.computed_km * Decimal("1.3") + Decimal("10"):
            flags.append("distance_above_computed")
    elif claim.claimed_km and claim.computed_km is None:
        flags.append("distance_unknown")
    position = checkin_position(order)
    customer_point = GeoPoint.objects.filter(customer_id=order.customer_id).first()
    if position and customer_point and haversine_km(position, (customer_point.lat, customer_point.lon)) > CHECKIN_TOLERANCE_KM:
        flags.append("checkin_far")
    if order.machine_id:
        part_ids = {ln.part_id for ln in claim.lines.all() if ln.part_id}
        if part_ids and ClaimLine.objects.filter(
                part_id__in=part_ids, claim__order__machine_id=order.machine_id,
                claim__completed_at__gte=claim.completed_at - DUPLICATE_WINDOW,
                claim__completed_at__lte=claim.completed_at + DUPLICATE_WINDOW,
        ).exclude(claim=claim).exclude(claim__status=ClaimStatus.REJECTED).exists():
            flags.append("duplicate_part")
    filed = submitted_at or claim.submitted_at
    rate = rate_for(claim.organization.province, timezone.localdate(claim.completed_at))
    if filed and rate and filed > claim.completed_at + timedelta(days=rate.filing_days):
        flags.append("filed_late")
    record = getattr(order, "service_record", None)
    # The hour-meter is the evidence the machine was there and worked on: a reading in the record or a
    # photo of the meter on the order. Neither: flagged.
    if record is None or (record.hours_meter is None and not order.attachments.filter(kind="photo").exists()):
        flags.append("no_meter_photo")
    return flags


def _locked_claim(actor, claim_id: int, version: int | None) -> Claim:
    selectors.claim_get(actor, claim_id)  # 404 for another organization's claim
    claim = Claim.objects.select_for_update(of=("self",)).select_related("order", "organization").get(pk=claim_id)
    if claim.status in LOCKED_CLAIM_STATUSES:
        raise Conflict(_("The claim is in a settlement and can no longer change."), code="claim_locked")
    if version is not None and claim.version != version:
        raise Conflict(_("The claim was changed by someone else; reload it."), code="stale_version")
    return claim


def claim_submit(*, actor, claim_id: int, version: int, claimed_km=None, note: str = "") -> Claim:
    """The partner files its claim, perhaps with the distance it drove."""
    with transaction.atomic():
        claim = _locked_claim(actor, claim_id, version)
        if actor.organization_id != claim.organization_id and not policies.may_review_claims(actor):
            policies.check(False)
        if claim.status != ClaimStatus.DRAFT:
            raise Conflict(_("Only a draft is submitted."), code="invalid_transition")
        if claimed_km not in (None, ""):
            try:
                km = Decimal(str(claimed_km)).quantize(Decimal("0.1"))
                if not km.is_finite() or km < 0 or km > 5000:
                    raise ValueError
            except Exception:
                raise ValidationFailed(_("Nothing was changed."), fields={"claimed_km": _("Enter a distance in km.")})
            claim.claimed_km = km
            claim.lines.filter(kind=ClaimLineKind.TRAVEL).delete()
            travel = _travel_line(claim, km)
            if travel:
                travel.save()
        now = timezone.now()
        claim.status, claim.submitted_at = ClaimStatus.SUBMITTED, now
        _totals(claim)
        claim.flags = claim_checks(claim, submitted_at=now)
        claim.version += 1
        claim.save()
        return claim


def claim_review(*, actor, claim_id: int, version: int, decision: str, reason: str = "",
                 amounts: dict[int, object] | None = None) -> Claim:
    """approve / adjust (line id → approved amount, with a reason) / reject (with a reason). Approving
    a claim the checks flagged needs a reason too: the reviewer says why it is paid anyway."""
    with transaction.atomic():
        policies.check(policies.may_review_claims(actor), _("Claims are reviewed by the service centre."))
        claim = _locked_claim(actor, claim_id, version)
        if claim.status != ClaimStatus.SUBMITTED:
            raise Conflict(_("Only a submitted claim is reviewed."), code="invalid_transition")
        reason = (reason or "").strip()[:300]
        claim.flags = claim_checks(claim)
        lines = list(claim.lines.all())
        if decision == "approve":
            if set(claim.flags) - SOFT_FLAGS and not reason:
                raise ValidationFailed(_("Nothing was changed."), fields={
                    "reason": _("The automatic checks flagged this claim: say why it is approved.")})
            for ln in lines:
                ln.approved_amount = ln.amount
            claim.status = ClaimStatus.APPROVED
        elif decision == "adjust":
            if not reason:
                raise ValidationFailed(_("Nothing was changed."), fields={"reason": _("Say why the claim is adjusted.")})
            amounts = {int(k): v for k, v in (amounts or {}).items()}
            if not amounts or set(amounts) - {ln.pk for ln in lines}:
                raise ValidationFailed(_("Nothing was changed."), fields={"amounts": _("Give approved amounts of this claim's lines.")})
            for ln in lines:
                value = amounts.get(ln.pk, ln.amount)
                try:
                    value = _money(Decimal(str(value)))
                    if value < 0 or value > ln.amount:
                        raise ValueError
                except Exception:
                    raise ValidationFailed(_("Nothing was changed."), fields={
                        f"amounts.{ln.pk}": _("Between 0 and the claimed amount.")}) from None
                ln.approved_amount = value
            claim.status = ClaimStatus.ADJUSTED
        elif decision == "reject":
            if not reason:
                raise ValidationFailed(_("Nothing was changed."), fields={"reason": _("Say why the claim is rejected.")})
            for ln in lines:
                ln.approved_amount = Decimal(0)
            claim.status = ClaimStatus.REJECTED
        else:
            raise ValidationFailed(_("Nothing was changed."), fields={"decision": _("approve, adjust or reject")})
        ClaimLine.objects.bulk_update(lines, ["approved_amount"])
        claim.approved_total = sum((ln.approved_amount for ln in lines), Decimal(0))
        claim.review_reason, claim.reviewed_by, claim.reviewed_at = reason, actor, timezone.now()
        claim.version += 1
        claim.save()
        return claim


def month_bounds(month: date) -> tuple[date, date]:
    first = month.replace(day=1)
    nxt = (first + timedelta(days=32)).replace(day=1)
    return first, nxt


def settlement_issue(*, actor, organization_id: int, month: date) -> Settlement:
    """月结: the organization's claims reviewed in the month (approved or adjusted) go into one
    statement and lock; rejected claims are listed with it at zero so the partner sees why."""
    from aftersales.accounts.models import Organization

    policies.check(policies.may_review_claims(actor), _("Settlements are issued by the service centre."))
    with transaction.atomic():
        org = Organization.objects.filter(pk=organization_id).first()
        if org is None:
            raise ValidationFailed(_("Nothing was changed."), fields={"organization_id": _("No such organization.")})
        first, nxt = month_bounds(month)
        if Settlement.objects.filter(organization=org, month=first).exists():
            raise Conflict(_("This month is settled already for this organization."), code="duplicate")
        start = timezone.make_aware(timezone.datetime.combine(first, timezone.datetime.min.time()))
        end = timezone.make_aware(timezone.datetime.combine(nxt, timezone.datetime.min.time()))
        claims = Claim.objects.select_for_update().filter(
            organization=org, settlement=None, reviewed_at__gte=start, reviewed_at__lt=end,
            status__in=[ClaimStatus.APPROVED, ClaimStatus.ADJUSTED, ClaimStatus.REJECTED])
        ids = list(claims.values_list("pk", flat=True))
        if not ids:
            raise ValidationFailed(_("Nothing was changed."), fields={"month": _("No reviewed claim in this month.")})
        total = Claim.objects.filter(pk__in=ids).exclude(status=ClaimStatus.REJECTED).aggregate(
            t=Sum("approved_total"))["t"] or Decimal(0)
        total = _money(total)  # SQLite sums decimals as floats' text: back to cents
        settlement = Settlement.objects.create(number=next_number("JS"), organization=org, month=first, total=total,
                                               issued_by=actor, issued_at=timezone.now())
        Claim.objects.filter(pk__in=ids).exclude(status=ClaimStatus.REJECTED).update(
            settlement=settlement, status=ClaimStatus.SETTLED)
        Claim.objects.filter(pk__in=ids, status=ClaimStatus.REJECTED).update(settlement=settlement)
        return settlement


def settlement_confirm(*, actor, settlement_id: int) -> Settlement:
    """The partner checked the statement line by line and agrees."""
    with transaction.atomic():
        s = selectors.settlement_get(actor, settlement_id)
        s = Settlement.objects.select_for_update().get(pk=s.pk)
        if actor.organization_id != s.organization_id or not policies.may_use_parts(actor):
            policies.check(False, _("The partner confirms its own statement."))
        if s.status != SettlementStatus.ISSUED:
            raise Conflict(_("Not possible in this status."), code="invalid_transition")
        s.status, s.confirmed_by, s.confirmed_at = SettlementStatus.CONFIRMED, actor, timezone.now()
        s.save()
        return s


def settlement_pay(*, actor, settlement_id: int, payment_reference: str) -> Settlement:
    policies.check(policies.may_review_claims(actor), _("Settlements are paid by the service centre."))
    with transaction.atomic():
        s = Settlement.objects.select_for_update().filter(pk=settlement_id).first()
        if s is None:
            raise NotFound(_("Settlement not found."))
        if s.status != SettlementStatus.CONFIRMED:
            raise Conflict(_("The partner confirms the statement before it is paid."), code="invalid_transition")
        if not (payment_reference or "").strip():
            raise ValidationFailed(_("Nothing was changed."), fields={"payment_reference": _("This field is required.")})
        s.status, s.paid_at, s.payment_reference = SettlementStatus.PAID, timezone.now(), payment_reference.strip()[:60]
        s.save()
        s.claims.filter(status=ClaimStatus.SETTLED).update(status=ClaimStatus.PAID)
        return s


def warranty_cost(user, *, since: date | None = None) -> list[dict]:
    """三包费用 per model, component and month: approved amounts of the claims the user may see."""
    from django.db.models.functions import TruncMonth

    qs = selectors.claim_queryset(user).exclude(approved_total=None)
    if since:
        qs = qs.filter(completed_at__date__gte=since)
    rows = (ClaimLine.objects.filter(claim__in=qs).exclude(approved_amount=None)
            .annotate(month=TruncMonth("claim__completed_at"))
            .values("month", "claim__order__machine__model__code", "claim__order__service_record__component")
            .annotate(amount=Sum("approved_amount")).order_by("month", "claim__order__machine__model__code"))
    # (amounts are re-quantized: SQLite's SUM of decimals comes back with float noise)
    return [{"month": r["month"].date().isoformat()[:7] if hasattr(r["month"], "date") else str(r["month"])[:7],
             "model": r["claim__order__machine__model__code"] or "",
             "component": r["claim__order__service_record__component"] or "", "amount": _money(r["amount"])} for r in rows]


def claims_per_partner(user) -> list[dict]:
    qs = selectors.claim_queryset(user)
    out = {}
    for c in qs.values("organization__name", "status", "total", "approved_total", "review_reason", "flags"):
        row = out.setdefault(c["organization__name"], {"organization": c["organization__name"], "claims": 0,
                                                       "claimed": Decimal(0), "approved": Decimal(0), "rejected": 0,
                                                       "flagged": 0, "rejection_reasons": {}})
        row["claims"] += 1
        row["claimed"] += c["total"]
        row["approved"] += c["approved_total"] or Decimal(0)
        row["flagged"] += bool(set(c["flags"]) - SOFT_FLAGS)
        if c["status"] == ClaimStatus.REJECTED:
            row["rejected"] += 1
            reason = c["review_reason"] or "–"
            row["rejection_reasons"][reason] = row["rejection_reasons"].get(reason, 0) + 1
    return sorted(out.values(), key=lambda r: r["organization"])


def stock_value(user) -> list[dict]:
    """Stock value per warehouse at standard cost, and turns: issues of the last 365 days / value now."""
    from aftersales.parts.models import MoveKind, StockMove

    since = timezone.now() - timedelta(days=365)
    value: dict[int, dict] = {}
    for b in selectors.balance_queryset(user).filter(quantity__gt=0):
        row = value.setdefault(b.warehouse_id, {"warehouse": b.warehouse.name, "value": Decimal(0), "issued": Decimal(0)})
        row["value"] += _money(b.quantity * b.part.standard_cost)
    for m in selectors.move_queryset(user).filter(kind=MoveKind.ISSUE, at__gte=since).values(
            "warehouse_id", "warehouse__name", "quantity", "part__standard_cost"):
        row = value.setdefault(m["warehouse_id"], {"warehouse": m["warehouse__name"], "value": Decimal(0),
                                                   "issued": Decimal(0)})
        row["issued"] += _money(-m["quantity"] * m["part__standard_cost"])
    for row in value.values():
        row["turns"] = (row["issued"] / row["value"]).quantize(Decimal("0.1")) if row["value"] else None
    return sorted(value.values(), key=lambda r: r["warehouse"])


def old_part_verdicts(user) -> list[dict]:
    """旧件鉴定 per component and verdict: what the technical centre found in the parts that came back
    (confirmed faults are the quality figures; misuse and no-fault-found are the claims' rejections)."""
    from django.db.models import Count

    rows = (selectors.old_part_queryset(user).exclude(verdict="").values("part__component", "verdict")
            .annotate(n=Count("id")).order_by("part__component", "verdict"))
    return [{"component": r["part__component"], "verdict": r["verdict"], "count": r["n"]} for r in rows]
