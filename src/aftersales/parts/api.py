"""The parts and claims API: catalogue, stock and its ledger, requisitions, old parts, warranty claims,
monthly settlements and the measures for the statistics centre. Scoped like everything else: a
partner sees its own warehouses, requisitions, old parts, claims and settlements; others are 404."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import hashlib
import json

from django.core.serializers.json import DjangoJSONEncoder
from ninja import Field, Header, Query, Router, Schema, Status

from aftersales.api.errors import COMMON_ERRORS, ErrorOut
from aftersales.core.types import DbInt
from aftersales.parts import claims, selectors, services
from aftersales.parts.models import Claim, Requisition, Settlement

router = Router(tags=["Parts and claims / 备件与索赔"])
WRITE = {**COMMON_ERRORS, 409: ErrorOut}


class PriceOut(Schema):
    audience: str
    level: str
    price: Decimal
    valid_from: date
    valid_until: date | None


class PartOut(Schema):
    id: int
    number: str
    name_zh: str
    name_en: str
    unit: str
    component: str
    wear_part: bool
    serial_tracked: bool
    return_required: bool
    superseded_by: str | None
    standard_cost: Decimal
    model_codes: list[str]
    prices: list[PriceOut]


def part_out(p) -> dict:
    return {"id": p.pk, "number": p.number, "name_zh": p.name_zh, "name_en": p.name_en, "unit": p.unit,
            "component": p.component, "wear_part": p.wear_part, "serial_tracked": p.serial_tracked,
            "return_required": p.return_required, "superseded_by": p.superseded_by.number if p.superseded_by else None,
            "standard_cost": p.standard_cost, "model_codes": [m.code for m in p.models_fitted.all()],
            "prices": [{"audience": x.audience, "level": x.level, "price": x.price, "valid_from": x.valid_from,
                        "valid_until": x.valid_until} for x in p.prices.all()]}


@router.get("/parts", response={200: list[PartOut], **COMMON_ERRORS}, summary="Parts catalogue / 备件目录")
def part_list(request, q: str = Query("", max_length=40), limit: int = Query(100, ge=1, le=500)):
    qs = selectors.part_queryset(request.user).prefetch_related("models_fitted", "prices")
    if q:
        from django.db.models import Q

        qs = qs.filter(Q(number__icontains=q) | Q(name_zh__icontains=q) | Q(name_en__icontains=q))
    return [part_out(p) for p in qs[:limit]]


@router.get("/parts/{part_id}", response={200: PartOut, **COMMON_ERRORS}, summary="A part / 备件")
def part_get(request, part_id: DbInt):
    return part_out(selectors.part_get(request.user, part_id))


class WarehouseOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    organization_id: int
    technician_id: int | None


class BalanceOut(Schema):
    warehouse_id: int
    part_id: int
    part_number: str
    part_name: str
    quantity: Decimal
    reorder_point: Decimal
    reorder_quantity: Decimal
    serials: list[str]


@router.get("/warehouses", response={200: list[WarehouseOut], **COMMON_ERRORS}, summary="Warehouses / 仓库")
def warehouse_list(request):
    return [{"id": w.pk, "code": w.code, "name": w.name, "kind": w.kind, "organization_id": w.organization_id,
             "technician_id": w.technician_id} for w in selectors.warehouse_queryset(request.user)]


def _balances(user, warehouse) -> list[dict]:
    from aftersales.parts.models import SerialUnit

    serials: dict[int, list[str]] = {}
    for part_id, serial in SerialUnit.objects.filter(warehouse=warehouse, in_transit=False).values_list("part_id", "serial"):
        serials.setdefault(part_id, []).append(serial)
    return [{"warehouse_id": b.warehouse_id, "part_id": b.part_id, "part_number": b.part.number,
             "part_name": b.part.name_zh, "quantity": b.quantity, "reorder_point": b.reorder_point,
             "reorder_quantity": b.reorder_quantity, "serials": sorted(serials.get(b.part_id, []))}
            for b in selectors.balance_queryset(user).filter(warehouse=warehouse).order_by("part__number")]


@router.get("/warehouses/{warehouse_id}/stock", response={200: list[BalanceOut], **COMMON_ERRORS},
            summary="Stock of a warehouse / 库存")
def warehouse_stock(request, warehouse_id: DbInt):
    return _balances(request.user, selectors.warehouse_get(request.user, warehouse_id))


@router.get("/my-van", response={200: list[BalanceOut], **COMMON_ERRORS}, summary="My van's stock / 我的车载库存")
def my_van(request):
    van = selectors.van_of(request.user)
    return _balances(request.user, van) if van else []


class MoveOut(Schema):
    id: int
    warehouse_id: int
    part_number: str
    kind: str
    quantity: Decimal
    serial: str
    tracking_number: str
    reason: str
    order_id: int | None
    requisition_id: int | None
    at: datetime


def move_out(m) -> dict:
    return {"id": m.pk, "warehouse_id": m.warehouse_id, "part_number": m.part.number, "kind": m.kind,
            "quantity": m.quantity, "serial": m.serial, "tracking_number": m.tracking_number, "reason": m.reason,
            "order_id": m.order_id, "requisition_id": m.requisition_id, "at": m.at}


@router.get("/stock/moves", response={200: list[MoveOut], **COMMON_ERRORS}, summary="Stock ledger / 库存台账")
def move_list(request, warehouse_id: DbInt | None = None, part_id: DbInt | None = None,
              limit: int = Query(100, ge=1, le=1000)):
    qs = selectors.move_queryset(request.user)
    if warehouse_id:
        qs = qs.filter(warehouse_id=warehouse_id)
    if part_id:
        qs = qs.filter(part_id=part_id)
    return [move_out(m) for m in qs[:limit]]


class ReceiptIn(Schema):
    warehouse_id: DbInt
    part_id: DbInt
    quantity: Decimal = Field(..., max_digits=12, decimal_places=2)
    unit_cost: Decimal = Field(Decimal(0), max_digits=14, decimal_places=2)
    serial: str = Field("", max_length=60)
    tracking_number: str = Field("", max_length=60)
    reason: str = Field("", max_length=300)


class TransferIn(Schema):
    from_warehouse_id: DbInt
    to_warehouse_id: DbInt
    part_id: DbInt
    quantity: Decimal = Field(..., max_digits=12, decimal_places=2)
    tracking_number: str = Field("", max_length=60)
    serial: str = Field("", max_length=60)


class AdjustIn(Schema):
    warehouse_id: DbInt
    part_id: DbInt
    quantity: Decimal = Field(..., max_digits=12, decimal_places=2, description="Signed: + found, − lost or damaged.")
    reason: str = Field(..., max_length=300)
    serial: str = Field("", max_length=60)


class CountIn(Schema):
    warehouse_id: DbInt
    part_id: DbInt
    counted: Decimal = Field(..., max_digits=12, decimal_places=2)
    reason: str = Field("", max_length=300)


class ReorderIn(Schema):
    warehouse_id: DbInt
    part_id: DbInt
    reorder_point: Decimal = Field(..., max_digits=12, decimal_places=2)
    reorder_quantity: Decimal = Field(..., max_digits=12, decimal_places=2)


@router.post("/stock/receipts", response={201: MoveOut, **WRITE}, summary="Receive parts / 入库")
def stock_receipt(request, payload: ReceiptIn):
    return Status(201, move_out(services.stock_receive(actor=request.user, **payload.model_dump())))


@router.post("/stock/transfers", response={201: list[MoveOut], **WRITE}, summary="Transfer parts / 调拨")
def stock_transfer(request, payload: TransferIn):
    return Status(201, [move_out(m) for m in services.stock_transfer(actor=request.user, **payload.model_dump())])


@router.post("/stock/adjustments", response={201: MoveOut, **WRITE}, summary="Adjust stock with a reason / 库存调整")
def stock_adjust(request, payload: AdjustIn):
    return Status(201, move_out(services.stock_adjust(actor=request.user, **payload.model_dump())))


@router.post("/stock/counts", response={200: MoveOut | None, **WRITE}, summary="Stocktake / 盘点")
def stock_count(request, payload: CountIn):
    move = services.stock_count(actor=request.user, **payload.model_dump())
    return move_out(move) if move else None


@router.post("/stock/reorder-points", response={200: BalanceOut, **WRITE}, summary="Set a reorder point / 设置补货点")
def stock_reorder(request, payload: ReorderIn):
    b = services.reorder_set(actor=request.user, **payload.model_dump())
    return {"warehouse_id": b.warehouse_id, "part_id": b.part_id, "part_number": b.part.number,
            "part_name": b.part.name_zh, "quantity": b.quantity, "reorder_point": b.reorder_point,
            "reorder_quantity": b.reorder_quantity, "serials": []}


class SuggestionOut(Schema):
    warehouse_id: int
    part_id: int
    part_number: str
    on_hand: Decimal
    pending: Decimal
    reorder_point: Decimal
    suggested: Decimal


@router.get("/stock/replenishment", response={200: list[SuggestionOut], **COMMON_ERRORS},
            summary="Replenishment suggestion / 补货建议")
def replenishment(request, warehouse_id: DbInt | None = None):
    wh = selectors.warehouse_get(request.user, warehouse_id) if warehouse_id else None
    return [{"warehouse_id": r["balance"].warehouse_id, "part_id": r["balance"].part_id,
             "part_number": r["balance"].part.number, "on_hand": r["balance"].quantity, "pending": r["pending"],
             "reorder_point": r["balance"].reorder_point, "suggested": r["suggested"]}
            for r in selectors.replenishment(request.user, wh)]


# --- requisitions --------------------------------------------------------------------------------------

class LineIn(Schema):
    part_id: DbInt
    quantity: Decimal = Field(..., max_digits=12, decimal_places=2)


class RequisitionIn(Schema):
    lines: list[LineIn] = Field(..., min_length=1, max_length=50)
    to_warehouse_id: DbInt | None = Field(None, description="Default: your van, else your organization's warehouse.")
    order_id: DbInt | None = Field(None, description="For this order: it waits for parts (SLA clock paused).")
    note: str = Field("", max_length=300)


class LineOut(Schema):
    id: int
    part_id: int
    part_number: str
    quantity: Decimal
    approved: Decimal | None
    serials: list[str]


class RequisitionOut(Schema):
    id: int
    number: str
    status: str
    organization_id: int
    to_warehouse_id: int
    from_warehouse_id: int | None
    order_id: int | None
    note: str
    decision_note: str
    tracking_number: str
    clock_paused: bool
    waiting_days: int
    created_at: datetime
    shipped_at: datetime | None
    received_at: datetime | None
    version: int
    lines: list[LineOut]


def requisition_out(r: Requisition) -> dict:
    return {"id": r.pk, "number": r.number, "status": r.status, "organization_id": r.organization_id,
            "to_warehouse_id": r.to_warehouse_id, "from_warehouse_id": r.from_warehouse_id, "order_id": r.order_id,
            "note": r.note, "decision_note": r.decision_note, "tracking_number": r.tracking_number,
            "clock_paused": r.clock_paused, "waiting_days": r.waiting_days, "created_at": r.created_at,
            "shipped_at": r.shipped_at, "received_at": r.received_at, "version": r.version,
            "lines": [{"id": ln.pk, "part_id": ln.part_id, "part_number": ln.part.number, "quantity": ln.quantity,
                       "approved": ln.approved, "serials": ln.serials} for ln in r.lines.select_related("part")]}


@router.get("/requisitions", response={200: list[RequisitionOut], **COMMON_ERRORS}, summary="Requisitions / 备件申请")
def requisition_list(request, status: str = Query("", max_length=10), limit: int = Query(100, ge=1, le=500)):
    qs = selectors.requisition_queryset(request.user)
    if status:
        qs = qs.filter(status=status)
    return [requisition_out(r) for r in qs[:limit]]


@router.post("/requisitions", response={200: RequisitionOut, 201: RequisitionOut, **WRITE},
             summary="Ask for parts / 申请备件")
def requisition_create(request, payload: RequisitionIn,
                       idempotency_key: str = Header("", alias="Idempotency-Key", max_length=94)):
    """With an ``Idempotency-Key`` a retry answers 200 with the first requisition instead of asking twice."""
    kwargs = {"to_warehouse_id": payload.to_warehouse_id, "order_id": payload.order_id, "note": payload.note,
              "lines": [services.LineInput(part_id=ln.part_id, quantity=ln.quantity) for ln in payload.lines]}
    if idempotency_key:
        body = hashlib.sha256(json.dumps(payload.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()
        answer, replayed = services.requisition_create_once(actor=request.user, idempotency_key=idempotency_key,
                                                            request_hash=body, render=requisition_out_json, **kwargs)
        return Status(200 if replayed else 201, answer)
    return Status(201, requisition_out(services.requisition_create(actor=request.user, **kwargs)))


def requisition_out_json(r: Requisition) -> dict:
    return json.loads(json.dumps(requisition_out(r), cls=DjangoJSONEncoder))


@router.get("/requisitions/{requisition_id}", response={200: RequisitionOut, **COMMON_ERRORS},
            summary="A requisition / 备件申请单")
def requisition_get(request, requisition_id: DbInt):
    return requisition_out(selectors.requisition_get(request.user, requisition_id))


class ApproveIn(Schema):
    version: int
    approved: dict[int, Decimal] = Field({}, description="Line id → approved quantity (less than asked, or 0).")
    from_warehouse_id: DbInt | None = None
    note: str = Field("", max_length=300)


class RejectIn(Schema):
    version: int
    note: str = Field(..., max_length=300)


class ShipIn(Schema):
    version: int
    tracking_number: str = Field(..., max_length=60)
    serials: dict[int, list[str]] = Field({}, description="Line id → serial numbers of a serial-tracked part.")


class VersionIn(Schema):
    version: int


@router.post("/requisitions/{requisition_id}/actions/approve", response={200: RequisitionOut, **WRITE},
             summary="Approve a requisition (or part of it) / 审批")
def requisition_approve(request, requisition_id: DbInt, payload: ApproveIn):
    return requisition_out(services.requisition_approve(actor=request.user, requisition_id=requisition_id,
                                                        **payload.model_dump()))


@router.post("/requisitions/{requisition_id}/actions/reject", response={200: RequisitionOut, **WRITE},
             summary="Reject a requisition / 驳回")
def requisition_reject(request, requisition_id: DbInt, payload: RejectIn):
    return requisition_out(services.requisition_reject(actor=request.user, requisition_id=requisition_id,
                                                       **payload.model_dump()))


@router.post("/requisitions/{requisition_id}/actions/ship", response={200: RequisitionOut, **WRITE},
             summary="Ship a requisition / 发货")
def requisition_ship(request, requisition_id: DbInt, payload: ShipIn):
    return requisition_out(services.requisition_ship(actor=request.user, requisition_id=requisition_id,
                                                     **payload.model_dump()))


@router.post("/requisitions/{requisition_id}/actions/receive", response={200: RequisitionOut, **WRITE},
             summary="Confirm receipt / 收货确认")
def requisition_receive(request, requisition_id: DbInt, payload: VersionIn):
    return requisition_out(services.requisition_receive(actor=request.user, requisition_id=requisition_id,
                                                        **payload.model_dump()))


# --- old parts -----------------------------------------------------------------------------------------

class OldPartOut(Schema):
    id: int
    tag: str
    order_id: int
    organization_id: int
    part_number: str
    quantity: Decimal
    serial: str
    status: str
    batch_id: int | None
    verdict: str
    inspection_note: str


def old_part_out(o) -> dict:
    return {"id": o.pk, "tag": o.tag, "order_id": o.order_id, "organization_id": o.organization_id,
            "part_number": o.part.number, "quantity": o.quantity, "serial": o.serial, "status": o.status,
            "batch_id": o.batch_id, "verdict": o.verdict, "inspection_note": o.inspection_note}


class BatchIn(Schema):
    old_part_ids: list[DbInt] = Field(..., min_length=1, max_length=200)
    tracking_number: str = Field(..., max_length=60)


class BatchOut(Schema):
    id: int
    number: str
    organization_id: int
    tracking_number: str
    shipped_at: datetime
    received_at: datetime | None


def batch_out(b) -> dict:
    return {"id": b.pk, "number": b.number, "organization_id": b.organization_id, "tracking_number": b.tracking_number,
            "shipped_at": b.shipped_at, "received_at": b.received_at}


class InspectIn(Schema):
    verdict: str = Field(..., max_length=16, description="confirmed_fault, misuse, no_fault_found or not_returned")
    note: str = Field("", max_length=300)


@router.get("/old-parts", response={200: list[OldPartOut], **COMMON_ERRORS}, summary="Old parts / 旧件")
def old_part_list(request, status: str = Query("", max_length=10), limit: int = Query(200, ge=1, le=1000)):
    qs = selectors.old_part_queryset(request.user)
    if status:
        qs = qs.filter(status=status)
    return [old_part_out(o) for o in qs[:limit]]


@router.post("/old-parts/batches", response={201: BatchOut, **WRITE}, summary="Ship old parts back / 旧件返回")
def old_parts_ship(request, payload: BatchIn):
    return Status(201, batch_out(services.old_parts_ship(actor=request.user, **payload.model_dump())))


@router.post("/old-parts/batches/{batch_id}/receive", response={200: BatchOut, **WRITE},
             summary="Receive a batch of old parts / 旧件签收")
def batch_receive(request, batch_id: DbInt):
    return batch_out(services.batch_receive(actor=request.user, batch_id=batch_id))


@router.post("/old-parts/{old_part_id}/inspect", response={200: OldPartOut, **WRITE}, summary="Inspect an old part / 旧件鉴定")
def old_part_inspect(request, old_part_id: DbInt, payload: InspectIn):
    return old_part_out(services.old_part_inspect(actor=request.user, old_part_id=old_part_id, **payload.model_dump()))


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
