"""
The import service: one path for the admin, the management commands and the benchmark.

A file goes through three steps:

1. `read_table()` turns the uploaded bytes into a `Table` (headers + rows of strings),
   refusing clearly what it cannot read: a file over `settings.IMPORT_MAX_UPLOAD_BYTES`,
   an encoding that is neither UTF-8 (with or without BOM) nor recognisably Windows-1252,
   an empty or header-only file, a workbook without a usable sheet.
2. `run_import()` asks the file type's resource (`positions/resources.py`) to plan each
   row: look up what exists (a handful of queries for the whole file, never one per row),
   parse and validate every cell, and decide new / update / skip. Every problem becomes a
   `RowError` with the row number, the column and a message.
3. Only when no row has an error, and the import is not a dry run, the resource writes the
   plan inside one transaction (all or nothing), in batches, with a history record for
   every change whose reason says which file it came from.
"""

import csv
import datetime
import functools
import io
import json
import sys
from dataclasses import dataclass, field

from charset_normalizer import from_bytes
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from positions import caching

# Cells that start with one of these are read by spreadsheets as formulas. Exports prefix
# them with an apostrophe (see `positions/exports.py`); imports strip that apostrophe again
# so that a file exported from the tracker imports unchanged.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

# Lists of keys (signatories, conditions, identifiers, aliases) share one cell.
LIST_SEPARATOR = "|"

FORMATS = ("csv", "xlsx", "json")


class ImportFileError(Exception):
    """The whole file cannot be imported; the message says why, for the person uploading."""


class NoRows(ImportFileError):
    """The file (or its part for one type) has no data rows."""


class MissingPart(ImportFileError):
    """A file holding several types (workbook, whole-data-set JSON) lacks the one asked for."""


# Rows are numbered as a spreadsheet shows them: the header is row 1, data starts at row 2.
FIRST_DATA_ROW = 2


@dataclass(frozen=True)
class RowError:
    row: int  # as a spreadsheet numbers it (header = 1); 0 = the file as a whole
    column: str
    message: str

    def __str__(self):
        where = f"row {self.row}" if self.row else "file"
        if self.column:
            where += f", column '{self.column}'"
        return f"{where}: {self.message}"


@dataclass
class Table:
    headers: list
    rows: list  # list of dicts, header -> str
    sheet: str = ""  # the XLSX sheet read, if any


@dataclass
class RowPlan:
    """What the import will do with one row."""

    number: int
    key: str
    action: str  # "new", "update" or "skip"
    instance: object
    changed_fields: list = field(default_factory=list)
    related: dict = field(default_factory=dict)
    values: dict = field(default_factory=dict)  # the row as read, for the preview


@dataclass
class ImportReport:
    kind: str
    file_name: str
    dry_run: bool
    plans: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    error_rows: dict = field(default_factory=dict)  # row number -> the row, for previews
    written: bool = False

    def count(self, action):
        return sum(1 for plan in self.plans if plan.action == action)

    @property
    def created(self):
        return self.count("new")

    @property
    def updated(self):
        return self.count("update")

    @property
    def skipped(self):
        return self.count("skip")

    @property
    def ok(self):
        return not self.errors

    def summary(self):
        verb = "Would write" if self.dry_run or not self.ok else "Wrote"
        line = (
            f"{self.kind}: {self.created} created, {self.updated} updated, "
            f"{self.skipped} skipped, {len(self.errors)} errors"
        )
        if not self.ok:
            return line + " (nothing was written: fix the errors and import again)"
        return f"{line} ({verb.lower()} {'nothing' if self.dry_run else 'the changes'})"


class _Operator:
    """Stands for the server's operator (a command-line import without --user)."""

    def __init__(self, may_publish):
        self.may_publish = may_publish

    def has_perm(self, perm):
        return self.may_publish


@dataclass
class ImportContext:
    """Who imports what: used for the editorial rules, history records and audit fields."""

    user: object = None  # recorded in history; None for the server's operator
    file_name: str = ""
    can_publish: bool = False  # the operator's right to publish, when there is no user

    @property
    def acting_user(self):
        """Whom `positions.editorial` is asked about: the user, or the operator."""
        return self.user if self.user is not None else _Operator(self.can_publish)

    @property
    def change_reason(self):
        # simple-history keeps at most 100 characters of reason.
        return f"Imported from {self.file_name or 'a file'}"[:100]


# --- Reading files ----------------------------------------------------------------------


def format_of(file_name):
    extension = file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
    if extension not in FORMATS:
        raise ImportFileError(
            f"Cannot tell the format of '{file_name}': use a .csv, .xlsx or .json file."
        )
    return extension


def decode_text(data):
    """
    Bytes to text: UTF-8 (a BOM is dropped), else Windows-1252 when charset-normalizer
    recognises it with confidence; anything else is refused rather than guessed.
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    best = from_bytes(data, cp_isolation=["cp1252", "latin_1", "iso8859_15"]).best()
    if best is not None and best.encoding in {"cp1252", "latin_1", "iso8859_15"}:
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            pass
    raise ImportFileError(
        "The file is not UTF-8 and its encoding could not be recognised as Windows-1252. "
        "Save it as 'CSV UTF-8' and import it again."
    )


def read_table(data, file_name, *, kind=None, part_required=False, max_bytes=None):
    """
    Read uploaded bytes into a `Table`, or raise `ImportFileError` with a clear message.
    With `part_required`, a workbook must have a sheet named `kind` and a JSON file an
    object with a `kind` key (reading one type out of a file that holds several).
    `max_bytes` replaces `settings.IMPORT_MAX_UPLOAD_BYTES` (the command line's --max-bytes).
    """
    limit = max_bytes or settings.IMPORT_MAX_UPLOAD_BYTES
    if len(data) > limit:
        raise ImportFileError(
            f"The file is {len(data):,} bytes; the largest file accepted is {limit:,} bytes. "
            "Split it into several files."
        )
    file_format = format_of(file_name)
    if not data.strip():
        raise ImportFileError("The file is empty.")
    reader = {"csv": _read_csv, "xlsx": _read_xlsx, "json": _read_json}[file_format]
    table = reader(data, kind, part_required)
    table.headers = [_header(h) for h in table.headers]
    if not any(table.headers):
        raise ImportFileError("The file has no header row.")
    blank_headers = [i + 1 for i, h in enumerate(table.headers) if not h]
    if blank_headers:
        raise ImportFileError(f"Column(s) {blank_headers} have no header.")
    duplicates = sorted({h for h in table.headers if table.headers.count(h) > 1})
    if duplicates:
        raise ImportFileError(f"Column(s) appear more than once: {', '.join(duplicates)}.")
    if not table.rows:
        raise NoRows("The file has a header row but no data rows.")
    return table


def _header(value):
    return str(value or "").strip().lower()


def _cell(value):
    """A cell as a stripped string; numbers and dates from spreadsheets written plainly."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime.datetime):
        value = value.date() if value.time() == datetime.time() else value
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    if isinstance(value, list):
        return LIST_SEPARATOR.join(_cell(item) for item in value)
    return unsanitize_cell(str(value).strip())


def sanitize_cell(value):
    """
    Neutralise spreadsheet formulas: a text cell starting with = + - @ tab or CR gets a
    leading apostrophe, so Excel and LibreOffice show it as text instead of running it.
    A cell that already starts with an apostrophe before such a character gets one more,
    so `unsanitize_cell()` restores every value exactly. Used by every CSV and XLSX export.
    """
    if isinstance(value, str) and (
        value.startswith(FORMULA_TRIGGERS)
        or (value.startswith("'") and value[1:].lstrip("'").startswith(FORMULA_TRIGGERS))
    ):
        return "'" + value
    return value


def unsanitize_cell(text):
    """The inverse of `sanitize_cell()`, applied to every imported cell."""
    if text.startswith("'") and text[1:].lstrip("'").startswith(FORMULA_TRIGGERS):
        return text[1:]
    return text


def _rows(headers, value_rows):
    rows = []
    for values in value_rows:
        values = list(values)
        if not any(v not in (None, "") and str(v).strip() for v in values):
            continue  # blank lines in the middle or at the end of a sheet
        values += [None] * (len(headers) - len(values))
        rows.append({h: _cell(v) for h, v in zip(headers, values, strict=False)})
    return rows


def _read_csv(data, kind, part_required):
    text = decode_text(data)
    # newline="" lets the csv module handle CRLF, lone CR and line breaks inside quotes.
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        lines = list(reader)
    except csv.Error as error:
        raise ImportFileError(f"The CSV file cannot be read: {error}.") from error
    if not lines:
        raise ImportFileError("The file is empty.")
    headers = lines[0]
    for number, line in enumerate(lines[1:], 1):
        if len(line) > len(headers) and any(v.strip() for v in line[len(headers) :]):
            raise ImportFileError(f"Row {number} has more cells than there are columns.")
    return Table(headers=headers, rows=_rows(headers, lines[1:]))


def _read_xlsx(data, kind, part_required):
    import zipfile

    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as error:
        raise ImportFileError("The file is not a readable .xlsx workbook.") from error
    try:
        sheets = {sheet.title.strip().lower(): sheet for sheet in book.worksheets}
        # A workbook may hold several sheets: the one named after the file type wins
        # (an "actors" sheet for an actors import), else the first sheet with data.
        sheet = sheets.get(kind or "")
        if sheet is None and part_required:
            raise MissingPart(f"The workbook has no sheet named '{kind}'.")
        if sheet is None:
            for candidate in book.worksheets:
                if any(
                    any(c is not None for c in r) for r in candidate.iter_rows(values_only=True)
                ):
                    sheet = candidate
                    break
        if sheet is None:
            raise ImportFileError("The workbook has no sheet with data.")
        lines = [list(r) for r in sheet.iter_rows(values_only=True)]
    finally:
        book.close()
    while lines and not any(v not in (None, "") for v in lines[0]):
        lines.pop(0)
    if not lines:
        raise NoRows("The sheet is empty.")
    headers = [_header(h) for h in lines[0]]
    while headers and not headers[-1]:
        headers.pop()
    return Table(headers=headers, rows=_rows(headers, lines[1:]), sheet=sheet.title)


def _read_json(data, kind, part_required):
    try:
        payload = json.loads(decode_text(data))
    except json.JSONDecodeError as error:
        raise ImportFileError(f"The JSON file cannot be read: {error}.") from error
    if isinstance(payload, dict) and kind in payload:
        payload = payload[kind]  # the whole-data-set download holds every type by name
    elif part_required:
        raise MissingPart(f"The JSON file has no '{kind}' list.")
    if not isinstance(payload, list) or not all(isinstance(item, dict) for item in payload):
        raise ImportFileError("The JSON file must hold a list of objects, one per row.")
    headers = []
    for item in payload:
        headers += [h for h in item if h not in headers]
    if not payload:
        raise NoRows("The file has no data rows.")
    return Table(
        headers=headers, rows=_rows(headers, ([item.get(h) for h in headers] for item in payload))
    )


# --- Cell parsers shared by the resources -----------------------------------------------


class CellError(ValueError):
    """A cell's value is wrong; the message is shown with the row and column."""


class BlankCell(Exception):  # noqa: N818 -- a signal, not an error
    """An optional cell left blank: a new record takes the model's default, an existing one
    keeps what it has (a blank cell never overwrites an editor's choice)."""


def parse_date(value, *, required=False):
    if not value:
        if required:
            raise CellError("A date is required (YYYY-MM-DD).")
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CellError(f"'{value}' is not a date: write it as YYYY-MM-DD.") from None


@functools.cache
def _choice_values(choices):
    # TextChoices.values builds a new list on every access; imports ask once per cell.
    return frozenset(choices.values)


def parse_choice(value, choices, *, optional=False, what="value"):
    if not value:
        if optional:
            raise BlankCell
        raise CellError(f"A {what} is required: one of {', '.join(choices.values)}.")
    normalized = value.strip().lower()
    if normalized in _choice_values(choices):
        return normalized
    for choice in choices:  # the human label is accepted too: "Supports on conditions"
        if normalized == str(choice.label).lower():
            return choice.value
    raise CellError(f"Unknown {what} '{value}': use one of {', '.join(choices.values)}.")


def parse_int(value, *, default=0):
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise CellError(f"'{value}' is not a whole number.") from None
    if number < 0:
        raise CellError("The number cannot be negative.")
    return number


def parse_http_url(value, *, required=False):
    from .models import http_url_validator

    if not value:
        if required:
            raise CellError("A web address is required (http:// or https://).")
        return ""
    try:
        http_url_validator(value)
    except ValidationError:
        raise CellError(
            f"'{value}' is not a web address starting with http:// or https://."
        ) from None
    return value


def split_list(value):
    return [item.strip() for item in value.split(LIST_SEPARATOR) if item.strip()]


def join_list(values):
    return LIST_SEPARATOR.join(values)


def chunked(items, size=900):
    """Keep `IN (...)` lists under SQLite's parameter limit."""
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- Running an import ------------------------------------------------------------------


class Progress:
    """A plain progress line on stderr for the management commands (no dependency)."""

    def __init__(self, total, label, stream=None, enabled=True):
        self.total, self.label, self.done = total, label, 0
        self.stream = stream or sys.stderr
        self.enabled = enabled and total > 0
        self._last = -1

    def advance(self, step=1):
        self.done += step
        percent = self.done * 100 // max(self.total, 1)
        if self.enabled and percent != self._last:
            self._last = percent
            bar = "#" * (percent // 4)
            self.stream.write(f"\r{self.label}: [{bar:<25}] {self.done}/{self.total}")
            if self.done >= self.total:
                self.stream.write("\n")
            self.stream.flush()


def check_columns(resource, headers):
    errors = []
    unknown = [h for h in headers if h not in resource.columns]
    if unknown:
        errors.append(
            RowError(
                0,
                "",
                f"Unknown column(s): {', '.join(unknown)}. The columns of a {resource.kind} "
                f"file are: {', '.join(resource.columns)}.",
            )
        )
    missing = [c for c in resource.required_columns if c not in headers]
    if missing:
        errors.append(RowError(0, "", f"Missing required column(s): {', '.join(missing)}."))
    return errors


def run_import(resource, table, *, context, dry_run=False, progress=None):
    """
    Plan every row of `table` with `resource`, then write the plan unless there is an
    error or this is a dry run. Returns an `ImportReport`; never writes half a file.
    """
    report = ImportReport(kind=resource.kind, file_name=context.file_name, dry_run=dry_run)
    report.errors = check_columns(resource, table.headers)
    if report.errors:
        return report

    # A key twice in one file is ambiguous: which row should win? Refuse it.
    first_seen = {}
    duplicate_rows = set()
    for number, row in enumerate(table.rows, FIRST_DATA_ROW):
        key = resource.row_key(row)
        if not key:
            continue
        if key in first_seen:
            duplicate_rows.add(number)
            report.errors.append(
                RowError(
                    number,
                    resource.key_column,
                    f"'{key}' is already on row {first_seen[key]}: each key may appear "
                    "only once in a file.",
                )
            )
        else:
            first_seen[key] = number

    resource.prepare(table.rows, context)
    for number, row in enumerate(table.rows, FIRST_DATA_ROW):
        if number not in duplicate_rows:
            plan, row_errors = resource.plan_row(number, row, context)
            if row_errors:
                report.errors.extend(row_errors)
            elif plan is not None:
                plan.values = row
                report.plans.append(plan)
        if progress:
            progress.advance()
    report.errors.sort(key=lambda e: (e.row, e.column))
    report.error_rows = {
        e.row: table.rows[e.row - FIRST_DATA_ROW] for e in report.errors if e.row >= FIRST_DATA_ROW
    }
    if report.errors or dry_run:
        return report

    try:
        with transaction.atomic():
            resource.write(report.plans, context)
            # Bulk writes send no model signals: make cached pages stale ourselves.
            caching.data_changed()
    except IntegrityError as error:
        # The rows were checked against the database as it was a moment ago; someone may
        # have changed it since. The transaction rolled back: nothing was written.
        report.errors.append(
            RowError(
                0,
                "",
                f"The database refused the import ({error}); nothing was written. The "
                "records may have changed meanwhile: import the file again.",
            )
        )
        return report
    report.written = True
    return report


def import_bytes(resource, data, file_name, *, context=None, dry_run=False, progress=None):
    """Read and import an uploaded file; file-level problems become one error."""
    context = context or ImportContext(file_name=file_name)
    context.file_name = context.file_name or file_name
    try:
        table = read_table(data, file_name, kind=resource.kind)
    except ImportFileError as error:
        report = ImportReport(kind=resource.kind, file_name=file_name, dry_run=dry_run)
        report.errors = [RowError(0, "", str(error))]
        return report
    return run_import(resource, table, context=context, dry_run=dry_run, progress=progress)
