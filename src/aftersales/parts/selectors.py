"""Every read of parts data, scoped to the user: the maker's centres see the whole network, a partner
its own organization's warehouses, requisitions, old parts, claims and settlements. Anything else is a
404, exactly like an id that does not exist."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db.models import QuerySet, Sum
from django.utils.translation import gettext as _

from aftersales.accounts.policies import sees_whole_network
from aftersales.core.errors import NotFound
from aftersales.parts.models import (
    Claim,
    OldPart,
    Part,
    PartPrice,
    Requisition,
    ReturnBatch,
    Settlement,
    StockBalance,
    StockMove,
    Warehouse,
)


def _org_scoped(user, qs: QuerySet, field: str = "organization") -> QuerySet:
    if not (user.is_authenticated and user.is_active):
        return qs.none()
    if sees_whole_network(user):
        return qs
    if user.organization_id is None:
        return qs.none()
    return qs.filter(**{f"{field}_id": user.organization_id})


def _get(qs: QuerySet, pk: int, message: str):
    obj = qs.filter(pk=pk).first()
    if obj is None:
        raise NotFound(message)
    return obj


def part_queryset(user) -> QuerySet[Part]:
    """The catalogue is not tenant data: everyone of the network reads it."""
    if not (user.is_authenticated and user.is_active):
        return Part.objects.none()
    return Part.objects.select_related("superseded_by")


def part_get(user, pk: int) -> Part:
    return _get(part_queryset(user), pk, _("Part not found."))


def price_for(part: Part, audience: str, level: str = "", on: date | None = None) -> Decimal | None:
    """The price in force on ``on`` for the level, else the audience's general price; None if neither."""
    from django.utils import timezone

    on = on or timezone.localdate()
    rows = [p for p in PartPrice.objects.filter(part=part, audience=audience, level__in=[level, ""],
                                                valid_from__lte=on).order_by("-valid_from")
            if p.valid_until is None or p.valid_until >= on]
    for wanted in (level, ""):
        for p in rows:
            if p.level == wanted:
                return p.price
    return None


def warehouse_queryset(user) -> QuerySet[Warehouse]:
    return _org_scoped(user, Warehouse.objects.select_related("organization", "technician"))


def warehouse_get(user, pk: int) -> Warehouse:
    return _get(warehouse_queryset(user), pk, _("Warehouse not found."))


def van_of(user) -> Warehouse | None:
    return Warehouse.objects.filter(technician=user, is_active=True).first()


def balance_queryset(user) -> QuerySet[StockBalance]:
    return _org_scoped(user, StockBalance.objects.select_related("warehouse", "part"), "warehouse__organization")


def move_queryset(user) -> QuerySet[StockMove]:
    return _org_scoped(user, StockMove.objects.select_related("warehouse", "part", "order"), "warehouse__organization")


def requisition_queryset(user) -> QuerySet[Requisition]:
    return _org_scoped(user, Requisition.objects.select_related("to_warehouse", "from_warehouse", "order",
                                                                "requested_by", "organization"))


def requisition_get(user, pk: int) -> Requisition:
    return _get(requisition_queryset(user), pk, _("Requisition not found."))


def order_requisitions(user, order) -> list[Requisition]:
    """The order page's parts: its requisitions the user may see (a waiting one says 待件)."""
    return list(requisition_queryset(user).filter(order=order).prefetch_related("lines__part"))


def parts_waits(machine) -> list:
    """待件 as the warranty engine counts it: each requisition for a repair order of this machine,
    from the day it was requested to the day the parts arrived (still open: up to today; refused:
    up to the refusal). A paid repair's wait is the user's own and extends nothing. Not scoped to
    a user: it is a fact about the machine, read for whoever asks about its cover."""
    from django.utils import timezone

    from aftersales.service.models import OrderStatus, OrderType, ServiceMode
    from aftersales.warranty.engine import PartsWait

    rows = (Requisition.objects.filter(order__machine=machine, order__order_type=OrderType.REPAIR)
            .exclude(order__status=OrderStatus.CANCELLED).order_by("created_at", "pk")
            .values_list("number", "created_at", "received_at", "decided_at", "status", "order__service_mode"))
    out = []
    for number, created_at, received_at, decided_at, status, mode in rows:
        end = received_at or (decided_at if status == "rejected" else None)
        started = timezone.localdate(created_at)
        out.append(PartsWait(started=started, finished=max(timezone.localdate(end), started) if end else None,
                             reference=number, under_warranty=mode != ServiceMode.PAID))
    return out


def warranty_now(order) -> dict | None:
    """The machine's 三包 today, for an order that waited for parts: the whole machine's end date with
    the days the waiting added and the engine's reason for them (the order keeps its intake answer;
    this is the machine's answer now). None without a machine or with facts the engine refuses."""
    from aftersales.core.errors import DomainError
    from aftersales.service.services.common import _shanghai_today
    from aftersales.warranty.services import evaluate_machine

    if order.machine_id is None:
        return None
    try:
        answer = evaluate_machine(machine=order.machine, on=_shanghai_today())
    except DomainError:
        return None
    return warranty_summary(answer)


def warranty_summary(answer: dict) -> dict:
    """The whole machine's cover from an evaluation, with the 待件 reason (empty when none)."""
    whole = answer["coverage"]["whole_machine"]
    reason = next((r for r in answer["reasons"] if r["code"] == "extension_parts_wait"), None)
    return {"state": whole.get("state", ""), "end": whole.get("end"), "extension_days": whole.get("extension_days", 0),
            "parts_wait_days": whole.get("parts_wait_days", 0), "reason": reason}


def _qty(q) -> Decimal:
    # SQLite sums decimals as floats: back to the ledger's two places.
    return Decimal(str(q)).quantize(Decimal("0.01"))


def in_transit(user, *, warehouse: Warehouse | None = None) -> list[dict]:
    """在途: what left one warehouse for another and has not arrived, from the ledger alone (every
    transfer out names its destination; what that warehouse took in from the sender is subtracted),
    per destination, sender and part; only rows where the user may see either warehouse."""
    from django.db.models import Q

    from aftersales.parts.models import MoveKind

    seen = warehouse_queryset(user)
    if warehouse is not None:
        seen = seen.filter(pk=warehouse.pk)
    ids = list(seen.values_list("pk", flat=True))
    if not ids:
        return []
    moves = StockMove.objects.filter(Q(warehouse_id__in=ids) | Q(counterpart_id__in=ids),
                                     kind__in=[MoveKind.TRANSFER_OUT, MoveKind.TRANSFER_IN]).order_by()
    totals: dict[tuple[int, int, int], Decimal] = {}
    for kind, at, other, part_id, q in (moves.values("kind", "warehouse_id", "counterpart_id", "part_id")
                                        .annotate(q=Sum("quantity"))
                                        .values_list("kind", "warehouse_id", "counterpart_id", "part_id", "q")):
        # Keyed (destination, sender, part): an out line (negative) counts up, the matching in line down.
        key = (other, at, part_id) if kind == MoveKind.TRANSFER_OUT else (at, other, part_id)
        totals[key] = totals.get(key, Decimal(0)) - _qty(q)
    rows = [(k, v) for k, v in totals.items()
            if v > 0 and None not in k[:2] and (warehouse is None or warehouse.pk in k[:2])]
    if not rows:
        return []
    names = {w.pk: w for w in Warehouse.objects.filter(pk__in={x for k, _v in rows for x in k[:2]})}
    parts = {p.pk: p for p in Part.objects.filter(pk__in={k[2] for k, _v in rows})}
    return [{"to_warehouse": names.get(k[0]), "from_warehouse": names.get(k[1]), "part": parts[k[2]], "quantity": v}
            for k, v in sorted(rows, key=lambda kv: (kv[0][0] or 0, parts[kv[0][2]].number))]


def requisition_transit(requisitions) -> dict[int, dict[int, Decimal]]:
    """Per requisition and part, what was shipped and not yet received, from its ledger lines."""
    from aftersales.parts.models import MoveKind

    out: dict[int, dict[int, Decimal]] = {}
    ids = [r.pk for r in requisitions if r.status == "shipped"]
    if not ids:
        return out
    for req_id, part_id, q in (StockMove.objects.filter(requisition_id__in=ids, kind__in=[MoveKind.TRANSFER_OUT,
                                                                                          MoveKind.TRANSFER_IN])
                               .order_by().values("requisition_id", "part_id").annotate(q=Sum("quantity"))
                               .values_list("requisition_id", "part_id", "q")):
        if q and -_qty(q) > 0:
            out.setdefault(req_id, {})[part_id] = -_qty(q)
    return out


def old_part_queryset(user) -> QuerySet[OldPart]:
    return _org_scoped(user, OldPart.objects.select_related("order", "part", "batch", "organization"))


def batch_queryset(user) -> QuerySet[ReturnBatch]:
    return _org_scoped(user, ReturnBatch.objects.select_related("organization"))


def claim_queryset(user) -> QuerySet[Claim]:
    return _org_scoped(user, Claim.objects.select_related("order", "order__machine", "order__machine__model",
                                                          "organization", "settlement"))


def claim_get(user, pk: int) -> Claim:
    return _get(claim_queryset(user), pk, _("Claim not found."))


def settlement_queryset(user) -> QuerySet[Settlement]:
    return _org_scoped(user, Settlement.objects.select_related("organization"))


def settlement_get(user, pk: int) -> Settlement:
    return _get(settlement_queryset(user), pk, _("Settlement not found."))


def ledger_differences() -> list[dict]:
    """Cached balances that differ from the sum of their ledger lines (should be none)."""
    sums = {(w, p): q for w, p, q in StockMove.objects.order_by().values("warehouse_id", "part_id")
            .annotate(q=Sum("quantity")).values_list("warehouse_id", "part_id", "q")}
    out = []
    seen = set()
    for b in StockBalance.objects.values("warehouse_id", "part_id", "quantity"):
        key = (b["warehouse_id"], b["part_id"])
        seen.add(key)
        ledger = sums.get(key) or Decimal(0)
        if ledger != b["quantity"]:
            out.append({"warehouse_id": key[0], "part_id": key[1], "cached": b["quantity"], "ledger": ledger})
    for key, q in sums.items():
        if key not in seen and q:
            out.append({"warehouse_id": key[0], "part_id": key[1], "cached": None, "ledger": q})
    return out


def replenishment(user, warehouse: Warehouse | None = None) -> list[dict]:
    """补货建议: balances at or below their reorder point, with the quantity to order up to
    reorder point + reorder quantity (less what is already requested and not yet received)."""
    from aftersales.parts.models import RequisitionLine, RequisitionStatus

    qs = balance_queryset(user).filter(reorder_point__gt=0)
    if warehouse is not None:
        qs = qs.filter(warehouse=warehouse)
    open_lines: dict[tuple[int, int], Decimal] = {}
    for w, p, q, a in RequisitionLine.objects.filter(
            requisition__status__in=[RequisitionStatus.REQUESTED, RequisitionStatus.APPROVED, RequisitionStatus.SHIPPED]
    ).values_list("requisition__to_warehouse_id", "part_id", "quantity", "approved"):
        open_lines[(w, p)] = open_lines.get((w, p), Decimal(0)) + (a if a is not None else q)
    out = []
    for b in qs.order_by("warehouse__code", "part__number"):
        pending = open_lines.get((b.warehouse_id, b.part_id), Decimal(0))
        if b.quantity + pending <= b.reorder_point:
            suggest = b.reorder_point + b.reorder_quantity - b.quantity - pending
            out.append({"balance": b, "pending": pending, "suggested": max(suggest, Decimal(1))})
    return out
