"""`aftersales quality scan|campaigns`: the batch alarm scan and the campaigns' pending orders."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from aftersales.quality.models import Campaign, CampaignStatus
from aftersales.quality.services import campaign_run, quality_scan


class Command(BaseCommand):
    help = "Product quality: `scan` compares every batch with its model's other batches and opens quality " \
           "issues for alarms; `campaigns` makes the pending orders of running service campaigns."

    def add_arguments(self, parser):
        parser.add_argument("what", choices=["scan", "campaigns"])

    def handle(self, *args, what, **options):
        if what == "scan":
            r = quality_scan()
            self.stdout.write(f"alarms {r.alarms}, issues opened {r.opened}, updated {r.updated}")
            return
        for campaign in Campaign.objects.filter(status=CampaignStatus.RUNNING).order_by("pk"):
            made = total = 0
            while (made := campaign_run(campaign_id=campaign.pk)) > 0:
                total += made
            self.stdout.write(f"campaign {campaign.pk}: {total} orders made")
