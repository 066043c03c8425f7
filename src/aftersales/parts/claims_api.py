"""The warranty claims and monthly settlements API (三包索赔与结算), and the measures for the statistics
centre; split from parts/api.py by what it holds. A partner sees its own claims and settlements; others are 404."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal


from ninja import Field, Query, Router, Schema, Status

from aftersales.api.errors import COMMON_ERRORS, ErrorOut
from aftersales.core.types import DbInt
from aftersales.parts import claims, selectors
from aftersales.parts.models import Claim, Settlement

router = Router(tags=["Parts and claims / 备件与索赔"])  # the same tag: one section in the OpenAPI document
WRITE = {**COMMON_ERRORS, 409: ErrorOut}


# --- claims and settlements ----------------------------------------------------------------------------

class ClaimLineOut(Schema):
    id: int
    kind: str
    description: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    approved_amount: Decimal | None


class ClaimOut(Schema):
    id: int
    number: str
    order_id: int
    order_number: str
    organization_id: int
    status: str
    parts_amount: Decimal
    labour_amount: Decimal
    travel_amount: Decimal
    total: Decimal
    approved_total: Decimal | None
    claimed_km: Decimal | None
    computed_km: Decimal | None
    flags: list[str]
    review_reason: str
    settlement_id: int | None
    completed_at: datetime
    submitted_at: datetime | None
    version: int
    lines: list[ClaimLineOut]


def claim_out(c: Claim) -> dict:
    return {"id": c.pk, "number": c.number, "order_id": c.order_id, "order_number": c.order.number,
            "organization_id": c.organization_id, "status": c.status, "parts_amount": c.parts_amount,
            "labour_amount": c.labour_amount, "travel_amount": c.travel_amount, "total": c.total,
            "approved_total": c.approved_total, "claimed_km": c.claimed_km, "computed_km": c.computed_km,
            "flags": c.flags, "review_reason": c.review_reason, "settlement_id": c.settlement_id,
            "completed_at": c.completed_at, "submitted_at": c.submitted_at, "version": c.version,
            "lines": [{"id": ln.pk, "kind": ln.kind, "description": ln.description, "quantity": ln.quantity,
                       "unit_price": ln.unit_price, "amount": ln.amount, "approved_amount": ln.approved_amount}
                      for ln in c.lines.all()]}


class SubmitIn(Schema):
    version: int
    claimed_km: Decimal | None = Field(None, max_digits=8, decimal_places=1)


class ReviewIn(Schema):
    version: int
    reason: str = Field("", max_length=300)
    amounts: dict[int, Decimal] = Field({}, description="adjust: line id → approved amount")


@router.get("/claims", response={200: list[ClaimOut], **COMMON_ERRORS}, summary="Warranty claims / 三包索赔")
def claim_list(request, status: str = Query("", max_length=10), flagged: bool = False,
               limit: int = Query(100, ge=1, le=500)):
    qs = selectors.claim_queryset(request.user).prefetch_related("lines")
    if status:
        qs = qs.filter(status=status)
    rows = [claim_out(c) for c in qs[:limit]]
    return [r for r in rows if set(r["flags"]) - claims.SOFT_FLAGS] if flagged else rows


@router.get("/claims/{claim_id}", response={200: ClaimOut, **COMMON_ERRORS}, summary="A warranty claim / 索赔单")
def claim_get(request, claim_id: DbInt):
    return claim_out(selectors.claim_get(request.user, claim_id))


@router.post("/claims/{claim_id}/actions/submit", response={200: ClaimOut, **WRITE}, summary="File a claim / 提交索赔")
def claim_submit(request, claim_id: DbInt, payload: SubmitIn):
    return claim_out(claims.claim_submit(actor=request.user, claim_id=claim_id, **payload.model_dump()))


def _review_operation(decision: str, doc: str):
    def operation(request, claim_id: DbInt, payload: ReviewIn):
        return claim_out(claims.claim_review(actor=request.user, claim_id=claim_id, decision=decision,
                                             **payload.model_dump()))

    operation.__name__ = f"claim_{decision}"
    operation.__doc__ = doc
    router.post(f"/claims/{{claim_id}}/actions/{decision}", response={200: ClaimOut, **WRITE},
                summary=f"Claim: {decision}", operation_id=f"claim_{decision}")(operation)


_review_operation("approve", "Approve as claimed (a flagged claim needs a reason). / 审核通过")
_review_operation("adjust", "Approve with adjusted line amounts and a reason. / 调整后通过")
_review_operation("reject", "Reject with a reason. / 驳回")


class SettlementIn(Schema):
    organization_id: DbInt
    month: date = Field(..., description="Any day of the month settled.")


class PayIn(Schema):
    payment_reference: str = Field(..., max_length=60)


class SettlementOut(Schema):
    id: int
    number: str
    organization_id: int
    month: date
    status: str
    total: Decimal
    issued_at: datetime
    confirmed_at: datetime | None
    paid_at: datetime | None
    claims: list[ClaimOut]


def settlement_out(s: Settlement) -> dict:
    return {"id": s.pk, "number": s.number, "organization_id": s.organization_id, "month": s.month,
            "status": s.status, "total": s.total, "issued_at": s.issued_at, "confirmed_at": s.confirmed_at,
            "paid_at": s.paid_at, "claims": [claim_out(c) for c in s.claims.select_related("order").prefetch_related("lines")]}


@router.get("/settlements", response={200: list[SettlementOut], **COMMON_ERRORS}, summary="Settlements / 结算单")
def settlement_list(request, limit: int = Query(50, ge=1, le=200)):
    return [settlement_out(s) for s in selectors.settlement_queryset(request.user)[:limit]]


@router.post("/settlements", response={201: SettlementOut, **WRITE}, summary="Issue a monthly settlement / 生成月结单")
def settlement_issue(request, payload: SettlementIn):
    return Status(201, settlement_out(claims.settlement_issue(actor=request.user, **payload.model_dump())))


@router.get("/settlements/{settlement_id}", response={200: SettlementOut, **COMMON_ERRORS}, summary="A settlement / 结算单")
def settlement_get(request, settlement_id: DbInt):
    return settlement_out(selectors.settlement_get(request.user, settlement_id))


@router.post("/settlements/{settlement_id}/actions/confirm", response={200: SettlementOut, **WRITE},
             summary="The partner confirms / 服务商确认")
def settlement_confirm(request, settlement_id: DbInt):
    return settlement_out(claims.settlement_confirm(actor=request.user, settlement_id=settlement_id))


@router.post("/settlements/{settlement_id}/actions/pay", response={200: SettlementOut, **WRITE},
             summary="Record the payment / 付款")
def settlement_pay(request, settlement_id: DbInt, payload: PayIn):
    selectors.settlement_get(request.user, settlement_id)
    return settlement_out(claims.settlement_pay(actor=request.user, settlement_id=settlement_id,
                                                **payload.model_dump()))


class MeasuresOut(Schema):
    warranty_cost: list[dict] = Field(..., description="month, model, component, amount (approved claims)")
    stock_value: list[dict] = Field(..., description="warehouse, value at standard cost, issued in 365 days, turns")
    claims_per_partner: list[dict] = Field(..., description="claims, claimed, approved, rejected, flagged, reasons")
    old_part_verdicts: list[dict] = Field(..., description="component, verdict, count of the inspected old parts")


@router.get("/stats/parts-measures", response={200: MeasuresOut, **COMMON_ERRORS},
            summary="三包 cost, stock value and claims per partner / 备件与索赔指标")
def measures(request, since: date | None = None):
    return {"warranty_cost": claims.warranty_cost(request.user, since=since),
            "stock_value": claims.stock_value(request.user),
            "claims_per_partner": claims.claims_per_partner(request.user),
            "old_part_verdicts": claims.old_part_verdicts(request.user)}
