"""`aftersales worker`: the background work, on the Django tasks API with the database backend.

Every --interval seconds it queues one SLA sweep and one outbox delivery (unless one is still
waiting in the queue), then runs every ready task with django_tasks_db's worker, which claims each
task with SELECT ... FOR UPDATE SKIP LOCKED: start as many workers as you like, on as many machines.

SIGTERM or Ctrl+C stops it gracefully: the task running finishes (the outbox delivery finishes the
message in flight and releases the rest of its claim at once), then the worker exits 0. A second
signal exits at once. `aftersales serve --with-worker` supervises it (restarts it when it dies).
"""

from __future__ import annotations

import logging
import signal
import sys
import time
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks.base import TaskResultStatus
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from aftersales.notify.services import STOPPING
from aftersales.ops.services import worker_beat
from aftersales.calls.tasks import prune_signatures
from aftersales.inbox.tasks import poll_inbox
from aftersales.quality.tasks import scan_batches
from aftersales.retention.tasks import purge_expired
from aftersales.standards.tasks import remind_stalled_owners
from aftersales.sla.tasks import deliver_outbox, sweep_clocks
from aftersales.stats.tasks import refresh_aggregates, send_reports
from aftersales.visits.tasks import plan_visits

logger = logging.getLogger("aftersales.worker")
KEEP_RESULTS = timedelta(days=1)


def schedule_periodic() -> int:
    """Queue the periodic tasks, at most one waiting of each (a missed tick is no backlog)."""
    queued = 0
    # The quality scan and the statistics reports decide themselves whether they are due (once a day;
    # once per period and subscriber; the next morning's return visits once a day), so queuing them
    # every tick costs one query each.
    for task in (sweep_clocks, deliver_outbox, scan_batches, send_reports, remind_stalled_owners, plan_visits,
                 poll_inbox, prune_signatures, refresh_aggregates, purge_expired):
        if not DBTaskResult.objects.filter(task_path=task.module_path, status=TaskResultStatus.READY).exists():
            task.enqueue()
            queued += 1
    return queued


class Command(BaseCommand):
    help = "Run the background worker: SLA sweeps and escalations, outbox delivery, queued tasks."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=settings.SLA_SWEEP_INTERVAL_SECONDS,
                            help="Seconds between sweeps (default: AFTERSALES_SLA_SWEEP_INTERVAL).")
        parser.add_argument("--once", action="store_true", help="One sweep and delivery, run every ready task, exit.")
        parser.add_argument("--worker-id", default="", help="Unique per worker process (default: random).")

    def handle(self, *args, interval, once, worker_id, **options):
        if not logging.getLogger().handlers:
            logging.basicConfig(level=logging.INFO)
        worker_id = worker_id or get_random_string(32)
        worker = Worker(queue_names=["default"], interval=0, batch=True, backend_name="default", startup_delay=False,
                        max_tasks=None, worker_id=worker_id, excluded_queue_names=[])

        def stop(signum, frame):
            if STOPPING.is_set():
                sys.exit(1)  # asked twice: do not wait
            logger.info("worker: %s, finishing the task in hand", signal.strsignal(signum))
            STOPPING.set()
            worker.running = False  # django_tasks_db's loop: no further task

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        pruned_at = 0.0
        while not STOPPING.is_set():
            worker_beat(worker_id=worker_id)  # /readyz and the metrics: this worker is alive
            schedule_periodic()
            worker.run()
            if time.monotonic() - pruned_at > 3600:
                # Finished task rows are the worker's log, not data: keep one day of them.
                DBTaskResult.objects.finished().filter(finished_at__lt=timezone.now() - KEEP_RESULTS).delete()
                pruned_at = time.monotonic()
            if once:
                break
            STOPPING.wait(max(interval, 0.5))
        worker_beat(worker_id=worker_id, stopped=True)
