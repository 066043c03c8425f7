"""Load the demo data into an empty database and print the demo logins."""

from __future__ import annotations

import os
import time
import unicodedata

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from aftersales.accounts.models import Organization
from aftersales.demo.build import DEMO_PASSWORD, build_demo, stage_rng
from aftersales.calls import demo as calls_demo
from aftersales.knowledge import demo as knowledge_demo
from aftersales.parts import demo as parts_demo
from aftersales.quality import demo as quality_demo
from aftersales.service import demo as service_demo
from aftersales.sla import demo as sla_demo
from aftersales.standards import demo as standards_demo
from aftersales.stats.services import aggregates_rebuild
from aftersales.visits import demo as visits_demo


def _width(text: str) -> int:
    # A Chinese character takes two terminal columns; ljust would misalign the table.
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def _count(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError
    return number


class Command(BaseCommand):
    help = (
        "Load the demo: 开拓机械's service network with one user per role (password demo1234), "
        "product models, customers and machines. The same --seed gives the same data."
    )

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=_count, default=300, metavar="N")
        parser.add_argument("--machines", type=_count, default=400, metavar="N")
        parser.add_argument("--orders", type=_count, default=200, metavar="N",
                            help="Service orders, with 12 months of history.")
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--if-empty", action="store_true",
                            help="Do nothing when the database already has a service network (for `make run`).")

    def handle(self, *args, customers, machines, orders, seed, if_empty, **options):
        started = time.monotonic()
        with transaction.atomic():
            # Inside the transaction: on SQLite it takes the write lock at BEGIN, so two `make run`
            # starting at once queue here; elsewhere the unique organization codes stop the second.
            if Organization.objects.exists():
                if if_empty:
                    self.stdout.write("demo data already present")
                    return
                raise CommandError(
                    "The database already has a service network; the demo loads only into an empty one. "
                    "Use --if-empty to skip quietly when data is present, or start from a fresh database."
                )
            result = self._build(seed=seed, customers=customers, machines=machines)
            # Each app builds its own demo; this command only orders them (the orders need the
            # network and the archive, the SLA demo moves some orders into warning and breach).
            if orders:
                service_demo.build_orders(stage_rng(seed, "orders"), orders, result.network, self.stdout)
                sla_demo.build(self.stdout)
                quality_demo.build(network=result.network, rng=stage_rng(seed, "quality"), stdout=self.stdout)
                visits_demo.build(self.stdout)  # the next morning's return visits
            knowledge_demo.build(network=result.network)
            standards_demo.build(network=result.network, rng=stage_rng(seed, "standards"))
            parts_demo.build(network=result.network, stdout=self.stdout)
            calls_demo.build(network=result.network)
            aggregates_rebuild()  # last: the statistics' daily aggregates, so /stats/ reads a full year at once
        self.stdout.write(self.style.SUCCESS(f"Demo data loaded (seed {seed}) in {time.monotonic() - started:.1f} s."))
        self._print_logins(result.network.logins())

    def _build(self, *, seed, customers, machines):
        from tqdm import tqdm

        # tqdm hides itself when stderr is not a terminal (CI, tests, a log file).
        with tqdm(total=customers + machines, unit="row", disable=None, leave=False) as bar:
            return build_demo(
                seed=seed, customers=customers, machines=machines, today=timezone.localdate(),
                progress=bar.update, report=self.stdout.write,
            )

    def _print_logins(self, rows):
        host = os.environ.get("AFTERSALES_HOST", "127.0.0.1")
        port = os.environ.get("AFTERSALES_PORT", "8000")
        self.stdout.write("")
        self.stdout.write(f"Open http://{host}:{port}/ (administration: http://{host}:{port}/admin/) and log in as:")
        header = ("用户名", "岗位", "机构", "密码")
        widths = [max(_width(r[i]) for r in (header, *rows)) for i in range(4)]
        for row in (header, tuple("-" * w for w in widths), *rows):
            self.stdout.write("  " + "  ".join(_pad(cell, w) for cell, w in zip(row, widths)).rstrip())
        self.stdout.write(f"Every demo user's password is {DEMO_PASSWORD}.")
