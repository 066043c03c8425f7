"""Background work of the statistics centre, run by `aftersales worker`."""

from __future__ import annotations

from django_tasks import task


@task()
def send_reports() -> int:
    """Queue the weekly and monthly reports that are due (each once; cheap when none is)."""
    from aftersales.stats.services import reports_send

    return reports_send()


@task()
def refresh_aggregates() -> int:
    """Recount the orders changed since the last run into the daily aggregates (docs/kpis.md)."""
    from aftersales.stats.services import aggregates_refresh

    return aggregates_refresh()
