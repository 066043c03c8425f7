"""Every write of stock, requisitions and old parts, one function per action, each in one transaction.

The ledger (StockMove) is the truth; ``_post`` appends a line and moves the cached StockBalance in the
same transaction under the balance row's lock (``select_for_update``; on SQLite every write
transaction already holds the database's write lock from its BEGIN), so two requests issuing the last
unit are served one after the other: the second finds nothing left and is refused with 409
``insufficient_stock``. The check constraint on the balance is the last line of defence."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.core.errors import Conflict, DomainError, ValidationFailed
from aftersales.parts import policies, selectors
from aftersales.parts.models import (
    MoveKind,
    OldPart,
    OldPartStatus,
    Part,
    PartsCounter,
    Requisition,
    RequisitionLine,
    RequisitionStatus,
    SerialUnit,
    StockBalance,
    StockMove,
    Warehouse,
    WarehouseKind,
)

NOTHING_CHANGED = "Nothing was changed."


def _fail(**fields) -> None:
    raise ValidationFailed(_(NOTHING_CHANGED), fields=fields)


def _qty(value, field: str, *, allow_negative: bool = False, allow_zero: bool = False) -> Decimal:
    try:
        q = Decimal(str(value))
        if not q.is_finite() or q != q.quantize(Decimal("0.01")):
            raise InvalidOperation
    except (InvalidOperation, ValueError, TypeError):
        _fail(**{field: _("Enter a quantity (at most two decimals).")})
    if (q < 0 and not allow_negative) or (q == 0 and not allow_zero):
        _fail(**{field: _("The quantity must be more than zero.")})
    if abs(q) >= Decimal("1e10"):
        _fail(**{field: _("The quantity is too large.")})
    return q


def _money(value, field: str) -> Decimal:
    try:
        m = Decimal(str(value))
        if not m.is_finite() or m < 0 or m >= Decimal("1e12"):
            raise InvalidOperation
    except (InvalidOperation, ValueError, TypeError):
        _fail(**{field: _("Enter an amount of at least 0.")})
    return m.quantize(Decimal("0.01"))


def next_number(prefix: str) -> str:
    """BJ20261130-0007: one counter row per prefix and Shanghai day, taken under its row lock."""
    day = timezone.localdate()
    with transaction.atomic():
        try:
            with transaction.atomic():
                PartsCounter.objects.get_or_create(prefix=prefix, day=day)
        except IntegrityError:
            pass
        counter = PartsCounter.objects.select_for_update().get(prefix=prefix, day=day)
        counter.last += 1
        counter.save(update_fields=["last"])
    return f"{prefix}{day:%Y%m%d}-{counter.last:04d}"


def _balance_locked(warehouse: Warehouse, part: Part) -> StockBalance:
    row = StockBalance.objects.select_for_update().filter(warehouse=warehouse, part=part).first()
    if row is None:
        try:
            with transaction.atomic():
                StockBalance.objects.create(warehouse=warehouse, part=part)
        except IntegrityError:
            pass  # made by a concurrent request a moment ago
        row = StockBalance.objects.select_for_update().get(warehouse=warehouse, part=part)
    return row


def _post(*, warehouse: Warehouse, part: Part, quantity: Decimal, kind: str, actor, field: str = "quantity",
          serial: str = "", **fields) -> StockMove:
    """Append one ledger line and move the cached balance; never below zero."""
    balance = _balance_locked(warehouse, part)
    if balance.quantity + quantity < 0:
        raise Conflict(_("Not enough %(part)s in %(warehouse)s: %(have)s on hand.")
                       % {"part": part.number, "warehouse": warehouse.name, "have": balance.quantity},
                       code="insufficient_stock", fields={field: _("Not enough stock.")})
    StockBalance.objects.filter(pk=balance.pk).update(quantity=F("quantity") + quantity)
    if part.serial_tracked:
        _move_serial(part, serial, warehouse, quantity, kind, fields.get("order"), field)
    return StockMove.objects.create(warehouse=warehouse, part=part, quantity=quantity, kind=kind, actor=actor,
                                    serial=serial, at=timezone.now(), **fields)


def _move_serial(part: Part, serial: str, warehouse: Warehouse, quantity: Decimal, kind: str, order, field: str) -> None:
    """A serial-tracked part moves one unit at a time and keeps its serial through the chain."""
    if not serial:
        _fail(**{field.replace("quantity", "serial"): _("This part is serial-tracked: give the serial number.")})
    if abs(quantity) != 1:
        _fail(**{field: _("A serial-tracked part moves one unit at a time.")})
    unit = SerialUnit.objects.select_for_update().filter(part=part, serial=serial).first()
    if quantity > 0:
        if unit is not None and unit.warehouse_id is not None and unit.warehouse_id != warehouse.pk and not unit.in_transit:
            raise Conflict(_("This serial number is in another warehouse."), code="serial_elsewhere",
                           fields={"serial": _("This serial number is in another warehouse.")})
        if unit is None:
            SerialUnit.objects.create(part=part, serial=serial, warehouse=warehouse)
        else:
            SerialUnit.objects.filter(pk=unit.pk).update(warehouse=warehouse, order=None, in_transit=False)
    else:
        if unit is None or unit.warehouse_id != warehouse.pk or unit.in_transit:
            raise Conflict(_("This serial number is not in %(warehouse)s.") % {"warehouse": warehouse.name},
                           code="serial_not_here", fields={"serial": _("Not in this warehouse.")})
        SerialUnit.objects.filter(pk=unit.pk).update(
            warehouse=None if kind == MoveKind.ISSUE else warehouse, order=order if kind == MoveKind.ISSUE else None,
            in_transit=kind == MoveKind.TRANSFER_OUT)


def _warehouse_for_write(actor, warehouse_id: int) -> Warehouse:
    warehouse = selectors.warehouse_get(actor, warehouse_id)
    policies.check(policies.may_move_stock_of(actor, warehouse))
    return warehouse


def _part(actor, part_id: int, field: str = "part_id") -> Part:
    part = selectors.part_queryset(actor).filter(pk=part_id, is_active=True).first()
    if part is None:
        _fail(**{field: _("No such part in the catalogue.")})
    return part


# --- warehouses ---------------------------------------------------------------------------------------

def van_ensure(*, technician) -> Warehouse:
    """The technician's van (服务车): the one he has, else a new one of his organization. Called where a
    van is opened on purpose (``van_open``, the demo), never by a page that only reads."""
    van = Warehouse.objects.filter(technician=technician).first()
    if van is not None:
        return van
    try:
        with transaction.atomic():
            return Warehouse.objects.create(
                code=f"VAN-{technician.username}"[:40],
                name=_("Van of %(name)s") % {"name": technician.display_name or technician.username},
                kind=WarehouseKind.VAN, organization_id=technician.organization_id, technician=technician)
    except IntegrityError:
        # The same request twice at once (a double tap): the other one made it; one van either way.
        return Warehouse.objects.get(technician=technician)


def van_open(*, actor, technician=None) -> Warehouse:
    """开通车载库: a field technician opens his own van, or the parts desk or his organization's
    coordinator opens one for him. Opening an open van again gives the same van."""
    technician = technician or actor
    policies.check(technician.has_role("field_technician") and technician.organization_id is not None,
                   _("Only a field technician of an organization has a van."))
    if technician.pk != actor.pk:
        policies.check(policies.is_parts_desk(actor) or (
            actor.organization_id == technician.organization_id and actor.has_role("repair_coordinator", "supervisor")))
    return van_ensure(technician=technician)


def warehouse_create(*, actor, organization, code: str, name: str, kind: str) -> Warehouse:
    policies.check(policies.is_parts_desk(actor))
    if kind not in WarehouseKind.values:
        _fail(kind=_("Unknown warehouse kind."))
    if Warehouse.objects.filter(code=code).exists():
        raise Conflict(_("A warehouse with this code exists."), code="duplicate", fields={"code": _("Taken.")})
    return Warehouse.objects.create(organization=organization, code=code, name=name, kind=kind)


# --- stock movements ----------------------------------------------------------------------------------

def stock_receive(*, actor, warehouse_id: int, part_id: int, quantity, unit_cost=0, serial: str = "",
                  reason: str = "", tracking_number: str = "") -> StockMove:
    """入库: parts arrive from the factory or a supplier."""
    with transaction.atomic():
        warehouse = _warehouse_for_write(actor, warehouse_id)
        part = _part(actor, part_id)
        q = _qty(quantity, "quantity")
        return _post(warehouse=warehouse, part=part, quantity=q, kind=MoveKind.RECEIPT, actor=actor, serial=serial.strip(),
                     unit_cost=_money(unit_cost, "unit_cost"), reason=reason[:300], tracking_number=tracking_number[:60])


def stock_adjust(*, actor, warehouse_id: int, part_id: int, quantity, reason: str, serial: str = "") -> StockMove:
    """调整: a signed correction with its reason (damaged, found, lost)."""
    with transaction.atomic():
        warehouse = _warehouse_for_write(actor, warehouse_id)
        part = _part(actor, part_id)
        q = _qty(quantity, "quantity", allow_negative=True)
        if not (reason or "").strip():
            _fail(reason=_("Say why the stock is adjusted."))
        return _post(warehouse=warehouse, part=part, quantity=q, kind=MoveKind.ADJUSTMENT, actor=actor,
                     reason=reason.strip()[:300], serial=serial.strip())


def stock_count(*, actor, warehouse_id: int, part_id: int, counted, reason: str = "") -> StockMove | None:
    """盘点: the counted quantity replaces the book one; the difference is a stocktake line."""
    with transaction.atomic():
        warehouse = _warehouse_for_write(actor, warehouse_id)
        part = _part(actor, part_id)
        counted_q = _qty(counted, "counted", allow_zero=True)
        if part.serial_tracked:
            _fail(counted=_("Count serial-tracked parts by adjusting unit by unit."))
        balance = _balance_locked(warehouse, part)
        diff = counted_q - balance.quantity
        if diff == 0:
            return None
        return _post(warehouse=warehouse, part=part, quantity=diff, kind=MoveKind.STOCKTAKE, actor=actor,
                     field="counted", reason=(reason or _("Stocktake")).strip()[:300])


def stock_transfer(*, actor, from_warehouse_id: int, to_warehouse_id: int, part_id: int, quantity,
                   tracking_number: str = "", serial: str = "", requisition=None) -> tuple[StockMove, StockMove]:
    """调拨: out of one warehouse and into another (a van loaded from the branch, a branch returning to
    the centre). Both lines carry the tracking number and name each other's warehouse."""
    with transaction.atomic():
        source = _warehouse_for_write(actor, from_warehouse_id)
        if from_warehouse_id == to_warehouse_id:
            _fail(to_warehouse_id=_("A transfer needs another warehouse."))
        target = selectors.warehouse_queryset(actor).filter(pk=to_warehouse_id).first() or (
            Warehouse.objects.filter(pk=to_warehouse_id, kind=WarehouseKind.CENTRE).first())
        if target is None:
            _fail(to_warehouse_id=_("No such warehouse."))
        part = _part(actor, part_id)
        q = _qty(quantity, "quantity")
        common = {"tracking_number": (tracking_number or "")[:60], "requisition": requisition, "serial": serial.strip()}
        out = _post(warehouse=source, part=part, quantity=-q, kind=MoveKind.TRANSFER_OUT, actor=actor,
                    counterpart=target, **common)
        inn = _post(warehouse=target, part=part, quantity=q, kind=MoveKind.TRANSFER_IN, actor=actor,
                    counterpart=source, **common)
        return out, inn


def reorder_set(*, actor, warehouse_id: int, part_id: int, reorder_point, reorder_quantity) -> StockBalance:
    with transaction.atomic():
        warehouse = _warehouse_for_write(actor, warehouse_id)
        part = _part(actor, part_id)
        point = _qty(reorder_point, "reorder_point", allow_zero=True)
        qty = _qty(reorder_quantity, "reorder_quantity", allow_zero=True)
        balance = _balance_locked(warehouse, part)
        StockBalance.objects.filter(pk=balance.pk).update(reorder_point=point, reorder_quantity=qty)
        balance.refresh_from_db()
        return balance


# --- requisitions (备件申请) -----------------------------------------------------------------------------

@dataclass(frozen=True)
class LineInput:
    part_id: int
    quantity: Decimal | str | int
    serials: tuple[str, ...] = ()


def central_warehouse() -> Warehouse | None:
    return Warehouse.objects.filter(kind=WarehouseKind.CENTRE, is_active=True).order_by("pk").first()


def _pause_for_parts(actor, requisition: Requisition) -> None:
    """The order waits for parts: its SLA clock stops (the order's own pause_clock action, so the
    timeline and the clocks say so). Someone who may not keep the order's clock leaves it running."""
    from aftersales.service.services.lifecycle import order_pause_clock

    order = requisition.order
    try:
        order_pause_clock(actor=actor, order_id=order.pk, version=type(order).objects.get(pk=order.pk).version,
                          reason="waiting_parts", note=_("Parts requisition %(number)s") % {"number": requisition.number})
        requisition.clock_paused = True
    except DomainError:
        requisition.clock_paused = False


def _resume_after_parts(actor, requisition: Requisition) -> None:
    from aftersales.service.services.lifecycle import order_resume_clock

    if not requisition.clock_paused or requisition.order_id is None:
        return
    order_id = requisition.order_id
    others = Requisition.objects.filter(order_id=order_id, clock_paused=True).exclude(pk=requisition.pk).exclude(
        status__in=[RequisitionStatus.RECEIVED, RequisitionStatus.REJECTED])
    requisition.clock_paused = False
    if others.exists():
        return  # still waiting for another shipment
    from aftersales.service.models import ServiceOrder

    for who in (actor, requisition.requested_by):
        try:
            order_resume_clock(actor=who, order_id=order_id, version=ServiceOrder.objects.get(pk=order_id).version,
                               note=_("Parts of %(number)s received (%(days)s days waiting)")
                               % {"number": requisition.number, "days": requisition.waiting_days})
            return
        except DomainError:
            continue


def requisition_create_once(*, actor, idempotency_key: str, request_hash: str, render, **kwargs) -> tuple[dict, bool]:
    """``requisition_create`` with an Idempotency-Key: the key row (the order app's IdempotencyKey,
    namespaced ``parts:``) goes in first in the same transaction, so a concurrent retry waits on it and
    then replays the first answer; the same key with another body is refused. Answers (response, replayed)."""
    from aftersales.service.models import IdempotencyKey

    key = "parts:" + idempotency_key.strip()
    if len(key) > 100:
        _fail(**{"Idempotency-Key": _("At most %(limit)s characters.") % {"limit": 94}})

    def replay():
        stored = IdempotencyKey.objects.filter(user=actor, key=key).first()
        if stored is None:
            return None
        if stored.request_hash != request_hash:
            raise ValidationFailed(_("This Idempotency-Key was used for a different request."),
                                   code="idempotency_key_reused",
                                   fields={"Idempotency-Key": _("Use a new key for a new request.")})
        return stored.response

    answer = replay()
    if answer is not None:
        return answer, True
    try:
        with transaction.atomic():
            stored = IdempotencyKey.objects.create(user=actor, key=key, request_hash=request_hash)
            response = render(requisition_create(actor=actor, **kwargs))
            stored.response = response
            stored.save(update_fields=["response"])
            return response, False
    except IntegrityError:
        answer = replay()
        if answer is None:
            raise
        return answer, True


def requisition_create(*, actor, lines: list[LineInput], to_warehouse_id: int | None = None, order_id: int | None = None,
                       note: str = "") -> Requisition:
    """申请备件 for an order (the order then waits for parts) or for stock."""
    from aftersales.service.selectors import order_queryset_plain

    policies.check(policies.may_use_parts(actor))
    with transaction.atomic():
        order = None
        if order_id is not None:
            order = order_queryset_plain(actor).filter(pk=order_id).first()
            if order is None:
                _fail(order_id=_("No such order of yours."))
        if to_warehouse_id is None:
            target = selectors.van_of(actor) or Warehouse.objects.filter(
                organization_id=actor.organization_id, technician=None, is_active=True).order_by("pk").first()
            if target is None:
                _fail(to_warehouse_id=_("Choose where the parts go."))
        else:
            target = selectors.warehouse_queryset(actor).filter(pk=to_warehouse_id).first()
            if target is None:
                _fail(to_warehouse_id=_("No such warehouse."))
            policies.check(policies.may_move_stock_of(actor, target))
        if not lines:
            _fail(lines=_("Ask for at least one part."))
        parsed = []
        for i, line in enumerate(lines):
            part = _part(actor, line.part_id, f"lines[{i}].part_id")
            parsed.append((part, _qty(line.quantity, f"lines[{i}].quantity")))
        req = Requisition.objects.create(number=next_number("BJ"), requested_by=actor, organization=target.organization,
                                         to_warehouse=target, order=order, note=(note or "")[:300],
                                         created_at=timezone.now())
        RequisitionLine.objects.bulk_create([RequisitionLine(requisition=req, part=p, quantity=q) for p, q in parsed])
        if order is not None:
            _pause_for_parts(actor, req)
            req.save(update_fields=["clock_paused"])
        return req


def _locked_requisition(actor, requisition_id: int, version: int, *statuses: str) -> Requisition:
    selectors.requisition_get(actor, requisition_id)  # 404 first
    req = Requisition.objects.select_for_update(of=("self",)).select_related("to_warehouse", "order", "requested_by").get(
        pk=requisition_id)
    if req.version != version:
        raise Conflict(_("The requisition was changed by someone else; reload it."), code="stale_version")
    if req.status not in statuses:
        raise Conflict(_("Not possible in this status."), code="invalid_transition")
    return req


def requisition_approve(*, actor, requisition_id: int, version: int, approved: dict[int, object] | None = None,
                        from_warehouse_id: int | None = None, note: str = "") -> Requisition:
    """The centre approves all, or less (``approved``: line id → quantity; 0 refuses that line)."""
    with transaction.atomic():
        policies.check(policies.is_parts_desk(actor))
        req = _locked_requisition(actor, requisition_id, version, RequisitionStatus.REQUESTED)
        source = (Warehouse.objects.filter(pk=from_warehouse_id).first() if from_warehouse_id else central_warehouse())
        if source is None or source.pk == req.to_warehouse_id:
            _fail(from_warehouse_id=_("Choose the warehouse that ships."))
        approved = {int(k): v for k, v in (approved or {}).items()}
        lines = list(req.lines.all())
        unknown = set(approved) - {ln.pk for ln in lines}
        if unknown:
            _fail(approved=_("Not a line of this requisition."))
        any_left = False
        for i, line in enumerate(lines):
            q = _qty(approved.get(line.pk, line.quantity), f"approved.{line.pk}", allow_zero=True)
            if q > line.quantity:
                _fail(**{f"approved.{line.pk}": _("More than was asked for.")})
            line.approved = q
            any_left |= q > 0
        if not any_left:
            _fail(approved=_("Approve at least one part, or reject the requisition."))
        RequisitionLine.objects.bulk_update(lines, ["approved"])
        req.status, req.from_warehouse, req.decided_by, req.decided_at = (RequisitionStatus.APPROVED, source, actor,
                                                                          timezone.now())
        req.decision_note = (note or "")[:300]
        req.version += 1
        req.save()
        return req


def requisition_reject(*, actor, requisition_id: int, version: int, note: str) -> Requisition:
    with transaction.atomic():
        policies.check(policies.is_parts_desk(actor))
        req = _locked_requisition(actor, requisition_id, version, RequisitionStatus.REQUESTED)
        if not (note or "").strip():
            _fail(note=_("Say why the requisition is rejected."))
        req.status, req.decided_by, req.decided_at, req.decision_note = (RequisitionStatus.REJECTED, actor,
                                                                         timezone.now(), note.strip()[:300])
        _resume_after_parts(actor, req)
        req.version += 1
        req.save()
        return req


def requisition_ship(*, actor, requisition_id: int, version: int, tracking_number: str,
                     serials: dict[int, list[str]] | None = None) -> Requisition:
    """发货: the approved quantities leave the shipping warehouse (transfer out, in transit)."""
    with transaction.atomic():
        policies.check(policies.is_parts_desk(actor))
        req = _locked_requisition(actor, requisition_id, version, RequisitionStatus.APPROVED)
        tracking = (tracking_number or "").strip()
        if not tracking:
            _fail(tracking_number=_("Ship with a tracking number."))
        serials = {int(k): list(v) for k, v in (serials or {}).items()}
        for line in req.lines.select_related("part"):
            if not line.approved:
                continue
            if line.part.serial_tracked:
                units = [s.strip() for s in serials.get(line.pk, []) if s.strip()]
                if len(units) != int(line.approved):
                    _fail(**{f"serials.{line.pk}": _("Give one serial number per unit.")})
                for s in units:
                    _post(warehouse=req.from_warehouse, part=line.part, quantity=Decimal(-1), kind=MoveKind.TRANSFER_OUT,
                          actor=actor, counterpart=req.to_warehouse, tracking_number=tracking[:60], requisition=req,
                          serial=s, field=f"lines.{line.pk}")
                line.serials = units
                line.save(update_fields=["serials"])
            else:
                _post(warehouse=req.from_warehouse, part=line.part, quantity=-line.approved, kind=MoveKind.TRANSFER_OUT,
                      actor=actor, counterpart=req.to_warehouse, tracking_number=tracking[:60], requisition=req,
                      field=f"lines.{line.pk}")
        req.status, req.tracking_number, req.shipped_at = RequisitionStatus.SHIPPED, tracking[:60], timezone.now()
        req.version += 1
        req.save()
        return req


def requisition_receive(*, actor, requisition_id: int, version: int) -> Requisition:
    """收货确认: the receiver books the parts into its warehouse; the order's clock runs again."""
    with transaction.atomic():
        req = _locked_requisition(actor, requisition_id, version, RequisitionStatus.SHIPPED)
        policies.check(policies.may_move_stock_of(actor, req.to_warehouse))
        for line in req.lines.select_related("part"):
            if not line.approved:
                continue
            if line.part.serial_tracked:
                for s in line.serials:
                    _post(warehouse=req.to_warehouse, part=line.part, quantity=Decimal(1), kind=MoveKind.TRANSFER_IN,
                          actor=actor, counterpart=req.from_warehouse, tracking_number=req.tracking_number,
                          requisition=req, serial=s)
            else:
                _post(warehouse=req.to_warehouse, part=line.part, quantity=line.approved, kind=MoveKind.TRANSFER_IN,
                      actor=actor, counterpart=req.from_warehouse, tracking_number=req.tracking_number, requisition=req)
        req.status, req.received_at = RequisitionStatus.RECEIVED, timezone.now()
        _resume_after_parts(actor, req)
        req.version += 1
        req.save()
        return req


# --- consumption (用件) ---------------------------------------------------------------------------------

def _part_class(part: Part, order) -> str:
    """wear / main / general, as the machine's warranty policy classes the part's component."""
    from aftersales.warranty.services import policy_current, policy_regime

    machine = order.machine if order.machine_id else None
    if machine is None:
        return "general"
    model = machine.model
    regime = policy_regime(policy_current())
    wear = set(model.wear_parts or regime.wear_parts.by_category.get(model.category, ()))
    main = set(model.main_components or regime.main_parts.by_category.get(model.category, ()))
    return "wear" if (part.wear_part or part.component in wear) else "main" if part.component in main else "general"


def maker_pays(part: Part, order, line_warranty: bool) -> bool:
    """三包 decides who pays a line: the maker for a warranty part of a covered machine on a free
    service; the customer for wear parts, expired cover and paid service."""
    from aftersales.service.models import ServiceMode

    if not line_warranty or order.service_mode == ServiceMode.PAID or order.warranty_status != "covered":
        return False
    return _part_class(part, order) != "wear"


def consume_for_record(*, actor, order, usages, fit_reasons=(), serials=()) -> list[dict]:
    """Called by ``order_record_service`` inside its transaction: each part line whose number is in the
    catalogue is issued from the technician's van (else the organization's warehouse that has it); a line
    that the policy puts on the customer gets the customer's price when none was typed. A record written
    again first returns what the earlier one issued. Part numbers not in the catalogue are recorded as before."""
    from aftersales.service.models import PartUsage

    previous = StockMove.objects.filter(order=order, kind__in=[MoveKind.ISSUE, MoveKind.RETURN]).select_related(
        "warehouse", "part")
    net: dict[tuple[int, int, str], Decimal] = {}
    for m in previous:
        key = (m.warehouse_id, m.part_id, m.serial)
        net[key] = net.get(key, Decimal(0)) + m.quantity
    for (w, p, serial), q in net.items():
        if q < 0:
            _post(warehouse=Warehouse.objects.get(pk=w), part=Part.objects.get(pk=p), quantity=-q, kind=MoveKind.RETURN,
                  actor=actor, order=order, serial=serial, reason=_("Service record written again"))
    OldPart.objects.filter(order=order, status=OldPartStatus.AWAITING).delete()

    usages = list(usages)
    catalogue = {p.number: p for p in Part.objects.filter(number__in=[u.part_number for u in usages])}
    if not catalogue:
        return []
    van = selectors.van_of(actor)
    customer_class = order.customer.customer_class if order.customer_id else ""
    done = []
    for i, usage in enumerate(usages):
        part = catalogue.get(usage.part_number)
        if part is None:
            continue
        fit_reason = fit_reasons[i] if i < len(fit_reasons) else ""
        if not part_fits(part, order) and not fit_reason:
            _fail(**{f"parts[{i}].fit_reason": _("This part is listed for other models: say why it was fitted anyway.")})
        source = van if van is not None else None
        if source is None or not StockBalance.objects.filter(warehouse=source, part=part, quantity__gte=usage.quantity).exists():
            fallback = (StockBalance.objects.filter(warehouse__organization_id=order.assigned_org_id or actor.organization_id,
                                                    warehouse__technician=None, part=part, quantity__gte=usage.quantity)
                        .select_related("warehouse").order_by("warehouse_id").first())
            source = fallback.warehouse if fallback else (van or source)
        if source is None:
            _fail(**{f"parts[{i}].part_number": _("No warehouse of yours holds this part.")})
        serial = serials[i] if i < len(serials) else ""
        _post(warehouse=source, part=part, quantity=-usage.quantity, kind=MoveKind.ISSUE, actor=actor, order=order,
              field=f"parts[{i}].quantity", serial=serial, unit_cost=part.standard_cost, reason=fit_reason)
        pays = maker_pays(part, order, usage.warranty)
        if not pays and usage.warranty:
            usage.warranty = False
        if not pays and not usage.unit_price:
            usage.unit_price = selectors.price_for(part, "customer", customer_class) or Decimal(0)
        if not usage.name:
            usage.name = part.name_zh
        PartUsage.objects.filter(pk=usage.pk).update(warranty=usage.warranty, unit_price=usage.unit_price, name=usage.name)
        if pays and part.return_required and usage.action == "replaced":
            OldPart.objects.create(order=order, organization_id=order.assigned_org_id or actor.organization_id,
                                   part=part, quantity=usage.quantity, serial=serial,
                                   tag=f"{order.number}-{i + 1}", created_at=timezone.now())
        done.append({"part_number": part.number, "warehouse": source.code, "quantity": str(usage.quantity),
                     "maker_pays": pays, "unit_price": str(usage.unit_price)})
    return done


def part_fits(part: Part, order) -> bool:
    if not order.machine_id or not part.models_fitted.exists():
        return True
    return part.models_fitted.filter(pk=order.machine.model_id).exists()
