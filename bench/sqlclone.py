"""The statistics bench's archive at 1,000,000 orders, cloned by the database itself.

    DATABASE_URL=... python bench/sqlclone.py --orders 1000000    # on a database holding the demo

Why not bench/dataset.py: it clones in Python at about 800 orders/s on an idle machine, and on the
shared, loaded machine of this round far slower (hours for 1,000,000). The statistics centre needs
orders with their timelines, machines and regions, not every child row, so here the database copies
rows with ``INSERT … SELECT`` (C speed, same SQL on SQLite and PostgreSQL bar the date arithmetic):

- every demo machine is cloned K times (serial ``<serial>-<j>``), so a clone order's machine has a
  few orders over two years, as in service (the repeat-repair rates read a machine's history);
- order i copies template order ``i mod T`` (the demo's orders with 3-8 events, as dataset.py), is
  given number ``Z<i>``, a fresh tracking token, clone machine ``(i div T) mod K``, the template's
  customer (so its province and city), and a creation time u² x 730 days before now (u a fixed
  hash of i: more orders in recent months); every timestamp of the order moves by the same amount;
- its events are the template's events, moved by the same amount (so every duration, move and
  deviation of the template holds for the clone, and the ratings' scores are kept in ``data``).

Not cloned: service records, quotes, complaints, ratings rows, SLA clocks, search documents; the
statistics read none of them (the cost, failure and SLA measures are not part of the bench).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftersales.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, models, transaction  # noqa: E402

from aftersales.registry.models import Machine  # noqa: E402
from aftersales.service.models import OrderEvent, ServiceOrder  # noqa: E402

DROPPED = {"about_order_id", "exchange_id", "new_machine_id", "duplicate_of_id", "related_order_id"}
CHUNK = 100_000


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _datetime_columns(model) -> set[str]:
    return {f.column for f in model._meta.concrete_fields if isinstance(f, models.DateTimeField)}


def _shift(expr: str, delta: str) -> str:
    """``expr`` (a timestamp) moved by ``delta`` (PostgreSQL: an interval; SQLite: days)."""
    if connection.vendor == "postgresql":
        return f"({expr} + {delta})"
    return f"CASE WHEN {expr} IS NULL THEN NULL ELSE strftime('%Y-%m-%d %H:%M:%f', julianday({expr}) + {delta}) END"


def _new_created(g: str) -> str:
    u = f"CAST((({g} * 2654435761) %% 1000003) AS DOUBLE PRECISION) / 1000003"
    days = f"(({u}) * ({u}) * 730 + t.span_days + 1.0 / 1440)"
    if connection.vendor == "postgresql":
        return f"(now() - {days} * interval '1 day')"
    return f"(julianday('now') - {days})"


def _delta(new_created: str, old: str) -> str:
    if connection.vendor == "postgresql":
        return f"({new_created} - {old})"
    return f"({new_created} - julianday({old}))"


def grow(target: int, stop_at: float | None = None) -> dict:
    started = time.monotonic()
    vendor = connection.vendor
    templates = list(ServiceOrder.objects.filter(event_seq__gte=3, event_seq__lte=8, machine__isnull=False)
                     .exclude(number__startswith="Z").order_by("pk").values_list("pk", flat=True))
    n_tpl = len(templates)
    have = ServiceOrder.objects.filter(number__startswith="Z").count()
    machines = Machine.objects.exclude(serial_number__contains="-c").count()
    clones = max(1, math.ceil(target / 4 / max(machines, 1)))
    series = max(target, clones)
    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_series")
        cur.execute("DROP TABLE IF EXISTS bench_tpl")
        cur.execute("CREATE TABLE bench_series (g BIGINT PRIMARY KEY)")
        cur.execute("CREATE TABLE bench_tpl (rnk BIGINT PRIMARY KEY, order_id BIGINT NOT NULL, span_days DOUBLE PRECISION)")
        if vendor == "postgresql":
            cur.execute("INSERT INTO bench_series SELECT generate_series(0, %s)", [series])
        else:
            cur.execute("WITH RECURSIVE s(g) AS (SELECT 0 UNION ALL SELECT g + 1 FROM s WHERE g < %s) "
                        "INSERT INTO bench_series SELECT g FROM s", [series])
        # How long each template's timeline runs: a clone ends that long after it was created, no later than now.
        from django.db.models import Max

        created = dict(ServiceOrder.objects.filter(pk__in=templates).values_list("pk", "created_at"))
        last = dict(OrderEvent.objects.filter(order_id__in=templates).values("order_id").annotate(m=Max("at"))
                    .values_list("order_id", "m"))
        cur.executemany("INSERT INTO bench_tpl VALUES (%s, %s, %s)",
                        [(i, pk, (last.get(pk, created[pk]) - created[pk]).total_seconds() / 86400)
                         for i, pk in enumerate(templates)])
    print(f"templates: {n_tpl} orders; machines {machines} x {clones} clones", flush=True)

    # Machines: K clones of every demo machine.
    m_cols = [f.column for f in Machine._meta.concrete_fields if not f.primary_key]
    if not Machine.objects.filter(serial_number__contains="-c").exists():
        concat = "||"
        sel = []
        for c in m_cols:
            if c == "serial_number":
                sel.append(f"m.serial_number {concat} '-c' {concat} CAST(s.g AS VARCHAR(12))")
            elif c == "engine_number":
                sel.append(f"CASE WHEN m.engine_number = '' THEN '' ELSE m.engine_number {concat} '-c' {concat} "
                           f"CAST(s.g AS VARCHAR(12)) END")
            else:
                sel.append(f"m.{_q(c)}")
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(f"INSERT INTO {_q(Machine._meta.db_table)} ({', '.join(_q(c) for c in m_cols)}) "
                        f"SELECT {', '.join(sel)} FROM {_q(Machine._meta.db_table)} m JOIN bench_series s "
                        f"ON s.g >= 1 AND s.g <= %s WHERE m.serial_number NOT LIKE %s", [clones, "%-c%"])
        print(f"machines cloned ({time.monotonic() - started:.0f} s)", flush=True)

    o_table, e_table, m_table = ServiceOrder._meta.db_table, OrderEvent._meta.db_table, Machine._meta.db_table
    o_cols = [f.column for f in ServiceOrder._meta.concrete_fields if not f.primary_key]
    o_dt = _datetime_columns(ServiceOrder)
    e_cols = [f.column for f in OrderEvent._meta.concrete_fields if not f.primary_key]
    e_dt = _datetime_columns(OrderEvent)
    num = ("'Z' || lpad(CAST(x.g AS VARCHAR(12)), 9, '0')" if vendor == "postgresql"
           else "'Z' || printf('%09d', x.g)")
    while have < target:
        if stop_at is not None and time.time() > stop_at:
            print(f"stopped at {have} orders: out of time (--stop-at)", flush=True)
            break
        lo, hi = have, min(target, have + CHUNK)
        sel = []
        for c in o_cols:
            if c == "number":
                sel.append(num)
            elif c == "tracking_token":
                sel.append("'bench' || CAST(x.g AS VARCHAR(12))")
            elif c == "machine_id":
                sel.append(f"(SELECT mc.id FROM {_q(m_table)} mc WHERE mc.serial_number = x.tpl_serial || '-c' || "
                           f"CAST((x.g / {n_tpl}) %% {clones} + 1 AS VARCHAR(12)))")
            elif c in DROPPED:
                sel.append("NULL")
            elif c in o_dt:
                sel.append(_shift(f"x.{_q(c)}", "x.delta"))
            else:
                sel.append(f"x.{_q(c)}")
        inner = (f"SELECT s.g AS g, o.*, tm.serial_number AS tpl_serial, "
                 f"{_delta(_new_created('s.g'), 'o.created_at')} AS delta "
                 f"FROM bench_series s JOIN bench_tpl t ON t.rnk = s.g %% {n_tpl} "
                 f"JOIN {_q(o_table)} o ON o.id = t.order_id JOIN {_q(m_table)} tm ON tm.id = o.machine_id "
                 f"WHERE s.g >= %s AND s.g < %s")
        e_sel = []
        for c in e_cols:
            if c == "order_id":
                e_sel.append("n.id")
            elif c in e_dt:
                e_sel.append(_shift(f"e.{_q(c)}", _delta_of_orders()))
            else:
                e_sel.append(f"e.{_q(c)}")
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(f"INSERT INTO {_q(o_table)} ({', '.join(_q(c) for c in o_cols)}) "
                        f"SELECT {', '.join(sel)} FROM ({inner}) x", [lo, hi])
            cur.execute(f"INSERT INTO {_q(e_table)} ({', '.join(_q(c) for c in e_cols)}) "
                        f"SELECT {', '.join(e_sel)} FROM {_q(o_table)} n "
                        f"JOIN bench_tpl t ON t.rnk = CAST(substr(n.number, 2) AS BIGINT) %% {n_tpl} "
                        f"JOIN {_q(o_table)} tp ON tp.id = t.order_id "
                        f"JOIN {_q(e_table)} e ON e.order_id = tp.id "
                        f"WHERE n.number >= %s AND n.number < %s",
                        [_number(lo), _number(hi)])
        have = hi
        print(f"orders: {have}/{target} ({time.monotonic() - started:.0f} s)", flush=True)
    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_series")
        cur.execute("DROP TABLE IF EXISTS bench_tpl")
        cur.execute("VACUUM ANALYZE" if vendor == "postgresql" else "ANALYZE")
    return {"orders": ServiceOrder.objects.count(), "events": OrderEvent.objects.count(),
            "machines": Machine.objects.count(), "seconds": round(time.monotonic() - started, 1)}


def _number(i: int) -> str:
    return f"Z{i:09d}"


def _delta_of_orders() -> str:
    """The clone order's shift from its template, for its events."""
    if connection.vendor == "postgresql":
        return "(n.created_at - tp.created_at)"
    return "(julianday(n.created_at) - julianday(tp.created_at))"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--stop-at", default=None, help="HH:MM (UTC): start no new chunk after this time")
    args = parser.parse_args()
    stop = None
    if args.stop_at:
        import datetime as dt

        h, m = map(int, args.stop_at.split(":"))
        now = dt.datetime.now(dt.timezone.utc)
        stop = now.replace(hour=h, minute=m, second=0, microsecond=0).timestamp()
    print(grow(args.orders, stop), flush=True)


if __name__ == "__main__":
    main()
