"""The only writes of the ops app: a worker's heartbeat."""

from __future__ import annotations

import os
import socket
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from aftersales.ops.models import WorkerHeartbeat

# Rows of workers silent this long are dropped (a restarted worker has a new id).
FORGET_AFTER = timedelta(days=1)


@transaction.atomic
def worker_beat(*, worker_id: str, stopped: bool = False) -> WorkerHeartbeat:
    """Record that this worker process is alive (or has stopped cleanly)."""
    now = timezone.now()
    beat, created = WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id[:64],
        defaults={"seen_at": now, "stopped": stopped, "hostname": socket.gethostname()[:255], "pid": os.getpid()},
        create_defaults={"seen_at": now, "started_at": now, "stopped": stopped,
                         "hostname": socket.gethostname()[:255], "pid": os.getpid()},
    )
    if created:
        WorkerHeartbeat.objects.filter(seen_at__lt=now - FORGET_AFTER).delete()
    return beat
