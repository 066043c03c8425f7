"""A service campaign's orders, made in batches (服务活动 / 召回): the batch function and the worker's
task that repeats it. Apart from quality.services, which starts campaigns and queues this task, so
the task never imports the module that queues it (no import circle)."""

from __future__ import annotations

import hashlib

from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from aftersales.core.errors import Conflict, ValidationFailed
from aftersales.quality.models import Campaign, CampaignStatus, CampaignTarget
from aftersales.service import services as order_services
from aftersales.service.models import OrderType

CAMPAIGN_BATCH = 50


def campaign_run(*, campaign_id: int, limit: int = CAMPAIGN_BATCH) -> int:
    """Make the orders of up to ``limit`` machines that have none yet; answers how many were made.

    Each order is made with an idempotency key per campaign and machine, so a batch cut short (a
    crash, a second worker) and run again finds the order it made and only links it."""
    campaign = Campaign.objects.select_related("owner", "issue").get(pk=campaign_id)
    todo = list(CampaignTarget.objects.filter(campaign=campaign, order=None, skipped="")
                .select_related("machine").order_by("pk")[:limit])
    made = 0
    for target in todo:
        data = order_services.OrderInput(
            order_type=OrderType.REPAIR, customer_id=target.machine.owner_id, machine_id=target.machine_id,
            symptom=_("Service campaign %(title)s: %(instructions)s") % {"title": campaign.title,
                                                                          "instructions": campaign.instructions},
            duplicate_reason=_("Service campaign %(title)s") % {"title": campaign.title},
        )
        key = f"campaign-{campaign.pk}-{target.machine_id}"
        try:
            result = order_services.order_create(actor=campaign.owner, data=data, idempotency_key=key,
                                                 request_hash=hashlib.sha256(key.encode()).hexdigest())
        except (ValidationFailed, Conflict) as exc:
            CampaignTarget.objects.filter(pk=target.pk).update(skipped=str(exc)[:200])
            continue
        CampaignTarget.objects.filter(pk=target.pk, order=None).update(order=result.order)
        made += 1
    if not CampaignTarget.objects.filter(campaign=campaign, order=None, skipped="").exists():
        Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.RUNNING).update(
            status=CampaignStatus.DONE, finished_at=timezone.now())
    return made


@task()
def run_campaign(campaign_id: int) -> int:
    """One batch of a campaign's orders; queues the next batch while machines are left."""
    made = campaign_run(campaign_id=campaign_id)
    if CampaignTarget.objects.filter(campaign_id=campaign_id, order=None, skipped="").exists():
        run_campaign.enqueue(campaign_id)
    return made
