"""Create a personal API token for a user from the shell (scripts, integrations)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from aftersales.accounts.models import User
from aftersales.accounts.services import api_token_create


class Command(BaseCommand):
    help = "Create an API token: aftersales token USERNAME NAME (prints the key once)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("name")

    def handle(self, *args, username, name, **options):
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user {username}.")
        _, key = api_token_create(user=user, name=name)
        self.stdout.write(key)
