"""Background work of the phone-system app, run by `aftersales worker`."""

from __future__ import annotations

from django_tasks import task


@task()
def prune_signatures() -> int:
    """Forget signatures older than twice the window (they can no longer be replayed: too old)."""
    from aftersales.calls.services import signatures_prune

    return signatures_prune()
