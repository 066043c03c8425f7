"""Create (or reset) an administrator account without prompts when given --password."""

from __future__ import annotations

import getpass

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from aftersales.accounts.models import RoleCode, User
from aftersales.accounts.services import user_set_roles


class Command(BaseCommand):
    help = "Create an administrator (superuser with the administrator role)."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument("--password", help="Prompted for when omitted.")
        parser.add_argument("--email", default="")

    @transaction.atomic
    def handle(self, *args, username, password, email, **options):
        if not password:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("The passwords differ.")
        if len(password) < 8:
            raise CommandError("The password needs at least 8 characters.")
        user, created = User.objects.get_or_create(username=username, defaults={"email": email})
        user.is_staff = user.is_superuser = user.is_active = True
        user.set_password(password)
        user.save()
        user_set_roles(user=user, roles=[RoleCode.ADMINISTRATOR])
        self.stdout.write(f"{'Created' if created else 'Updated'} administrator {username}.")
