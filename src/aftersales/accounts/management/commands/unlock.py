"""`aftersales unlock USERNAME [--address ADDR]` / `aftersales unlock --address ADDR`: lift login
lockouts (the same as the admin's "Clear" action on throttle counters)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from aftersales.accounts import services
from aftersales.core.errors import ValidationFailed


class Command(BaseCommand):
    help = "Lift the login lockouts of a user (from every address or one) or of a client address."

    def add_arguments(self, parser):
        parser.add_argument("username", nargs="?", default="")
        parser.add_argument("--address", default="", help="Only the lockout from this client address.")

    def handle(self, *args, username, address, **options):
        try:
            cleared = services.login_lockout_clear(username=username, address=address)
        except ValidationFailed as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"cleared {cleared} lockout counter(s)")
