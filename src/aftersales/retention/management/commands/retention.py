"""`aftersales retention purge [--apply]`: remove or anonymise what the retention policy says is past
its time (docs/deploy.md "Retention"). Without --apply it only counts; with it, it works in batches,
each in its own transaction, and records the run (`aftersales retention runs` lists them)."""

from __future__ import annotations

import getpass
import json

from django.core.management.base import BaseCommand, CommandError

from aftersales.retention.models import RetentionRun
from aftersales.retention.policy import RULES
from aftersales.retention.services import retention_purge


class Command(BaseCommand):
    help = "Retention: purge (dry run unless --apply) or list the recorded runs."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        purge = sub.add_parser("purge", help="count (or with --apply remove/anonymise) what is past retention")
        purge.add_argument("--apply", action="store_true", help="change the database (default: only count)")
        purge.add_argument("--batch", type=int, default=1000, help="rows per transaction (default 1000)")
        purge.add_argument("--only", nargs="+", choices=[r.name for r in RULES], help="only these rules")
        runs = sub.add_parser("runs", help="the recorded runs, newest first, as JSON lines")
        runs.add_argument("--limit", type=int, default=20)

    def handle(self, *args, action, **options):
        if action == "runs":
            for run in RetentionRun.objects.all()[: options["limit"]]:
                self.stdout.write(json.dumps({"id": run.pk, "started_at": run.started_at.isoformat(),
                                              "finished_at": run.finished_at.isoformat() if run.finished_at else None,
                                              "actor": run.actor, "counts": run.counts}, ensure_ascii=False))
            return
        if options["batch"] < 1:
            raise CommandError("--batch: must be at least 1")
        try:
            actor = getpass.getuser()
        except Exception:  # noqa: BLE001 - no login name in a bare container
            actor = "operator"
        result = retention_purge(apply=options["apply"], actor=actor, batch=options["batch"], only=options["only"])
        verb = "done" if result.applied else "would be done (dry run; --apply to do it)"
        labels = {r.name: r for r in RULES}
        for name, count in result.counts.items():
            rule = labels[name]
            cut = result.cutoffs[name]
            when = f"before {cut[:19]}" if cut else "kept forever (period 0)"
            self.stdout.write(f"{name:18} {rule.action:9} {count:>9}  {when}  ({rule.label})")
        self.stdout.write(f"{verb}" + (f": run #{result.run.pk}" if result.run else ""))
