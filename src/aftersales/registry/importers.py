"""Import of the customer and machine archives (客户档案、设备档案) from spreadsheets.

A file is an ``.xlsx`` workbook (its first sheet) or a ``.csv`` file (UTF-8 with or without BOM,
else GB18030, which is what Chinese Excel writes). Row 1 is the header; columns may be named in
Chinese or in English (see ``CUSTOMERS`` and ``MACHINES``), in any order.

Semantics:

* **File-level errors change nothing.** An unreadable file, a wrong extension, a missing required
  column, an unknown or repeated column, or data under a column without a header refuse the whole
  file (``ImportRefused``) before a single row is written. The whole file is checked first so
  that a broken file cannot stop an import half-way; it is read row by row, never held whole.
* **Limits** (a file over them is refused with the reason): at most ``IMPORT_MAX_ROWS`` data rows
  (AFTERSALES_IMPORT_MAX_ROWS, 100,000), ``MAX_COLUMNS`` columns, ``IMPORT_MAX_BYTES`` of text
  (AFTERSALES_IMPORT_MAX_BYTES, 100 MB; for an .xlsx what its parts unpack to).
* **Every row goes through ``customer_create`` / ``machine_create``**, so an imported record obeys
  exactly the rules of one entered by hand. A row's errors are reported as
  ``(row number, {field: message})``, where the row number is the spreadsheet's (header = row 1)
  and the fields are the column names in English (``phones[1]`` is the second number of the
  phone cell). Fully blank rows are skipped and not counted.
* **Default: each row stands alone.** A valid row is saved in its own transaction (a savepoint
  when the caller already holds one); an invalid row is reported and the next row goes on. An
  interrupted import keeps the rows saved so far; running the file again reports those rows as
  already registered.
* **``atomic=True``: all or nothing.** The file is one transaction; every row is still checked so
  the report is complete, and if any row is invalid nothing is saved.
* **``dry_run=True``: check only.** Rows are saved inside a transaction that is rolled back at the
  end, so the report is exactly what a real import would give (later rows see earlier ones) and
  nothing stays in the database. Both modes hold one write transaction for the whole file; on
  SQLite other writers wait for it (up to the busy timeout), so check very large files off-hours.
* **Duplicates within the file** (the same phone number in two customer rows, the same serial
  number in two machine rows) are an error of the later row, whether or not the earlier row was
  valid: two rows for one number need a person to decide which is right.
* Machines find their owner by phone (机主电话, any spelling of a registered number; an unknown
  number is a row error) and their selling dealer by organization code (经销商编码). A blank owner
  phone registers a machine without an owner.
* Dates may be Excel date cells or text as 2026-03-01, 2026/3/1 or 2026年3月1日.
"""

from __future__ import annotations

import codecs
import csv
import re
import zipfile
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from openpyxl.reader.excel import ExcelReader
from openpyxl.styles.stylesheet import apply_stylesheet
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._reader import WorkSheetParser

from aftersales.accounts.models import Organization
from aftersales.core.errors import DomainError, ValidationFailed
from aftersales.core.phones import normalize_phone
from aftersales.registry.models import CustomerClass, CustomerPhone
from aftersales.registry.services import CustomerInput, MachineInput, customer_create, machine_create


class ImportRefused(ValidationFailed):
    """The whole file is refused; nothing was written."""

    code = "import_refused"


@dataclass
class ImportResult:
    total: int = 0
    created: int = 0  # rows saved and committed: 0 after a dry run or a refused --atomic import
    valid: int = 0  # rows that passed every check, saved or not
    errors: list[tuple[int, dict[str, str]]] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len(self.errors)


# --- Cell values -------------------------------------------------------------------------------


class CellError(ValueError):
    pass


def _text(value) -> str:
    if value is None:
        return ""
    # Excel keeps a phone or serial typed as digits as a number, which openpyxl may read as float.
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime) and value.time() == datetime.min.time():
        value = value.date()
    return str(value).strip()


_PHONE_SEPARATORS = re.compile(r"[;；,，/、]")


def _phones(value) -> list[str]:
    # Not split on spaces: "138 1234 5678" is one number.
    return [part.strip() for part in _PHONE_SEPARATORS.split(_text(value)) if part.strip()]


_DATE_FORMATS = (
    re.compile(r"(?P<y>\d{4})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})"),
    re.compile(r"(?P<y>\d{4})年(?P<m>\d{1,2})月(?P<d>\d{1,2})日?"),
)
# A CSV written by Excel from a date-time cell adds the time: "2026/3/1 0:00".
_TRAILING_TIME = re.compile(r"\s+\d{1,2}:\d{2}(:\d{2})?$")


def _date(value) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _TRAILING_TIME.sub("", _text(value))
    if not text:
        return None
    for pattern in _DATE_FORMATS:
        match = pattern.fullmatch(text)
        if match:
            try:
                return date(int(match["y"]), int(match["m"]), int(match["d"]))
            except ValueError:  # 2026-02-30
                break
    raise CellError(_("Not a date: %(value)s. Write it as 2026-03-01, 2026/3/1 or 2026年3月1日.") % {"value": text})


# Spreadsheets are filled in Chinese whatever the UI language, so the labels are fixed here
# rather than taken from the translated choice labels.
_CLASS_LABELS = {"大客户": CustomerClass.KEY_ACCOUNT, "农户": CustomerClass.FARMER,
                 "经销商": CustomerClass.DEALER, "其他": CustomerClass.OTHER}


def _customer_class(value) -> str:
    text = _text(value)
    if not text:
        return CustomerClass.FARMER
    # An unknown class goes to the service unchanged, which names the allowed ones.
    return _CLASS_LABELS.get(text) or (text.lower() if text.lower() in CustomerClass.values else text)


# --- What each kind of file holds ----------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    field: str
    headers: tuple[str, ...]  # accepted names besides the field name itself
    required: bool = False
    parse: Callable[[object], object] = _text

    @property
    def label(self) -> str:
        return f"{self.headers[0]} ({self.field})"


@dataclass(frozen=True)
class ArchiveKind:
    name: str
    columns: tuple[Column, ...]
    # Parsed row values -> the service's input; may add field errors (an unknown owner phone).
    build: Callable[[dict, dict], object]
    # Values that must not repeat within the file, as (error field, key) pairs.
    unique_keys: Callable[[dict], list[tuple[str, str]]]
    save: Callable[..., object]
    # Service error fields that the file knows under another column.
    error_fields: dict[str, str] = field(default_factory=dict)


def _customer_keys(values: dict) -> list[tuple[str, str]]:
    keys = []
    for i, raw in enumerate(values["phones"]):
        try:
            keys.append((f"phones[{i}]", normalize_phone(raw)))
        except ValidationFailed:
            pass  # the service reports it
    return keys


CUSTOMERS = ArchiveKind(
    name="customers",
    columns=(
        Column("name", ("姓名",), required=True),
        Column("phones", ("电话",), required=True, parse=_phones),
        Column("customer_class", ("客户类别",), parse=_customer_class),
        Column("province", ("省",)),
        Column("city", ("市",)),
        Column("county", ("县/区", "县", "区", "区县", "县区")),
        Column("township", ("乡镇",)),
        Column("village", ("村",)),
        Column("address", ("详细地址",)),
        Column("notes", ("备注",)),
    ),
    build=lambda values, errors: CustomerInput(**values),
    unique_keys=_customer_keys,
    save=customer_create,
)


def _owner_id(phone: str, errors: dict) -> int | None:
    if not phone:
        return None
    try:
        number = normalize_phone(phone, field="owner_phone")
    except ValidationFailed as exc:
        errors.update(exc.fields)
        return None
    # Unscoped on purpose: the command runs with the server's own rights, not a user's.
    owner_id = CustomerPhone.objects.filter(number=number).values_list("customer_id", flat=True).first()
    if owner_id is None:
        errors["owner_phone"] = _("No customer has the phone number %(phone)s; import the customers first.") % {
            "phone": phone}
    return owner_id


def _organization_id(code: str, errors: dict) -> int | None:
    if not code:
        return None
    org_id = Organization.objects.filter(code=code).values_list("pk", flat=True).first()
    if org_id is None:
        errors["dealer_code"] = _("Unknown organization code %(code)s.") % {"code": code}
    return org_id


def _machine_input(values: dict, errors: dict) -> MachineInput:
    values = dict(values)
    return MachineInput(
        owner_id=_owner_id(values.pop("owner_phone"), errors),
        selling_dealer_id=_organization_id(values.pop("dealer_code"), errors),
        **values,
    )


MACHINES = ArchiveKind(
    name="machines",
    columns=(
        Column("serial_number", ("出厂编号",), required=True),
        Column("model_code", ("型号",), required=True),
        Column("engine_number", ("发动机号",)),
        Column("owner_phone", ("机主电话",)),
        Column("invoice_date", ("开票日期",), parse=_date),
        Column("delivery_date", ("交付日期",), parse=_date),
        Column("dealer_code", ("经销商编码",)),
        Column("notes", ("备注",)),
    ),
    build=_machine_input,
    # The service stores serials stripped and upper-cased; compare them the same way.
    unique_keys=lambda values: [("serial_number", values["serial_number"].upper())] if values["serial_number"] else [],
    save=machine_create,
    error_fields={"owner_id": "owner_phone", "selling_dealer_id": "dealer_code"},
)

KINDS = {kind.name: kind for kind in (CUSTOMERS, MACHINES)}


# --- Reading a file ----------------------------------------------------------------------------
# Streaming and bounded: a file is read twice, row by row, never held whole. The first pass checks
# the whole file (header, cells without a header, the limits below) and counts its rows; the import
# reads it again. Memory is bounded by the limits whatever the sheet's shape: a cell in column XFD
# used to make openpyxl pad every row to 16,384 cells and the old reader kept all of them (issue 12,
# M3); a zip bomb is refused from the sizes its directory declares (zipfile never inflates a member
# past its declared size) before anything is inflated.

MAX_COLUMNS = 50  # the archives have at most 10 columns; room for blank or note columns
MAX_CSV_LINE = 256 * 1024  # one physical line of a CSV file, in characters
# Parts openpyxl keeps in memory whole (shared strings, styles, the workbook): each at most this.
MAX_XLSX_PART = 16 * 1024 * 1024
MAX_XLSX_MEMBERS = 1000


def _max_rows() -> int:
    return settings.IMPORT_MAX_ROWS


def _max_bytes() -> int:
    return settings.IMPORT_MAX_BYTES


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.0f} MB"


def _too_many_rows(name: str) -> ImportRefused:
    return ImportRefused(_("%(name)s has more than %(limit)d data rows; split it into smaller files.") % {
        "name": name, "limit": _max_rows()}, fields={"rows": str(_max_rows())})


def _too_many_columns(name: str, cell: str) -> ImportRefused:
    return ImportRefused(
        _("%(name)s has a value in cell %(cell)s, beyond the %(limit)d columns an archive may have.") % {
            "name": name, "cell": cell, "limit": MAX_COLUMNS}, fields={"columns": cell})


def _check_xlsx_archive(path: Path) -> None:
    """Refuse a workbook whose parts would inflate past the limits, before inflating anything."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise ImportRefused(_("Cannot read %(name)s: %(error)s") % {"name": path.name, "error": exc}) from exc
    if len(members) > MAX_XLSX_MEMBERS:
        raise ImportRefused(_("%(name)s is not a plain workbook (%(count)d parts).") % {
            "name": path.name, "count": len(members)})
    total = sum(m.file_size for m in members)
    if total > _max_bytes():
        raise ImportRefused(
            _("%(name)s unpacks to %(size)s, more than the %(limit)s an import may read; split it into smaller files.")
            % {"name": path.name, "size": _mb(total), "limit": _mb(_max_bytes())}, fields={"size": _mb(total)})
    for member in members:
        # Pictures and other binary parts are never read by the import; the XML parts besides the
        # worksheets are read whole (shared strings, styles, the workbook) and are capped each.
        whole = member.filename.endswith((".xml", ".rels")) and not member.filename.startswith("xl/worksheets/")
        if whole and member.file_size > MAX_XLSX_PART:
            raise ImportRefused(
                _("%(name)s unpacks to %(size)s, more than the %(limit)s an import may read; split it into smaller files.")
                % {"name": path.name, "size": _mb(member.file_size), "limit": _mb(MAX_XLSX_PART)},
                fields={"size": member.filename})


def _first_worksheet(path: Path) -> tuple[ExcelReader, str]:
    """The workbook's strings, styles (for date cells) and the path of its first worksheet, read as
    openpyxl's ``load_workbook`` does but without opening the worksheets: in read-only mode it scans
    a sheet without a declared size from end to end just to size it (a minute for the sparse file)."""
    reader = ExcelReader(path, read_only=True, data_only=True)
    reader.read_manifest()
    reader.read_strings()
    reader.read_workbook()
    reader.read_theme()
    apply_stylesheet(reader.archive, reader.wb)
    for _sheet, rel in reader.parser.find_sheets():
        if rel.target in reader.valid_files and "chartsheet" not in rel.Type:
            return reader, rel.target
    reader.archive.close()
    raise ImportRefused(_("%(name)s has no header row.") % {"name": path.name})


def _xlsx_rows(path: Path) -> Iterator[tuple[int, list]]:
    """(row number, values up to the last filled cell) of the first sheet, one row at a time."""
    _check_xlsx_archive(path)
    reader, sheet_path = _first_worksheet(path)
    workbook = reader.wb
    try:
        # The worksheet's own row parser, not iter_rows(): iter_rows pads every row to the widest
        # (or the declared) width and invents the missing rows, so one far cell costs every row.
        # (openpyxl's read-only internals, pinned at 3.1.5; tests/security/test_ops_import_limits.py
        # guards them.) data_only: a formula cell gives the value Excel last computed.
        with reader.archive.open(sheet_path) as source:
            parser = WorkSheetParser(source, reader.shared_strings, data_only=True, epoch=workbook.epoch,
                                     date_formats=workbook._date_formats,
                                     timedelta_formats=workbook._timedelta_formats)
            for number, cells in parser.parse():
                values: list = []
                for cell in cells:
                    value = cell["value"]
                    if value is None or value == "":
                        continue
                    column = cell["column"]
                    if column > MAX_COLUMNS:
                        raise _too_many_columns(path.name, f"{get_column_letter(column)}{number}")
                    if column > len(values):
                        values.extend([None] * (column - len(values)))
                    values[column - 1] = value
                if values:
                    if number > _max_rows() + 1:
                        raise _too_many_rows(path.name)
                    yield number, values
    finally:
        reader.archive.close()


def _csv_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) if the whole file decodes as UTF-8, else GB18030 (Chinese Excel)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with open(path, "rb") as raw:
            while chunk := raw.read(1 << 16):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        return "utf-8-sig"
    except UnicodeDecodeError:
        pass
    decoder = codecs.getincrementaldecoder("gb18030")()
    try:
        with open(path, "rb") as raw:
            while chunk := raw.read(1 << 16):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        return "gb18030"
    except UnicodeDecodeError:
        raise ImportRefused(_("%(name)s is neither UTF-8 nor GB18030 text.") % {"name": path.name}) from None


def _csv_rows(path: Path, encoding: str | None = None) -> Iterator[tuple[int, list]]:
    size = path.stat().st_size
    if size > _max_bytes():
        raise ImportRefused(
            _("%(name)s unpacks to %(size)s, more than the %(limit)s an import may read; split it into smaller files.")
            % {"name": path.name, "size": _mb(size), "limit": _mb(_max_bytes())}, fields={"size": _mb(size)})
    encoding = encoding or _csv_encoding(path)

    def lines(file):
        for line in file:
            if len(line) > MAX_CSV_LINE:
                raise ImportRefused(_("%(name)s has a line longer than %(limit)d characters.") % {
                    "name": path.name, "limit": MAX_CSV_LINE})
            yield line

    with open(path, encoding=encoding, newline="") as file:
        # The row number is the record's, as Excel shows it (a quoted cell may span lines).
        for number, values in enumerate(csv.reader(lines(file)), start=1):
            if len(values) > MAX_COLUMNS:
                extra = next((i for i, v in enumerate(values[MAX_COLUMNS:], start=MAX_COLUMNS) if v.strip()), None)
                if extra is not None:
                    raise _too_many_columns(path.name, f"{get_column_letter(extra + 1)}{number}")
                values = values[:MAX_COLUMNS]
            if number > _max_rows() + 1 and any(v.strip() for v in values):
                raise _too_many_rows(path.name)
            yield number, values


_READERS = {".xlsx": _xlsx_rows, ".csv": _csv_rows}


def _header_key(value) -> str:
    return re.sub(r"[\s\-]+", "_", _text(value).casefold())


def _map_header(kind: ArchiveKind, header: list) -> list[Column | None]:
    by_name = {}
    for column in kind.columns:
        for name in (column.field, *column.headers):
            by_name[_header_key(name)] = column
    mapped: list[Column | None] = []
    unknown, repeated = [], []
    for cell in header:
        name = _text(cell)
        column = by_name.get(_header_key(cell)) if name else None
        if name and column is None:
            unknown.append(name)
        elif column is not None and column in mapped:
            repeated.append(name)
        mapped.append(column)
    missing = [c.label for c in kind.columns if c.required and c not in mapped]
    problems = []
    if missing:
        problems.append(_("missing columns: %(names)s") % {"names": ", ".join(missing)})
    if unknown:
        problems.append(_("unknown columns: %(names)s") % {"names": ", ".join(unknown)})
    if repeated:
        problems.append(_("columns given twice: %(names)s") % {"names": ", ".join(repeated)})
    if problems:
        allowed = ", ".join(c.label for c in kind.columns)
        raise ImportRefused(
            _("The file was refused, %(problems)s. The %(kind)s columns are: %(allowed)s.")
            % {"problems": "; ".join(problems), "kind": kind.name, "allowed": allowed},
            fields={"columns": "; ".join(problems)},
        )
    return mapped


class SheetRows:
    """The data rows of a checked file, read again from the file on each iteration:
    ``(spreadsheet row number, {field: cell})``, blank rows skipped. ``len()`` is the count the
    check found."""

    def __init__(self, path: Path, columns: list[Column | None], count: int):
        self.path, self.columns, self.count = path, columns, count

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[tuple[int, dict]]:
        return _data_rows(self.path, self.columns)


@dataclass
class Sheet:
    """A file read and checked at file level: its data rows by spreadsheet row number."""

    kind: ArchiveKind
    rows: SheetRows


def _table(path: Path) -> Iterator[tuple[int, list]]:
    reader = _READERS[path.suffix.lower()]
    rows = reader(path)
    while True:
        try:
            item = next(rows)
        except StopIteration:
            return
        except ImportRefused:
            raise
        except Exception as exc:  # openpyxl and zipfile raise a dozen unrelated types for a broken file
            raise ImportRefused(_("Cannot read %(name)s: %(error)s") % {"name": path.name, "error": exc}) from exc
        yield item


def _data_rows(path: Path, columns: list[Column | None]) -> Iterator[tuple[int, dict]]:
    rows = _table(path)
    next(rows, None)  # the header, checked already
    for number, cells in rows:
        if not any(_text(cell) for cell in cells):
            continue
        for index, cell in enumerate(cells):
            if _text(cell) and (index >= len(columns) or columns[index] is None):
                raise ImportRefused(_("Cell %(cell)s has a value but its column has no header.") % {
                    "cell": f"{get_column_letter(index + 1)}{number}"})
        yield number, {c.field: cell for c, cell in zip(columns, cells) if c is not None}


def read_sheet(kind: str | ArchiveKind, path: str | Path) -> Sheet:
    """Check the whole file and map its columns, or raise ImportRefused. Writes nothing, and keeps
    no row: the import reads the file again (see ``SheetRows``)."""
    kind = KINDS[kind] if isinstance(kind, str) else kind
    path = Path(path)
    if path.suffix.lower() not in _READERS:
        raise ImportRefused(_("%(name)s is not an .xlsx or .csv file (save an .xls file as .xlsx first).") % {
            "name": path.name})
    rows = _table(path)
    first = next(rows, None)
    if first is None or first[0] != 1 or not any(_text(cell) for cell in first[1]):
        raise ImportRefused(_("%(name)s has no header row.") % {"name": path.name})
    columns = _map_header(kind, first[1])
    count = sum(1 for _row in _data_rows(path, columns))
    return Sheet(kind=kind, rows=SheetRows(path, columns, count))


# --- Importing ---------------------------------------------------------------------------------


class _Discard(Exception):
    """Undo a row the service accepted but the import did not (a duplicate within the file)."""


def _import_row(kind: ArchiveKind, cells: dict, seen: dict[str, int], number: int, registered_by) -> dict[str, str]:
    errors: dict[str, str] = {}
    values = {}
    for column in kind.columns:
        try:
            values[column.field] = column.parse(cells.get(column.field))
        except CellError as exc:
            errors[column.field] = str(exc)
            values[column.field] = None
    for error_field, key in kind.unique_keys(values):
        first = seen.setdefault(key, number)
        if first != number:
            errors[error_field] = _("The same as row %(row)s.") % {"row": first}
    data = kind.build(values, errors)
    # Even a row already known to be bad goes through the service, so its report lists every
    # field error at once; the savepoint undoes what the service then saved.
    try:
        with transaction.atomic():
            kind.save(data=data, registered_by=registered_by)
            if errors:
                raise _Discard
    except _Discard:
        pass
    except DomainError as exc:
        for name, message in (exc.fields or {"__all__": exc.message}).items():
            errors.setdefault(kind.error_fields.get(name, name), message)
    return errors


def import_sheet(sheet: Sheet, *, atomic: bool = False, dry_run: bool = False, registered_by=None,
                 progress: Callable[[], None] | None = None) -> ImportResult:
    """Save the sheet's rows through the services; see the module docstring for the semantics."""
    result = ImportResult(total=len(sheet.rows))
    seen: dict[str, int] = {}
    # Without an outer transaction each row's atomic block commits on its own.
    with transaction.atomic() if atomic or dry_run else nullcontext():
        for number, cells in sheet.rows:
            errors = _import_row(sheet.kind, cells, seen, number, registered_by)
            if errors:
                result.errors.append((number, errors))
            else:
                result.valid += 1
            if progress:
                progress()
        rolled_back = dry_run or (atomic and bool(result.errors))
        if rolled_back:
            transaction.set_rollback(True)
    result.created = 0 if rolled_back else result.valid
    return result


def import_file(kind: str, path: str | Path, **options) -> ImportResult:
    return import_sheet(read_sheet(kind, path), **options)
