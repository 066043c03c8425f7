"""Rebuild the search index from scratch."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand
from django.db import transaction

from aftersales.knowledge.documents import rebuild


class Command(BaseCommand):
    help = "Rebuild the search index (articles, orders, customers, machines) in batches, with a progress bar."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=1000)

    def handle(self, *args, batch_size, **options):
        from tqdm import tqdm

        started = time.monotonic()
        # One transaction: searches keep seeing the old index until the new one is complete.
        with tqdm(unit="doc", disable=None) as bar, transaction.atomic():
            written = rebuild(batch_size=max(1, batch_size), progress=bar.update, totals=lambda n: bar.reset(total=n))
        elapsed = time.monotonic() - started
        self.stdout.write(self.style.SUCCESS(
            f"Indexed {written} documents in {elapsed:.1f} s ({written / elapsed if elapsed else 0:.0f} per second)."
        ))
