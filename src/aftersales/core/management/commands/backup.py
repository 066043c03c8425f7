"""`aftersales backup PATH`: a consistent copy of the database, safe while the site is serving."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from aftersales.core.backup import BackupError, backup


class Command(BaseCommand):
    help = ("Write a consistent copy of the database to PATH while the site keeps running "
            "(SQLite: the online backup API; PostgreSQL: pg_dump --format=custom).")

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)

    def handle(self, *args, path, **options):
        try:
            written = backup(path)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"backup written to {written} ({written.stat().st_size} bytes)")
