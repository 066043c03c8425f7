"""Background work of the retention app, run by `aftersales worker`."""

from __future__ import annotations

from django_tasks import task


@task()
def purge_expired() -> dict:
    """The daily purge (docs/deploy.md "Retention"); queued every tick, it runs once a day."""
    from aftersales.retention.services import retention_purge_if_due

    result = retention_purge_if_due()
    return {} if result is None else {"run": result.run.pk, **result.counts}
