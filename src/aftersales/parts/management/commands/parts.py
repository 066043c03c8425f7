"""`aftersales parts check-ledger`: compare every cached stock balance with the sum of its ledger
lines; exit 1 and list the differences if any (a balance is never written outside a movement, so a
difference means someone wrote the table by hand). `aftersales parts replenish` prints the
replenishment suggestion of every warehouse."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Parts: check-ledger (cached balances against the ledger), replenish (what to order)."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["check-ledger", "replenish"])

    def handle(self, *args, action: str, **options):
        from aftersales.accounts.models import User
        from aftersales.parts import selectors

        if action == "check-ledger":
            diffs = selectors.ledger_differences()
            for d in diffs:
                self.stdout.write(f"warehouse {d['warehouse_id']} part {d['part_id']}: cached {d['cached']} "
                                  f"ledger {d['ledger']}")
            if diffs:
                raise CommandError(f"{len(diffs)} balance(s) differ from the ledger")
            self.stdout.write("ledger ok: every cached balance equals the sum of its movements")
            return
        admin = User.objects.filter(is_superuser=True, is_active=True).first()
        if admin is None:
            raise CommandError("no active administrator to read with")
        for row in selectors.replenishment(admin):
            b = row["balance"]
            self.stdout.write(f"{b.warehouse.code}\t{b.part.number}\ton hand {b.quantity}\t"
                              f"reorder point {b.reorder_point}\tsuggest {row['suggested']}")
