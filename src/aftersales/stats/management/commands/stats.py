"""`aftersales stats rebuild|refresh`: the statistics centre's daily aggregates."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from aftersales.stats import aggregates
from aftersales.stats.services import aggregates_rebuild, aggregates_refresh


class Command(BaseCommand):
    help = "Statistics aggregates: `rebuild` recomputes them all from the orders' events (with a progress bar); " \
           "`refresh` recounts the orders changed since the last refresh (what the worker does every tick)."

    def add_arguments(self, parser):
        parser.add_argument("what", choices=["rebuild", "refresh"])

    def handle(self, *args, what, **options):
        started = time.monotonic()
        if what == "rebuild":
            n = aggregates_rebuild(aggregates.text_progress(self.stderr._out))
            self.stdout.write(f"aggregates rebuilt from {n} orders in {time.monotonic() - started:.1f} s")
        else:
            n = aggregates_refresh()
            self.stdout.write(f"{n} orders recounted in {time.monotonic() - started:.1f} s")
