"""Background work of the quality app, run by `aftersales worker`."""

from __future__ import annotations

from django_tasks import task


@task()
def run_campaign(campaign_id: int) -> int:
    """One batch of a campaign's orders; queues the next batch while machines are left."""
    from aftersales.quality.models import CampaignTarget
    from aftersales.quality.services import campaign_run

    made = campaign_run(campaign_id=campaign_id)
    if CampaignTarget.objects.filter(campaign_id=campaign_id, order=None, skipped="").exists():
        run_campaign.enqueue(campaign_id)
    return made


@task()
def scan_batches() -> dict:
    """The daily batch alarm scan; queued every tick by the worker, it runs once a day."""
    from aftersales.quality.services import quality_scan_if_due

    result = quality_scan_if_due()
    return {} if result is None else {"alarms": result.alarms, "opened": result.opened, "updated": result.updated}
