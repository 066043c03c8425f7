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

    from aftersales.service.models import OPEN_STATUSES, OrderStatus, PartAction, ServiceMode
    from aftersales.warranty.engine import WHOLE_MACHINE, RepairRecord

    orders, records, lines = _machine_repairs(machine.pk)
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


def _machine_repairs(machine_id: int) -> tuple[list[tuple], dict[int, tuple], dict[int, list[tuple]]]:
    """The machine's repair orders (not cancelled, oldest first), their service records and the
    records' part lines, in one statement: an outer join, one row per part line (or per order
    without any). Hand-written (issue 14): it runs at every repair intake, and it was three ORM
    reads whose compilation cost more than the rows; the values go through the fields' own database
    converters (core.rawrows), so they are what ``values_list`` gave. tests/service/
    test_repair_history_read.py pins the history against the ORM's reads on both databases."""
    from django.db import connection

    from aftersales.core.rawrows import RowConverter
    from aftersales.service.models import OrderStatus, OrderType, PartUsage, ServiceOrder, ServiceRecord

    global _REPAIRS_READ
    if _REPAIRS_READ is None or _REPAIRS_READ[0] is not connection:
        o, r, p = (lambda name: ServiceOrder._meta.get_field(name)), (lambda name: ServiceRecord._meta.get_field(name)), \
            (lambda name: PartUsage._meta.get_field(name))
        fields = [o("id"), o("created_at"), o("completed_at"), o("service_mode"), o("status"),
                  r("id"), r("component"), r("serious"), r("updated_at"), p("id"), p("component"), p("action"), p("serious")]
        sql = ("SELECT o.id, o.created_at, o.completed_at, o.service_mode, o.status, "
               "r.id, r.component, r.serious, r.updated_at, p.id, p.component, p.action, p.serious "
               f"FROM {ServiceOrder._meta.db_table} o "
               f"LEFT OUTER JOIN {ServiceRecord._meta.db_table} r ON r.order_id = o.id "
               f"LEFT OUTER JOIN {PartUsage._meta.db_table} p ON p.record_id = r.id "
               "WHERE o.machine_id = %s AND o.order_type = %s AND o.status <> %s "
               "ORDER BY o.created_at, o.id, p.id")
        _REPAIRS_READ = (connection, sql, RowConverter(fields, connection))
    _conn, sql, convert = _REPAIRS_READ
    orders: list[tuple] = []
    records: dict[int, tuple] = {}
    lines: dict[int, list[tuple]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [machine_id, OrderType.REPAIR.value, OrderStatus.CANCELLED.value])
        rows = cursor.fetchall()
    for row in rows:
        (pk, created_at, completed_at, mode, status, record_id, component, serious, updated_at,
         line_id, line_component, action, line_serious) = convert(row)
        if not orders or orders[-1][0] != pk:
            orders.append((pk, created_at, completed_at, mode, status))
        if record_id is not None:
            records[pk] = (component, serious, updated_at)
        if line_id is not None:
            lines.setdefault(pk, []).append((line_component, action, line_serious))
    return orders, records, lines


_REPAIRS_READ = None  # (connection, SQL, converter), built on first use
