"""Background work of the return visits, run by `aftersales worker`."""

from __future__ import annotations

from django_tasks import task


@task()
def plan_visits() -> dict:
    """The next morning's visit list; queued every tick, it plans once a day."""
    from aftersales.visits.services import visits_plan_if_due

    result = visits_plan_if_due()
    return {} if result is None else {"day": result.day.isoformat(), "created": result.created}
