"""Background tasks (Django tasks API, database backend): run by `aftersales worker`."""

from __future__ import annotations

from django_tasks import task


@task()
def sweep_clocks() -> dict:
    from aftersales.sla.services import sweep

    return sweep()


@task()
def deliver_outbox() -> dict:
    from aftersales.notify.services import STOPPING, outbox_deliver

    total: dict[str, int] = {}
    for _ in range(50):  # batches until nothing is due, bounded so one run cannot starve the sweeps
        if STOPPING.is_set():  # SIGTERM: the worker is stopping; the next one delivers the rest
            break
        counts = outbox_deliver()
        total = {k: total.get(k, 0) + v for k, v in counts.items()}
        if not any(counts.values()):
            break
    return total


@task()
def recompute_clocks() -> int:
    from aftersales.sla.services import clocks_recompute

    return clocks_recompute()
