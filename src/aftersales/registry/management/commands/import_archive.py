"""`aftersales import customers|machines FILE`: load the customer or machine archive from a spreadsheet.

The rules live in ``aftersales.registry.importers``; this command adds the options, the progress
bar, the report and the exit code that scripts read.
"""

from __future__ import annotations

import csv
import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from tqdm import tqdm

from aftersales.accounts.models import Organization
from aftersales.registry import importers

# Exit codes: 0 every row saved (or, with --dry-run, valid), 1 some rows failed, 2 nothing was
# read (the file, its columns or an option was refused).
ROWS_FAILED = 1
REFUSED = 2


class Command(BaseCommand):
    help = (
        "Import customers or machines from an .xlsx (first sheet) or .csv file (UTF-8 or GBK). "
        "Row 1 is the header, in Chinese or English: customers need 姓名/name and 电话/phones "
        "(several numbers separated by ; ， / or 、), machines need 出厂编号/serial_number and "
        "型号/model_code; the owner is found by 机主电话/owner_phone and the dealer by "
        "经销商编码/dealer_code. A missing, unknown or repeated column refuses the whole file "
        "and nothing is saved (exit 2). By default each valid row is saved on its own and each "
        "invalid row is reported with its spreadsheet row number (exit 1 if any). --atomic saves "
        "nothing unless every row is valid; --dry-run checks every row and saves nothing. A phone "
        "or serial number that appears twice in the file is an error of the later row."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=sorted(importers.KINDS), help="What the file holds.")
        parser.add_argument("path", help="The .xlsx or .csv file.")
        parser.add_argument("--atomic", action="store_true",
                            help="All or nothing: save no row unless every row is valid.")
        parser.add_argument("--dry-run", action="store_true",
                            help="Check every row as a real import would, then save nothing.")
        parser.add_argument("--registered-by", metavar="ORGCODE",
                            help="Code of the organization recorded as having registered the rows.")
        parser.add_argument("--errors-csv", metavar="PATH",
                            help="Write the row errors (row, field, message) to this CSV file instead of the screen.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, kind, path, atomic, dry_run, registered_by, errors_csv, no_progress, **options):
        organization = None
        if registered_by:
            organization = Organization.objects.filter(code=registered_by).first()
            if organization is None:
                raise CommandError(_("Unknown organization code %(code)s.") % {"code": registered_by}, returncode=REFUSED)
        try:
            sheet = importers.read_sheet(kind, path)
        except importers.ImportRefused as exc:
            raise CommandError(exc.message, returncode=REFUSED) from exc
        # Opened before the import so that a path we cannot write stops it while nothing is saved.
        try:
            errors_file = open(errors_csv, "w", newline="", encoding="utf-8-sig") if errors_csv else None
        except OSError as exc:
            raise CommandError(_("Cannot write %(path)s: %(error)s") % {"path": errors_csv, "error": exc},
                               returncode=REFUSED) from exc
        try:
            # disable=None lets tqdm switch itself off when stderr is not a terminal (cron, pipes).
            with tqdm(total=len(sheet.rows), file=sys.stderr, disable=True if no_progress else None,
                      unit=_("rows"), leave=False) as bar:
                result = importers.import_sheet(
                    sheet, atomic=atomic, dry_run=dry_run, registered_by=organization, progress=bar.update
                )
            if errors_file:
                self._write_errors_csv(errors_file, result)
            else:
                self._print_errors(result)
        finally:
            if errors_file:
                errors_file.close()
        self.stdout.write(self._summary(result, atomic=atomic, dry_run=dry_run))
        if result.failed:
            raise CommandError(
                _("%(failed)d of %(total)d rows have errors.") % {"failed": result.failed, "total": result.total},
                returncode=ROWS_FAILED,
            )

    @staticmethod
    def _write_errors_csv(file, result: importers.ImportResult) -> None:
        writer = csv.writer(file)
        writer.writerow(["row", "field", "message"])
        for row, fields in result.errors:
            for name, message in fields.items():
                writer.writerow([row, name, message])

    def _print_errors(self, result: importers.ImportResult) -> None:
        for row, fields in result.errors:
            for name, message in fields.items():
                self.stderr.write(_("Row %(row)d, %(field)s: %(message)s") % {"row": row, "field": name, "message": message})

    @staticmethod
    def _summary(result: importers.ImportResult, *, atomic: bool, dry_run: bool) -> str:
        counts = {"total": result.total, "created": result.created, "valid": result.valid, "failed": result.failed}
        if dry_run:
            return _("Dry run, nothing saved. Rows: %(total)d, valid: %(valid)d, invalid: %(failed)d.") % counts
        if atomic and result.failed:
            return _("Nothing saved (--atomic). Rows: %(total)d, valid: %(valid)d, invalid: %(failed)d.") % counts
        return _("Rows: %(total)d, saved: %(created)d, failed: %(failed)d.") % counts
