"""Who else must know when an order changes: later apps (SLA clocks, the search index) register
here in their AppConfig.ready, so the service app does not import them.

A hook runs inside the action's transaction, after the order row and its new events are written:
what it writes commits or rolls back with the action itself. Hooks must not do I/O; side effects
outside the database go through the outbox.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

OrderHook = Callable[[object, Sequence[object]], None]
_order_changed: list[OrderHook] = []


def register_order_changed(hook: OrderHook) -> None:
    """``hook(order, events)``: the order as saved and the OrderEvents this change appended."""
    if hook not in _order_changed:
        _order_changed.append(hook)


def order_changed(order, events: Sequence[object]) -> None:
    for hook in _order_changed:
        hook(order, events)


AssignmentCheck = Callable[[object, object], str]
_assignment_checks: list[AssignmentCheck] = []


def register_assignment_check(check: AssignmentCheck) -> None:
    """``check(technician, order)``: why this technician should not take the order without a
    reason ("" for no concern). The standards app registers its certificate check here."""
    if check not in _assignment_checks:
        _assignment_checks.append(check)


def assignment_concerns(technician, order) -> list[str]:
    return [concern for check in _assignment_checks if (concern := check(technician, order))]


def repair_history(machine) -> list:
    """The machine's repair record (维修记录) as the warranty engine counts it: one entry per
    component worked on per repair order, "main_part_replacement" where a part line says it was
    replaced, serious where any line (or the record) says so, and the repair orders still open
    with their intake date (they extend the periods and start the 30-working-day deadline).

    Registered with the warranty app in ServiceConfig.ready; the exchanges come from the registry.
    """
    from django.utils import timezone

    from aftersales.service.models import OPEN_STATUSES, OrderStatus, OrderType, PartAction, PartUsage, ServiceMode, ServiceOrder, ServiceRecord
    from aftersales.warranty.engine import WHOLE_MACHINE, RepairRecord

    # At most three narrow queries (orders, records, part lines): this runs at every repair intake.
    orders = list(ServiceOrder.objects.filter(machine=machine, order_type=OrderType.REPAIR)
                  .exclude(status=OrderStatus.CANCELLED).order_by("created_at", "pk")
                  .values_list("pk", "created_at", "completed_at", "service_mode", "status"))
    records = {order_id: (component, serious, updated_at) for order_id, component, serious, updated_at in
               ServiceRecord.objects.filter(order__machine=machine)
               .values_list("order_id", "component", "serious", "updated_at")}
    lines: dict[int, list[tuple[str, str, bool]]] = {}
    # Part lines belong to records: a machine with no service record (most of them) has none to read.
    for order_id, component, action, serious in (PartUsage.objects.filter(record__order__machine=machine)
                                                 .order_by("pk").values_list("record__order_id", "component",
                                                                             "action", "serious") if records else ()):
        lines.setdefault(order_id, []).append((component, action, serious))

    history = []
    for pk, created_at, completed_at, mode, status in orders:
        started = timezone.localdate(created_at)
        warranty = {"under_warranty": mode != ServiceMode.PAID,
                    "workshop": mode in (ServiceMode.CARRY_IN, ServiceMode.MAIL_IN)}
        record = records.get(pk)
        if record is None:
            if status in OPEN_STATUSES and completed_at is None:
                # Taken in, not yet repaired: the component is only known once the record is written.
                history.append(RepairRecord(component=WHOLE_MACHINE, started=started, **warranty))
            continue  # solved by phone or closed without a repair: nothing was repaired
        component, serious, written_at = record
        if completed_at is not None:
            finished = timezone.localdate(completed_at)
        elif status in (OrderStatus.IN_SERVICE, OrderStatus.ESCALATED):
            finished = None  # the technician is still at it
        else:
            finished = timezone.localdate(written_at)  # checked out, waiting for the customer's word
        finished = max(finished, started) if finished else None
        worked: dict[str, list] = {}  # component -> [replaced?, serious?]
        for line_component, action, line_serious in lines.get(pk, ()):
            entry = worked.setdefault(line_component or component, [False, False])
            entry[0] |= action == PartAction.REPLACED
            entry[1] |= line_serious
        if not worked or component != WHOLE_MACHINE:
            entry = worked.setdefault(component, [False, False])
            entry[1] |= serious
        for name, (replaced, is_serious) in worked.items():
            history.append(RepairRecord(
                component=name, started=started, finished=finished, serious=is_serious,
                kind="main_part_replacement" if replaced else "repair", **warranty,
            ))
    return history
