"""The SLA sweep, timed two ways.

``measure(bench)`` (``make bench``, through bench/measures.py): on the benchmark dataset, makes 1 % of
the running clocks due and lets the real background worker (``aftersales worker --once``, a separate
process with the server's environment) perform one sweep; reports the sweep task's own duration
(``sla_sweep_s``) and the worker process's peak resident memory (``worker_rss_mb_peak``). The dataset
is kept: its bulk-cloned open orders get their clocks once (see ``ensure_clocks``), and the sweep's
marks and notices are real writes, as in production.

Run alone, it times ``sweep()`` in this process over N synthetic clocks, 1 % of them past due:

    AFTERSALES_VAR_DIR=/tmp/bench .venv/bin/python bench/sla_sweep.py 100000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/aftersales_sla_bench .venv/bin/python bench/sla_sweep.py 100000

Run alone it uses (and empties) the database it is pointed at: never run it against real data.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

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
                      service_level="standard", owning_org=org, owner=user) for i in range(orders)], batch_size=5000)
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


# --- make bench: the real worker over the benchmark dataset -------------------------------------------

# An order made through the services and a bulk clone of it share these; so do their clocks.
TEMPLATE_KEY = ("order_type", "status", "owning_org_id", "assigned_org_id", "assigned_technician_id", "warranty_status")
CLOCK_COPY = ("target", "policy_id", "target_seconds", "basis", "holder_org_id", "holder_user_id")
DUE_SHARE = 0.01


def ensure_clocks(*, batch: int = 5000) -> int:
    """Give running clocks to the open orders that have no clock at all; returns how many were made.

    Those are the bulk clones of bench/dataset.py: copied rows that never passed through the
    services, so the clock hook never ran for them, and a sweep over them would sweep nothing. Each
    gets the running clocks of an order that did pass through the services with the same type,
    status, organizations, technician and warranty answer (its template, or its equal): the targets,
    policies and holders the engine gave that order; one whose equal has no running clock (completed,
    awaiting confirmation) gets none, as the engine would give none. The times are new: due 2 to 501
    hours from now, spread by order, the warning at 80 % of the target but at most an hour before, so
    that nothing is due until ``make_due`` says so.
    """
    from aftersales.service.models import OPEN_STATUSES, ServiceOrder
    from aftersales.sla.models import ClockState, SlaClock

    bare = (ServiceOrder.objects.filter(status__in=OPEN_STATUSES)
            .filter(~Exists(SlaClock.objects.filter(order=OuterRef("pk")))).order_by("pk"))
    if not bare.exists():
        return 0
    templates: dict[tuple, tuple[int, list[tuple]]] = {}
    rows = (SlaClock.objects.filter(state=ClockState.RUNNING).order_by("order_id", "target")
            .values_list("order_id", *(f"order__{k}" for k in TEMPLATE_KEY), *CLOCK_COPY))
    for row in rows.iterator(chunk_size=batch):
        order_id, key, clock = row[0], row[1:1 + len(TEMPLATE_KEY)], row[1 + len(TEMPLATE_KEY):]
        first = templates.setdefault(key, (order_id, []))
        if first[0] == order_id:  # one template per key: the first order's clocks only
            first[1].append(clock)
    now = timezone.now()
    before, last = SlaClock.objects.count(), 0
    while True:
        # Keyset pages: orders without a template keep no clock and stay in `bare`.
        page = list(bare.filter(pk__gt=last).values_list("pk", *TEMPLATE_KEY)[:batch])
        if not page:
            break
        last = page[-1][0]
        new = []
        for pk, *key in page:
            for target, policy_id, seconds, basis, holder_org_id, holder_user_id in templates.get(tuple(key), (0, []))[1]:
                due = now + timedelta(hours=2 + pk % 500)
                new.append(SlaClock(order_id=pk, target=target, policy_id=policy_id, target_seconds=seconds, basis=basis,
                                    started_at=now - timedelta(hours=1), due_at=due,
                                    warn_at=due - timedelta(seconds=min(seconds * 0.2, 3600)),
                                    state=ClockState.RUNNING, holder_org_id=holder_org_id, holder_user_id=holder_user_id,
                                    computed_at=now))
        with transaction.atomic():
            # The server may still be finishing the transitions measure's last requests, which give
            # an order its clocks through the services: those rows win.
            SlaClock.objects.bulk_create(new, batch_size=2000, ignore_conflicts=True)
    made = SlaClock.objects.count() - before
    if made:
        with connection.cursor() as cur:
            # Fresh statistics, as after the dataset's build: the sweep's plans depend on them.
            cur.execute("ANALYZE sla_slaclock")
    return made


def make_due(*, share: float = DUE_SHARE, seed: int = 7) -> tuple[list[int], int]:
    """Move ``share`` of the running clocks (chosen among those not yet warned, breached or due)
    to due 10 minutes ago; returns their ids and the number of running clocks."""
    from aftersales.sla.models import ClockState, SlaClock

    now = timezone.now()
    running = SlaClock.objects.filter(state=ClockState.RUNNING)
    total = running.count()
    candidates = list(running.filter(warned_at__isnull=True, breach_noticed_at__isnull=True, due_at__gt=now)
                      .order_by("pk").values_list("pk", flat=True))
    chosen = sorted(random.Random(seed).sample(candidates, min(len(candidates), max(1, round(total * share)))))
    with transaction.atomic():
        for i in range(0, len(chosen), 2000):
            SlaClock.objects.filter(pk__in=chosen[i:i + 2000]).update(
                due_at=now - timedelta(minutes=10), warn_at=now - timedelta(minutes=22))
    return chosen, total


def run_worker(*, env: dict, log_path: Path, timeout: float = 1800) -> dict:
    """``aftersales worker --once`` as its own process; its wall time, exit code and peak RSS.

    The peak is the process's VmHWM (high-water mark of its resident set since exec), read every
    10 ms until it exits: the mark only grows, so the last reading misses at most the exit's last
    10 ms. Not wait4's ru_maxrss: Linux carries the parent's high-water mark at fork into the child's,
    so it would report this benchmark process's size, not the worker's."""
    from bench.client import vm_hwm_kb  # run from bench/run.py; main() alone does not need it

    cmd = [sys.executable, "-m", "aftersales.cli", "worker", "--once"]
    with open(log_path, "ab") as log:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        peak, deadline = 0, time.monotonic() + timeout
        while proc.poll() is None:
            peak = max(peak, vm_hwm_kb(proc.pid))
            if time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                raise RuntimeError(f"aftersales worker --once still running after {timeout} s; see {log_path}")
            time.sleep(0.01)
        wall = time.perf_counter() - started
    return {"wall_s": wall, "returncode": proc.returncode, "peak_mb": peak / 1024}


def measure(bench) -> dict:
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from aftersales.sla.models import SlaClock
    from aftersales.sla.services import sweep
    from aftersales.sla.tasks import sweep_clocks

    t0 = time.perf_counter()
    made = ensure_clocks()
    made_s = time.perf_counter() - t0
    # The backlog first, swept here: the transitions measure re-derives clocks of cloned orders from
    # timelines months old (long overdue), and the previous run's due clocks have reached their
    # escalation delays. Left in place they would be the bulk of the timed sweep, not the 1 %.
    t0 = time.perf_counter()
    backlog = sweep()
    backlog_s = time.perf_counter() - t0
    due_ids, running = make_due()
    connection.close()  # nothing of ours open while the worker sweeps (SQLite: no lock held)

    launched = timezone.now()
    log_path = Path(bench.workdir) / "worker.log"
    run = run_worker(env=bench.server.env, log_path=log_path)
    if run["returncode"] != 0:
        raise RuntimeError(f"aftersales worker --once exited with {run['returncode']}; see {log_path}")
    ran = list(DBTaskResult.objects.filter(started_at__gte=launched).order_by("started_at"))
    sweeps = [r for r in ran if r.task_path == sweep_clocks.module_path]
    if len(sweeps) != 1 or sweeps[0].status != TaskResultStatus.SUCCESSFUL:
        raise RuntimeError(f"expected one successful sweep, the worker ran {[(r.task_path, r.status) for r in ran]}")
    sweep_result = sweeps[0]
    sweep_s = (sweep_result.finished_at - sweep_result.started_at).total_seconds()
    marked = sum(SlaClock.objects.filter(pk__in=due_ids[i:i + 2000], breach_noticed_at__isnull=False).count()
                 for i in range(0, len(due_ids), 2000))
    others = "; ".join(f"{r.task_path.rsplit('.', 1)[-1]} {(r.finished_at - r.started_at).total_seconds():.2f} s "
                       f"{r.return_value}" for r in ran if r is not sweep_result and r.finished_at)

    made_note = (f"{made} running clocks first given to the bulk-cloned open orders, copied from their "
                 f"service-made equals, in {made_s:.1f} s; ") if made else ""
    bench.note("sla_sweep_s", (
        f"{made_note}one sweep by the real worker (`aftersales worker --once`, own process, the server's "
        f"environment) over {running} running clocks, {len(due_ids)} of them made due ({DUE_SHARE:.0%}), "
        f"after the backlog was swept in the bench process ({backlog_s:.2f} s, {backlog})"
        f"; the sweep task's own duration (its DBTaskResult started_at..finished_at, not the process's "
        f"start-up): marked {sweep_result.return_value}; {marked}/{len(due_ids)} made due marked breached; "
        f"the process ran {run['wall_s']:.1f} s in all" + (f", also ran: {others}" if others else "")))
    bench.note("worker_rss_mb_peak", (
        "VmHWM of the `aftersales worker --once` process, read every 10 ms until it exited: its whole life, "
        f"start-up, the sweep over {running} running clocks, then the outbox delivery"))
    return {"sla_sweep_s": round(sweep_s, 3), "worker_rss_mb_peak": round(run["peak_mb"], 1) if run["peak_mb"] else None}


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftersales.settings")
    import django

    django.setup()
    main()
