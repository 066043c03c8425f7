"""Background work of the quality app, run by `aftersales worker` (a campaign's batches: quality.campaigns)."""

from __future__ import annotations

from django_tasks import task

from aftersales.quality.services import quality_scan_if_due


@task()
def scan_batches() -> dict:
    """The daily batch alarm scan; queued every tick by the worker, it runs once a day."""
    result = quality_scan_if_due()
    return {} if result is None else {"alarms": result.alarms, "opened": result.opened, "updated": result.updated}
