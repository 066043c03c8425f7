"""Tasks carry the request id: the request that queues a task logs the task's id with its own id,
and the worker runs the task under an id of its own (task-<id>) that every line it logs — and
every outbox message it queues — carries, so the two join on the task id."""

from __future__ import annotations

import logging

from django.dispatch import receiver
from django_tasks.signals import task_enqueued, task_finished, task_started

from aftersales.ops.context import current_request_id, reset_request_id, set_request_id

logger = logging.getLogger("aftersales.tasks")
_tokens: dict[str, object] = {}


@receiver(task_enqueued)
def _enqueued(sender, task_result, **kwargs):
    # INFO when a request queued it (the line that joins the request to the task), DEBUG for the
    # worker's own periodic ticks, which would otherwise fill the log every few seconds.
    queued_by = current_request_id()
    logger.log(logging.INFO if queued_by and not queued_by.startswith("task-") else logging.DEBUG, "task queued",
               extra={"task_id": str(task_result.id), "task": task_result.task.module_path, "queued_by": queued_by or "-"})


@receiver(task_started)
def _started(sender, task_result, **kwargs):
    _tokens[str(task_result.id)] = set_request_id(f"task-{task_result.id}")
    logger.debug("task started", extra={"task_id": str(task_result.id), "task": task_result.task.module_path})


@receiver(task_finished)
def _finished(sender, task_result, **kwargs):
    logger.debug("task finished", extra={"task_id": str(task_result.id), "task": task_result.task.module_path,
                                        "task_status": str(task_result.status)})
    token = _tokens.pop(str(task_result.id), None)
    if token is not None:
        try:
            reset_request_id(token)
        except ValueError:  # finished in another context than it started: leave it
            pass
