"""The daily aggregates of the statistics centre: kept up to date by the worker, rebuilt on demand.

Why a backlog and a worker rather than updating the aggregate rows inside every action: the hot rows
(today x the call centre x repair) would be locked by every intake in the network for the rest of
its transaction, serializing intake on PostgreSQL and adding several queries to each action. The
order-changed hook instead INSERTs one narrow ``StatsBacklog`` row (no lock on shared rows); the
mark commits or rolls back with the action. ``refresh()`` (the worker's task, every tick) takes the
``AggregateState`` row lock (one refresh at a time), recounts each marked order from all its events,
applies the difference between its new share and the share its ``OrderFact`` recorded to the
``DailyAggregate`` rows, and deletes the marks it read by id: an order is counted once however many
marks or refreshes there are, and a mark committed meanwhile is left for the next refresh.
No high-water mark over event ids is used: on PostgreSQL ids are not committed in order, so a
mark-by-id scheme could skip an event whose transaction committed late.

``rebuild()`` recomputes everything from the events (``aftersales stats rebuild``).
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from aftersales.service.models import ServiceOrder
from aftersales.stats import engine
from aftersales.stats.selectors import DIMENSIONS
from aftersales.stats.models import AggregateState, DailyAggregate, OrderDeviation, OrderFact, StatsBacklog

SHANGHAI = ZoneInfo("Asia/Shanghai")
BATCH = 2_000
_ORDER_FIELDS = ("pk", "order_type", "created_at", "machine_id", "assigned_org_id", "owning_org_id", *DIMENSIONS.values())


def on_order_changed(order, events) -> None:
    """The order-changed hook (inside the action's transaction): mark the order for recounting."""
    StatsBacklog.objects.create(order_id=order.pk)


def _state() -> AggregateState:
    state = AggregateState.objects.select_for_update().filter(pk=1).first()
    if state is None:
        AggregateState.objects.get_or_create(pk=1)
        state = AggregateState.objects.select_for_update().get(pk=1)
    return state


def _facts_of(order_ids: list[int], memo: dict | None = None, done: dict | None = None) -> dict[int, OrderFact]:
    """The current share of each order (orders that no longer exist have none). ``done``: every
    machine's repair completions (``selectors.repairs_completed()``), read once by the rebuild."""
    from aftersales.stats.selectors import _traces_of

    rows = list(ServiceOrder.objects.filter(pk__in=order_ids).values_list(*_ORDER_FIELDS))
    traces = {t.order_id: t for t in _traces_of([(r[0], r[1], r[2], "", r[3]) for r in rows], "none", done)}
    facts = {}
    for pk, order_type, created_at, _machine, assigned, owning, *dims in rows:
        trace = traces[pk]
        sums = {k: [n, t] for k, (n, t) in engine.contributions(trace, memo).items()}
        facts[pk] = OrderFact(
            order_id=pk, day=created_at.astimezone(SHANGHAI).date(), assigned_org_id=assigned or 0,
            owning_org_id=owning or 0, order_type=order_type,
            dims={d: (str(v) if v not in (None, "") else "-") for d, v in zip(DIMENSIONS, dims)}, sums=sums,
            deviations="," + ",".join(k[2:] for k in sums if k.startswith("d:")) + ",")
    return facts


GRAINS = ("d", "m")


def _cells(fact: OrderFact) -> Iterable[tuple]:
    """(grain, day, assigned, owning, type, dim, value) of every row the order adds to: its day's and
    its month's, whole and split by each dimension."""
    for grain, day in (("d", fact.day), ("m", fact.day.replace(day=1))):
        base = (grain, day, fact.assigned_org_id, fact.owning_org_id, fact.order_type)
        yield (*base, "", "")
        for dim, value in fact.dims.items():
            yield (*base, dim, value[:100])


def _apply(deltas: dict[tuple, list]) -> None:
    """Add {cell: [orders, sums]} to the DailyAggregate rows (creating, updating, deleting)."""
    if not deltas:
        return
    by_day: dict[tuple[str, date], list[tuple]] = defaultdict(list)
    for cell in deltas:
        by_day[cell[:2]].append(cell)
    existing: dict[tuple, DailyAggregate] = {}
    for (grain, day), cells in by_day.items():
        for row in DailyAggregate.objects.filter(grain=grain, day=day, assigned_org_id__in={c[2] for c in cells}):
            existing[(row.grain, row.day, row.assigned_org_id, row.owning_org_id, row.order_type, row.dim,
                      row.value)] = row
    new, changed = [], []
    for cell, (orders, sums) in deltas.items():
        row = existing.get(cell)
        if row is None:
            row = DailyAggregate(grain=cell[0], day=cell[1], assigned_org_id=cell[2], owning_org_id=cell[3],
                                 order_type=cell[4], dim=cell[5], value=cell[6], orders=0, sums={})
            new.append(row)
        else:
            changed.append(row)
        row.orders += orders
        engine.add_sums(row.sums, sums)
    gone = [r.pk for r in changed if r.orders <= 0]
    DailyAggregate.objects.bulk_create([r for r in new if r.orders > 0], batch_size=500)
    DailyAggregate.objects.bulk_update([r for r in changed if r.orders > 0], ["orders", "sums"], batch_size=500)
    if gone:
        DailyAggregate.objects.filter(pk__in=gone).delete()


def _recount(order_ids: list[int]) -> int:
    """Move the aggregates from each order's recorded share to its share now."""
    old = OrderFact.objects.in_bulk(order_ids)
    now = _facts_of(order_ids)
    deltas: dict[tuple, list] = {}

    def add(fact: OrderFact, sign: int) -> None:
        for cell in _cells(fact):
            d = deltas.setdefault(cell, [0, {}])
            d[0] += sign
            engine.add_sums(d[1], fact.sums, sign)

    for pk in order_ids:
        before, after = old.get(pk), now.get(pk)
        if before is not None and after is not None and (before.sums, before.dims, before.day, before.assigned_org_id,
                                                         before.owning_org_id, before.order_type) == (
                after.sums, after.dims, after.day, after.assigned_org_id, after.owning_org_id, after.order_type):
            continue
        if before is not None:
            add(before, -1)
        if after is not None:
            add(after, +1)
    _apply({cell: d for cell, d in deltas.items() if d[0] or d[1]})
    OrderFact.objects.filter(order_id__in=[pk for pk in order_ids if pk not in now]).delete()
    OrderFact.objects.bulk_create(list(now.values()), batch_size=500, update_conflicts=True,
                                  unique_fields=["order_id"], update_fields=[
                                      "day", "assigned_org_id", "owning_org_id", "order_type", "dims", "sums",
                                      "deviations"])
    OrderDeviation.objects.filter(order_id__in=order_ids).delete()
    OrderDeviation.objects.bulk_create([OrderDeviation(**row) for f in now.values() for row in _deviation_rows(f)],
                                       batch_size=500)
    return len(order_ids)


def _deviation_rows(fact: OrderFact) -> list[dict]:
    """The ``OrderDeviation`` rows of an order's share: one per deviation code."""
    return [{"order_id": fact.order_id, "code": code, "day": fact.day, "assigned_org_id": fact.assigned_org_id,
             "owning_org_id": fact.owning_org_id, "order_type": fact.order_type, "dims": fact.dims}
            for code in filter(None, fact.deviations.split(","))]


def refresh(limit: int = 5_000) -> int:
    """Recount the orders marked since the last refresh (at most ``limit`` marks); returns how many
    orders were recounted. Cheap when there is nothing to do (one query)."""
    if not StatsBacklog.objects.exists():
        return 0
    with transaction.atomic():
        state = _state()
        marks = list(StatsBacklog.objects.order_by("pk").values_list("pk", "order_id")[:limit])
        order_ids = sorted({order_id for _, order_id in marks})
        done = 0
        for start in range(0, len(order_ids), BATCH):
            done += _recount(order_ids[start:start + BATCH])
        StatsBacklog.objects.filter(pk__in=[pk for pk, _ in marks]).delete()
        state.refreshed_at = timezone.now()
        state.save(update_fields=["refreshed_at"])
    return done


def rebuild(progress: Callable[[int, int], None] | None = None) -> int:
    """Forget the aggregates and count every order again from its events (one transaction: readers
    see the old figures until the new ones are complete)."""
    with transaction.atomic():
        state = _state()
        marks = list(StatsBacklog.objects.values_list("pk", flat=True))
        DailyAggregate.objects.all().delete()
        OrderFact.objects.all().delete()
        OrderDeviation.objects.all().delete()
        ids = list(ServiceOrder.objects.order_by("pk").values_list("pk", flat=True))
        # Orders of one day, organization pair, type and dimension values are summed once, then
        # that sum is added to each of their cells (day and month, whole and per dimension): the
        # per-key additions are per distinct combination, not per order x cell.
        combos: dict[tuple, list] = {}
        memo: dict = {}
        # Read once: per batch, the previous repairs of its machines were most of a rebuild's time
        # (a machine's orders are spread over many batches, so each was read again and again).
        from aftersales.stats.selectors import repairs_completed

        done = repairs_completed()
        step = BATCH * 2
        for start in range(0, len(ids), step):
            if len(memo) > 200_000:
                memo.clear()
            facts = _facts_of(ids[start:start + step], memo, done)
            _insert_raw(OrderFact, ("order_id", "day", "assigned_org_id", "owning_org_id", "order_type", "dims", "sums",
                                    "deviations"),
                        [(f.order_id, f.day, f.assigned_org_id, f.owning_org_id, f.order_type, json.dumps(f.dims),
                          json.dumps(f.sums), f.deviations) for f in facts.values()])
            _insert_raw(OrderDeviation, ("order_id", "code", "day", "assigned_org_id", "owning_org_id", "order_type",
                                         "dims"),
                        [(*(r[k] for k in ("order_id", "code", "day", "assigned_org_id", "owning_org_id", "order_type")),
                          json.dumps(r["dims"])) for f in facts.values() for r in _deviation_rows(f)])
            for fact in facts.values():
                key = (fact.day, fact.assigned_org_id, fact.owning_org_id, fact.order_type,
                       tuple(sorted(fact.dims.items())))
                c = combos.get(key)
                if c is None:
                    c = combos[key] = [0, {}]
                c[0] += 1
                engine.merge_sums(c[1], fact.sums)
            if progress:
                progress(min(start + step, len(ids)), len(ids))
        cells: dict[tuple, list] = {}
        for (day, assigned, owning, order_type, dims), (orders, sums) in combos.items():
            fact = OrderFact(day=day, assigned_org_id=assigned, owning_org_id=owning, order_type=order_type,
                             dims=dict(dims))
            for cell in _cells(fact):
                c = cells.get(cell)
                if c is None:
                    c = cells[cell] = [0, {}]
                c[0] += orders
                engine.merge_sums(c[1], sums)
        _insert_raw(DailyAggregate, ("grain", "day", "assigned_org_id", "owning_org_id", "order_type", "dim", "value",
                                     "orders", "sums"),
                    [(*c, orders, json.dumps(sums)) for c, (orders, sums) in cells.items()])
        # Every order was counted as it is now: the marks written before this rebuild are done.
        for start in range(0, len(marks), 10_000):
            StatsBacklog.objects.filter(pk__in=marks[start:start + 10_000]).delete()
        state.rebuilt_at = timezone.now()
        state.save(update_fields=["rebuilt_at"])
    return len(ids)


def _insert_raw(model, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Plain multi-row INSERTs for the rebuild's millions of rows: no model instances, JSON encoded
    once (bulk_create spends most of a rebuild preparing values one field at a time)."""
    from django.db import connection

    table = connection.ops.quote_name(model._meta.db_table)
    cols = ", ".join(connection.ops.quote_name(c) for c in columns)
    one = "(" + ", ".join(["%s"] * len(columns)) + ")"
    per = max(1, 900 // len(columns))  # SQLite's bound on variables per statement
    with connection.cursor() as cur:
        for start in range(0, len(rows), per):
            chunk = rows[start:start + per]
            cur.execute(f"INSERT INTO {table} ({cols}) VALUES {', '.join([one] * len(chunk))}",
                        [v for row in chunk for v in row])


def text_progress(stream=None) -> Callable[[int, int], None]:
    """A one-line progress bar for the command."""
    stream = stream or sys.stderr

    def show(done: int, total: int) -> None:
        width = 30
        filled = int(width * done / total) if total else width
        stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} orders")
        if done >= total:
            stream.write("\n")
        stream.flush()
    return show
