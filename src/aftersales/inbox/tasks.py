"""Background work of the inbox, run by `aftersales worker`."""

from __future__ import annotations

from django_tasks import task


@task()
def poll_inbox() -> dict:
    """Read new faxes and e-mails into drafts; queued every worker tick, a no-op without AFTERSALES_INBOX_HOST."""
    from aftersales.inbox.services import inbox_poll

    return inbox_poll()
