"""`aftersales restore PATH`: bring back a backup made by `aftersales backup`."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from aftersales.core.backup import BackupError, database_has_data, restore


class Command(BaseCommand):
    help = ("Replace the database with the backup at PATH. Stop the server first. Refuses to overwrite a "
            "database that has tables unless --force is given.")

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--force", action="store_true", help="Overwrite the current database.")

    def handle(self, *args, path, force, **options):
        if not path.is_file():
            raise CommandError(f"{path} does not exist.")
        if database_has_data() and not force:
            raise CommandError("The database is not empty: restoring would overwrite it. "
                               "Stop the server, then run again with --force.")
        try:
            restore(path)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"restored {path}")
