"""Background work of the standards app, run by `aftersales worker`."""

from __future__ import annotations

from django_tasks import task


@task()
def remind_stalled_owners() -> int:
    """首问负责: queued every tick by the worker; tells each owner once a day of their requests held
    elsewhere that nobody moved for 48 hours (the reminder itself is idempotent per day)."""
    from aftersales.standards.services import ownership_remind_stalled

    return ownership_remind_stalled()
