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
from aftersales.parts import returns, selectors, services
from aftersales.parts.models import Requisition

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


def part_out(part) -> dict:
    return {"id": part.pk, "number": part.number, "name_zh": part.name_zh, "name_en": part.name_en, "unit": part.unit,
            "component": part.component, "wear_part": part.wear_part, "serial_tracked": part.serial_tracked,
            "return_required": part.return_required, "superseded_by": part.superseded_by.number if part.superseded_by else None,
            "standard_cost": part.standard_cost, "model_codes": [m.code for m in part.models_fitted.all()],
            "prices": [{"audience": x.audience, "level": x.level, "price": x.price, "valid_from": x.valid_from,
                        "valid_until": x.valid_until} for x in part.prices.all()]}


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


@router.post("/my-van/open", response={200: WarehouseOut, **COMMON_ERRORS}, summary="Open my van's stock / 开通车载库")
def my_van_open(request):
    """A field technician's van stock, made once; asking again answers the same van."""
    w = services.van_open(actor=request.user)
    return {"id": w.pk, "code": w.code, "name": w.name, "kind": w.kind, "organization_id": w.organization_id,
            "technician_id": w.technician_id}


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
    in_transit: Decimal = Field(Decimal(0), description="Shipped and not yet received (from the ledger).")


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


def requisition_out(r: Requisition, transit: dict | None = None) -> dict:
    transit = (selectors.requisition_transit([r]) if transit is None else transit).get(r.pk, {})
    return {"id": r.pk, "number": r.number, "status": r.status, "organization_id": r.organization_id,
            "to_warehouse_id": r.to_warehouse_id, "from_warehouse_id": r.from_warehouse_id, "order_id": r.order_id,
            "note": r.note, "decision_note": r.decision_note, "tracking_number": r.tracking_number,
            "clock_paused": r.clock_paused, "waiting_days": r.waiting_days, "created_at": r.created_at,
            "shipped_at": r.shipped_at, "received_at": r.received_at, "version": r.version,
            "lines": [{"id": ln.pk, "part_id": ln.part_id, "part_number": ln.part.number, "quantity": ln.quantity,
                       "approved": ln.approved, "serials": ln.serials, "in_transit": transit.get(ln.part_id, Decimal(0))}
                      for ln in r.lines.select_related("part")]}


@router.get("/requisitions", response={200: list[RequisitionOut], **COMMON_ERRORS}, summary="Requisitions / 备件申请")
def requisition_list(request, status: str = Query("", max_length=10), limit: int = Query(100, ge=1, le=500)):
    qs = selectors.requisition_queryset(request.user)
    if status:
        qs = qs.filter(status=status)
    rows = list(qs[:limit])
    transit = selectors.requisition_transit(rows)
    return [requisition_out(r, transit) for r in rows]


class TransitOut(Schema):
    to_warehouse_id: int
    from_warehouse_id: int
    part_id: int
    part_number: str
    quantity: Decimal


@router.get("/in-transit", response={200: list[TransitOut], **COMMON_ERRORS}, summary="Stock in transit / 在途库存")
def in_transit(request, warehouse_id: DbInt | None = None):
    """What left one warehouse for another and has not been received, from the ledger, per destination,
    sender and part (a warehouse given: to or from it)."""
    warehouse = selectors.warehouse_get(request.user, warehouse_id) if warehouse_id is not None else None
    return [{"to_warehouse_id": t["to_warehouse"].pk, "from_warehouse_id": t["from_warehouse"].pk,
             "part_id": t["part"].pk, "part_number": t["part"].number, "quantity": t["quantity"]}
            for t in selectors.in_transit(request.user, warehouse=warehouse)]


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
    return Status(201, batch_out(returns.old_parts_ship(actor=request.user, **payload.model_dump())))


@router.post("/old-parts/batches/{batch_id}/receive", response={200: BatchOut, **WRITE},
             summary="Receive a batch of old parts / 旧件签收")
def batch_receive(request, batch_id: DbInt):
    return batch_out(returns.batch_receive(actor=request.user, batch_id=batch_id))


@router.post("/old-parts/{old_part_id}/inspect", response={200: OldPartOut, **WRITE}, summary="Inspect an old part / 旧件鉴定")
def old_part_inspect(request, old_part_id: DbInt, payload: InspectIn):
    return old_part_out(returns.old_part_inspect(actor=request.user, old_part_id=old_part_id, **payload.model_dump()))
