"""The benchmark dataset: a service archive of SCALE orders, built fast enough for 1,000,000.

How: ``aftersales demo`` first builds the service network, 1,000 customers, 1,300 machines and a few
hundred orders through the real services (every rule applied, complete timelines). Those orders are
the templates. The bulk is then written with ``bulk_create`` in batches: each demo customer and
machine is cloned K times (same region, class, model, registering organization; new name, phone,
serial), and each bulk order copies a template order that has 3-8 events (its type, status, version,
event_seq, warranty answer, assigned organization and technician, and its events with the same seq
numbers and actions), moved to a new creation time within the last two years, given its clone
customer and machine and a fresh order number from that day's ``OrderNumberSequence``. The one-to-one
rows a status implies (service record, quote, escalation, complaint, return request, rating) are
cloned with it, so every order reads exactly as the services would have left it.

Going through ``order_create`` per order would take hours at 1,000,000 (warranty evaluation,
duplicate check, locking); copying validated rows keeps the data honest at a fraction of the cost.
"""

from __future__ import annotations

import contextlib
import math
import random
import secrets
import time
import zoneinfo
from collections import Counter, defaultdict
from datetime import datetime, timedelta

from django.core.management import call_command
from django.db import connection, models, transaction
from django.utils import timezone

from aftersales.demo import names
from aftersales.registry.models import Customer, CustomerPhone, Machine
from aftersales.service.models import (
    Complaint, Escalation, OrderEvent, OrderNumberSequence, Quote, Rating, ReturnRequest, ServiceOrder, ServiceRecord,
)

DEMO_CUSTOMERS, DEMO_MACHINES, DEMO_ORDERS = 1000, 1300, 400
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
# Rows of these models hang off one order and are cloned with it.
ORDER_CHILDREN = (OrderEvent, ServiceRecord, Quote, Escalation, Complaint, ReturnRequest, Rating)
# References a clone cannot keep: they point at the template's own neighbours.
DROPPED_REFERENCES = {"about_order_id", "exchange_id", "new_machine_id", "duplicate_of_id", "related_order_id"}


@contextlib.contextmanager
def explicit_timestamps(*model_classes):
    """Let bulk_create keep the created_at/updated_at we set (auto_now would stamp 'now' on all)."""
    saved = []
    for model in model_classes:
        for f in model._meta.concrete_fields:
            if isinstance(f, models.DateTimeField) and (f.auto_now or f.auto_now_add):
                saved.append((f, f.auto_now, f.auto_now_add))
                f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, now, now_add in saved:
            f.auto_now, f.auto_now_add = now, now_add


def _values(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields if not f.primary_key}


def _shift(values: dict, model, delta: timedelta) -> dict:
    for f in model._meta.concrete_fields:
        if isinstance(f, models.DateTimeField) and values.get(f.attname) is not None:
            values[f.attname] = values[f.attname] + delta
    return values


class _Builder:
    def __init__(self, *, scale: int, seed: int, batch: int, report):
        self.scale, self.batch, self.say = scale, batch, report
        self.rng = random.Random(f"{seed}/bench")
        self.now = timezone.now()

    # --- customers and machines -------------------------------------------------------------
    def clone_archive(self, clones: int) -> tuple[dict, dict]:
        """K clones of every demo customer and machine; returns {(template id, j): clone id}."""
        rng = self.rng
        taken = {n[3:] for n in CustomerPhone.objects.values_list("number", flat=True)}
        templates = list(Customer.objects.order_by("pk"))
        customer_ids: dict[tuple[int, int], int] = {}
        for start in range(0, len(templates), max(1, self.batch // clones)):
            chunk = templates[start:start + max(1, self.batch // clones)]
            rows, keys = [], []
            for t in chunk:
                for j in range(clones):
                    v = _values(t)
                    if t.customer_class == "farmer":
                        v["name"] = names.person_name(rng, province=t.province)
                    else:
                        v["name"] = f"{t.name}{j + 1}分部"
                    v["township"], v["village"] = names.township(rng), names.village(rng, t.province)
                    v["created_at"] = v["updated_at"] = self.now - timedelta(days=rng.randint(30, 1100))
                    rows.append(Customer(**v))
                    keys.append((t.pk, j))
            with transaction.atomic():
                made = Customer.objects.bulk_create(rows)
                CustomerPhone.objects.bulk_create(
                    CustomerPhone(customer_id=c.pk, number="+86" + (n := names.mobile(rng, taken)), kind="mobile",
                                  is_primary=True, reversed_digits=n[::-1])
                    for c in made
                )
            customer_ids.update(zip(keys, (c.pk for c in made)))
        self.say(f"customers: {len(customer_ids)} cloned")

        machine_ids: dict[tuple[int, int], int] = {}
        machine_templates = list(Machine.objects.order_by("pk"))
        step = max(1, self.batch // clones)
        for start in range(0, len(machine_templates), step):
            rows, keys = [], []
            for t in machine_templates[start:start + step]:
                for j in range(clones):
                    v = _values(t)
                    v["serial_number"] = f"{t.serial_number}-{j + 1:04d}"
                    v["engine_number"] = f"{t.engine_number}-{j + 1:04d}" if t.engine_number else ""
                    v["owner_id"] = customer_ids[(t.owner_id, j)] if t.owner_id else None
                    rows.append(Machine(**v))
                    keys.append((t.pk, j))
            with transaction.atomic():
                made = Machine.objects.bulk_create(rows)
            machine_ids.update(zip(keys, (m.pk for m in made)))
        self.say(f"machines: {len(machine_ids)} cloned")
        return customer_ids, machine_ids

    # --- orders ---------------------------------------------------------------------------------
    def templates(self) -> list[tuple[dict, dict[type, list[dict]]]]:
        orders = list(ServiceOrder.objects.filter(event_seq__gte=3, event_seq__lte=8).order_by("pk"))
        children: dict[type, dict[int, list[dict]]] = {}
        for model in ORDER_CHILDREN:
            grouped = defaultdict(list)
            for row in model.objects.filter(order__in=orders).order_by("pk"):
                grouped[row.order_id].append(_values(row))
            children[model] = grouped
        return [(o, {m: children[m].get(o.pk, []) for m in ORDER_CHILDREN}) for o in orders]

    def _created_at(self) -> datetime:
        # The archive grows: recent months hold more orders than two years ago.
        days = self.rng.triangular(0, 730, 0)
        return self.now - timedelta(days=days, seconds=self.rng.randint(60, 86_400))

    def clone_orders(self, count: int, customer_ids: dict, machine_ids: dict, clones: int) -> Counter:
        templates = self.templates()
        # Other unique columns (tracking tokens and the like) get fresh random values, as the services give.
        self.unique_tokens = [f.attname for f in ServiceOrder._meta.concrete_fields
                              if f.unique and not f.primary_key and f.attname != "number"]
        counters = dict(OrderNumberSequence.objects.values_list("day", "last"))
        made_total, statuses = 0, Counter()
        started = time.monotonic()
        while made_total < count:
            n = min(self.batch, count - made_total)
            orders, kids = [], []
            for _ in range(n):
                t, children = self.rng.choice(templates)
                j = self.rng.randrange(clones)
                created = self._created_at()
                delta = created - t.created_at
                v = _shift(_values(t), ServiceOrder, delta)
                for name in DROPPED_REFERENCES & v.keys():
                    v[name] = None
                day = created.astimezone(SHANGHAI).date()
                counters[day] = counters.get(day, 0) + 1
                v["number"] = f"FW{day:%Y%m%d}-{counters[day]:05d}"
                for name in self.unique_tokens:
                    if v.get(name):
                        v[name] = secrets.token_urlsafe(16)
                v["customer_id"] = customer_ids[(t.customer_id, j)]
                v["machine_id"] = machine_ids[(t.machine_id, j)] if t.machine_id else None
                v["contact_phone"] = ""  # filled below from the clone's phone
                orders.append(ServiceOrder(**v))
                kids.append((children, delta))
                statuses[t.status] += 1
            phones = dict(CustomerPhone.objects.filter(customer_id__in={o.customer_id for o in orders}, is_primary=True)
                          .values_list("customer_id", "number"))
            for o in orders:
                o.contact_phone = phones[o.customer_id]
            with transaction.atomic():
                ServiceOrder.objects.bulk_create(orders)
                rows: dict[type, list] = defaultdict(list)
                for order, (children, delta) in zip(orders, kids):
                    for model, items in children.items():
                        for item in items:
                            cv = _shift(dict(item), model, delta)
                            for name in DROPPED_REFERENCES & cv.keys():
                                cv[name] = None
                            cv["order_id"] = order.pk
                            rows[model].append(model(**cv))
                for model, objs in rows.items():
                    model.objects.bulk_create(objs, batch_size=2000)
            made_total += n
            rate = made_total / max(time.monotonic() - started, 1e-9)
            self.say(f"orders: {made_total}/{count} ({rate:.0f}/s)")
        # Numbers handed out here must never be handed out again by order_create.
        with transaction.atomic():
            for day, last in counters.items():
                OrderNumberSequence.objects.update_or_create(day=day, defaults={"last": last})
        return statuses


def build(*, scale: int, seed: int = 2026, batch: int = 5000, report=print) -> dict:
    """Fill an empty, migrated database with about ``scale`` orders; returns what was made."""
    started = time.monotonic()
    demo_orders = min(DEMO_ORDERS, scale)
    call_command("demo", seed=seed, customers=DEMO_CUSTOMERS, machines=DEMO_MACHINES, orders=demo_orders, verbosity=0)
    builder = _Builder(scale=scale, seed=seed, batch=batch, report=report)
    rest = scale - ServiceOrder.objects.count()
    statuses = Counter()
    if rest > 0:
        # A quarter as many customers as orders: most farmers call more than once over the years.
        clones = max(1, math.ceil(scale / 4 / DEMO_CUSTOMERS))
        with explicit_timestamps(Customer, Machine, ServiceOrder, *ORDER_CHILDREN):
            customer_ids, machine_ids = builder.clone_archive(clones)
            statuses = builder.clone_orders(rest, customer_ids, machine_ids, clones)
    with connection.cursor() as cursor:
        # Fresh statistics for the planner, and on PostgreSQL a vacuumed heap (visibility map set, so
        # index-only scans stay index-only), as autovacuum or a periodic maintenance job would give.
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    summary = {
        "orders": ServiceOrder.objects.count(), "events": OrderEvent.objects.count(),
        "customers": Customer.objects.count(), "machines": Machine.objects.count(),
        "seconds": round(time.monotonic() - started, 1), "bulk_statuses": dict(statuses.most_common()),
    }
    report(f"dataset: {summary}")
    return summary
