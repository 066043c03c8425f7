"""Time one SLA sweep over N open clocks, 1 % of them past due (set-based marking).

    AFTERSALES_VAR_DIR=/tmp/bench .venv/bin/python bench/sla_sweep.py 100000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/aftersales_sla_bench .venv/bin/python bench/sla_sweep.py 100000

Uses (and empties) the database it is pointed at: never run it against real data.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import timedelta

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftersales.settings")
import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

TARGETS = ("handoff", "callback", "dispatch_accept", "on_site", "fixed", "repair_ceiling", "complaint_response")


def fill(n: int) -> None:
    from aftersales.accounts.models import Organization, OrganizationKind, User
    from aftersales.notify.models import OutboxMessage
    from aftersales.registry.models import Customer
    from aftersales.service.models import ServiceOrder
    from aftersales.sla.models import SlaClock

    SlaClock.objects.all().delete()
    OutboxMessage.objects.all().delete()
    ServiceOrder.objects.filter(number__startswith="BENCH").delete()
    org, _ = Organization.objects.get_or_create(code="BENCH", defaults={"name": "bench", "kind": OrganizationKind.SERVICE_CENTER})
    user, _ = User.objects.get_or_create(username="bench", defaults={"organization": org, "phone": "+8613900000000"})
    customer = Customer.objects.filter(name="bench").first() or Customer.objects.create(name="bench")
    now = timezone.now()
    per_order = len(TARGETS)
    orders = n // per_order + 1
    ServiceOrder.objects.bulk_create(
        [ServiceOrder(number=f"BENCH{i:09d}", order_type="repair", customer=customer, contact_phone="+8613900000001",
                      service_level="farmer", owning_org=org, owner=user) for i in range(orders)], batch_size=5000)
    ids = list(ServiceOrder.objects.filter(number__startswith="BENCH").order_by("pk").values_list("pk", flat=True))
    rows = []
    for i in range(n):
        due_now = i % 100 == 0
        due = now - timedelta(minutes=10) if due_now else now + timedelta(hours=2 + i % 500)
        rows.append(SlaClock(order_id=ids[i // per_order], target=TARGETS[i % per_order], target_seconds=3600,
                             basis="working", started_at=now - timedelta(hours=1), due_at=due,
                             warn_at=due - timedelta(minutes=12), state="running", holder_org=org, holder_user=user,
                             computed_at=now))
        if len(rows) == 10000:
            SlaClock.objects.bulk_create(rows)
            rows = []
    SlaClock.objects.bulk_create(rows)
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE sla_slaclock")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    call_command("migrate", verbosity=0)
    from aftersales.sla.models import SlaClock
    from aftersales.sla.services import sweep

    started = time.perf_counter()
    with transaction.atomic():
        fill(n)
    filled = time.perf_counter() - started
    started = time.perf_counter()
    result = sweep()
    first = time.perf_counter() - started
    started = time.perf_counter()
    again = sweep()
    second = time.perf_counter() - started
    marked = SlaClock.objects.filter(breach_noticed_at__isnull=False).count()
    print(f"{connection.vendor}: {n} open clocks (filled in {filled:.1f} s); sweep: {first * 1000:.0f} ms {result}; "
          f"second sweep: {second * 1000:.0f} ms {again}; breached marked: {marked}")


if __name__ == "__main__":
    main()
