"""
Reading an uploaded file into a `Table` of strings, or refusing it with a message for the
person uploading: the size limit, the encoding (UTF-8 with or without BOM, else Windows-1252
when recognisably so), CSV, XLSX (the sheet named after the type) and JSON (a list of
objects, or the whole-data-set object), the header row, blank lines. Every cell comes out a
stripped string with the export's formula guard (`sanitize_cell`) undone.

Every reader is bounded (`Limits`, from the IMPORT_MAX_* settings, docs/operations.md): it
checks rows, columns, cell size, unpacked size and nesting while it reads, before it holds
more than the limits allow, so a small hostile file (a zip bomb, a sheet that declares a
million columns, a JSON object of a million keys) is refused in a fraction of a second
instead of taking the process's memory. Each refusal names the setting that refused it.
"""

import collections
import csv
import datetime
import io
import json
import re
import struct
import zipfile
from dataclasses import dataclass

from charset_normalizer import from_bytes
from django.conf import settings

from .cells import LIST_SEPARATOR

# Cells that start with one of these are read by spreadsheets as formulas. Exports prefix
# them with an apostrophe (`sanitize_cell`); imports strip that apostrophe again so that a
# file exported from the tracker imports unchanged.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

FORMATS = ("csv", "xlsx", "json")

# Rows are numbered as a spreadsheet shows them: the header is row 1, data starts at row 2.
FIRST_DATA_ROW = 2

# A workbook has a few dozen parts; a zip of thousands is not one, and listing its entries
# already costs memory (zipfile reads the whole central directory when it opens).
MAX_ZIP_MEMBERS = 1000
# Parts smaller than this may compress as well as they like (an empty sheet is mostly
# repetition); the ratio limit applies to the larger ones.
RATIO_CHECK_FROM_BYTES = 1024 * 1024


class ImportFileError(Exception):
    """The whole file cannot be imported; the message says why, for the person uploading."""


class NoRows(ImportFileError):
    """The file (or its part for one type) has no data rows."""


class MissingPart(ImportFileError):
    """A file holding several types (workbook, whole-data-set JSON) lacks the one asked for."""


class LimitExceeded(ImportFileError):
    """The file is beyond one of the reading limits (`Limits`); the message names it."""


@dataclass(frozen=True)
class Limits:
    """How much of a file a reader accepts; see docs/operations.md for the defaults."""

    rows: int
    columns: int
    cell_chars: int
    unpacked_bytes: int
    compression_ratio: int
    nesting: int

    @classmethod
    def from_settings(cls):
        return cls(
            rows=settings.IMPORT_MAX_ROWS,
            columns=settings.IMPORT_MAX_COLUMNS,
            cell_chars=settings.IMPORT_MAX_CELL_CHARS,
            unpacked_bytes=settings.IMPORT_MAX_UNPACKED_BYTES,
            compression_ratio=settings.IMPORT_MAX_COMPRESSION_RATIO,
            nesting=settings.IMPORT_MAX_NESTING,
        )

    def too_many_rows(self):
        return LimitExceeded(
            f"The file has more than {self.rows:,} data rows (IMPORT_MAX_ROWS): "
            "split it into several files."
        )

    def too_many_columns(self, where="The header row"):
        return LimitExceeded(
            f"{where} has more than {self.columns:,} columns (IMPORT_MAX_COLUMNS)."
        )

    def check_cell(self, value, where):
        if isinstance(value, str) and len(value) > self.cell_chars:
            raise LimitExceeded(
                f"{where} holds {len(value):,} characters; a cell may hold at most "
                f"{self.cell_chars:,} (IMPORT_MAX_CELL_CHARS)."
            )


@dataclass
class Table:
    headers: list
    rows: list  # list of dicts, header -> str
    sheet: str = ""  # the XLSX sheet read, if any
    numbers: list = None  # each row's number in the spreadsheet (blank lines count)


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


def read_table(data, file_name, *, kind=None, part_required=False, max_bytes=None, limits=None):
    """
    Read uploaded bytes into a `Table`, or raise `ImportFileError` with a clear message.
    With `part_required`, a workbook must have a sheet named `kind` and a JSON file an
    object with a `kind` key (reading one type out of a file that holds several).
    `max_bytes` replaces `settings.IMPORT_MAX_UPLOAD_BYTES` (the command line's --max-bytes);
    `limits` replaces the other limits (`Limits.from_settings()`).
    """
    limit = max_bytes or settings.IMPORT_MAX_UPLOAD_BYTES
    if len(data) > limit:
        raise ImportFileError(
            f"The file is {len(data):,} bytes; the largest file accepted is {limit:,} bytes "
            "(IMPORT_MAX_UPLOAD_BYTES). Split it into several files."
        )
    limits = limits or Limits.from_settings()
    file_format = format_of(file_name)
    if not data.strip():
        raise ImportFileError("The file is empty.")
    reader = {"csv": _read_csv, "xlsx": _read_xlsx, "json": _read_json}[file_format]
    table = reader(data, kind, part_required, limits)
    table.headers = [_header(h) for h in table.headers]
    if not any(table.headers):
        raise ImportFileError("The file has no header row.")
    blank_headers = [i + 1 for i, h in enumerate(table.headers) if not h]
    if blank_headers:
        raise ImportFileError(f"Column(s) {blank_headers} have no header.")
    # Counted once each, not with list.count(): linear in the number of columns.
    duplicates = sorted(h for h, n in collections.Counter(table.headers).items() if n > 1)
    if duplicates:
        raise ImportFileError(f"Column(s) appear more than once: {', '.join(duplicates)}.")
    if not table.rows:
        raise NoRows("The file has a header row but no data rows.")
    return table


def _header(value):
    return str(value or "").strip().lower()


def _cell(value):
    """A cell as a stripped string; numbers and dates from spreadsheets written plainly."""
    if type(value) is str:  # every cell of a CSV file: the other cases are for spreadsheets
        return unsanitize_cell(value.strip())
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


def _check_headers(headers, limits):
    if len(headers) > limits.columns:
        raise limits.too_many_columns()
    for number, header in enumerate(headers, 1):
        limits.check_cell(header, f"Column {number} of the header row")


def _rows(headers, value_rows, limits, *, first_number=FIRST_DATA_ROW, strict_width=False):
    """
    The non-blank data rows as dicts, and each one's number as the spreadsheet shows it,
    from `value_rows` (an iterator, read one row at a time, blank lines included): stops at
    the first row beyond a limit. With `strict_width`, a row with filled cells beyond the
    header is refused, naming the cell.
    """
    rows, numbers = [], []
    width = len(headers)
    for number, values in enumerate(value_rows, first_number):
        if number - first_number >= limits.rows:
            raise limits.too_many_rows()
        values = list(values)
        if len(values) > limits.columns:
            raise limits.too_many_columns(f"Row {number}")
        if (
            strict_width
            and len(values) > width
            and any(v not in (None, "") and str(v).strip() for v in values[width:])
        ):
            raise _extra_cells_error(headers, values, number)
        if not any(v not in (None, "") and str(v).strip() for v in values):
            continue  # blank lines in the middle or at the end of a sheet
        for header, value in zip(headers, values, strict=False):
            limits.check_cell(value, f"Row {number}, column '{header}',")
        values += [None] * (width - len(values))
        rows.append({h: _cell(v) for h, v in zip(headers, values, strict=False)})
        numbers.append(number)
    return rows, numbers


def column_letter(index):
    """The spreadsheet's name of the column at 0-based `index`: 0 -> A, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def _extra_cells_error(headers, line, number):
    extra = next(i for i in range(len(headers), len(line)) if str(line[i] or "").strip())
    return ImportFileError(
        f"Row {number} has more cells than the header: column {column_letter(extra)} "
        f"(cell {column_letter(extra)}{number}, after the last column "
        f"'{headers[-1] if headers else ''}') holds {str(line[extra]).strip()[:40]!r} but has "
        "no header. Give it a header or delete the cell."
    )


# --- CSV ------------------------------------------------------------------------------------


def _csv_lines(text, limits):
    """
    The physical lines of `text` for the csv module, refusing a row of too many cells
    before the csv module builds it: commas outside quotes are counted per row (a quoted
    cell may span lines), with `str.split`/`count`, linear in the size of the line.
    """
    inside_quotes = False
    commas = 0
    for line in io.StringIO(text, newline=""):
        parts = line.split('"')
        # Even parts are outside quotes when the line starts outside them; a doubled quote
        # ("") inside a cell leaves an empty part, which holds no comma.
        commas += sum(part.count(",") for part in parts[int(inside_quotes) :: 2])
        inside_quotes ^= (len(parts) - 1) % 2 == 1
        if commas >= limits.columns:
            raise limits.too_many_columns("A row")
        if not inside_quotes:
            commas = 0
        yield line


def _read_csv(data, kind, part_required, limits):
    text = decode_text(data)
    # newline="" lets the csv module handle CRLF, lone CR and line breaks inside quotes.
    reader = csv.reader(_csv_lines(text, limits))
    try:
        try:
            headers = next(reader)
        except StopIteration:
            raise ImportFileError("The file is empty.") from None
        _check_headers(headers, limits)
        rows, numbers = _rows(headers, reader, limits, strict_width=True)
        return Table(headers=headers, rows=rows, numbers=numbers)
    except csv.Error as error:
        if "field larger than field limit" in str(error):
            # The csv module's own cap (131,072 characters), reached before ours.
            raise LimitExceeded(
                f"A cell of the file holds more than {limits.cell_chars:,} characters "
                "(IMPORT_MAX_CELL_CHARS)."
            ) from error
        raise ImportFileError(f"The CSV file cannot be read: {error}.") from error


# --- XLSX -----------------------------------------------------------------------------------

_END_OF_DIRECTORY = struct.Struct("<4s4H2LH")


def _check_zip(data, limits):
    """
    Refuse a zip that would unpack to more than the limits allow, from its directory only:
    the number of entries (read from the end record, before zipfile lists them), their
    declared sizes and compression ratios. zipfile never unpacks a member beyond its
    declared size (it stops there and fails the checksum), so the declared sizes bound
    what reading the workbook can unpack.
    """
    tail = data[-(65536 + _END_OF_DIRECTORY.size) :]
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < _END_OF_DIRECTORY.size:
        raise ImportFileError("The file is not a readable .xlsx workbook.")
    entries = _END_OF_DIRECTORY.unpack_from(tail, at)[4]
    if entries > MAX_ZIP_MEMBERS:
        raise LimitExceeded(
            f"The workbook has {entries:,} parts; a workbook has at most {MAX_ZIP_MEMBERS:,}."
        )
    try:
        members = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise ImportFileError("The file is not a readable .xlsx workbook.") from error
    if len(members) > MAX_ZIP_MEMBERS:  # a zip64 directory may say more than the end record
        raise LimitExceeded(f"The workbook has more than {MAX_ZIP_MEMBERS:,} parts.")
    unpacked = sum(member.file_size for member in members)
    if unpacked > limits.unpacked_bytes:
        raise LimitExceeded(
            f"The workbook unpacks to {unpacked:,} bytes; the largest accepted is "
            f"{limits.unpacked_bytes:,} bytes (IMPORT_MAX_UNPACKED_BYTES)."
        )
    for member in members:
        if member.file_size < RATIO_CHECK_FROM_BYTES:
            continue
        ratio = member.file_size / max(member.compress_size, 1)
        if ratio > limits.compression_ratio:
            raise LimitExceeded(
                f"The workbook's part {member.filename} unpacks to {ratio:,.0f} times its "
                f"packed size; at most {limits.compression_ratio:,} times is accepted "
                "(IMPORT_MAX_COMPRESSION_RATIO)."
            )


def _sheet_lines(sheet, limits):
    """
    `(number, values)` of the rows of a read-only sheet, streamed: the sheet's declared
    dimension is ignored (a sheet may declare a million columns it does not have), each row
    is as wide as its own last cell, and reading stops past the row limit (counting blank
    rows, which a sheet may skip to by number). A formula is refused, naming its cell: its
    cached value may be missing or stale, and an empty read would blank a stored value.
    """
    sheet.reset_dimensions()
    for index, cells in enumerate(sheet.iter_rows()):
        if index > limits.rows:  # the header row, then at most `rows` rows
            raise limits.too_many_rows()
        formula = next((c for c in cells if getattr(c, "data_type", None) == "f"), None)
        if formula is not None:
            raise ImportFileError(
                f"Cell {formula.coordinate} of sheet '{sheet.title}' holds a formula "
                f"({str(formula.value)[:40]}), which an import cannot compute. Type its "
                "result in the cell instead (copy the cells, then Paste Special as text) "
                "and import again."
            )
        row = [getattr(c, "value", None) for c in cells]
        if len(row) > limits.columns:
            last = max((i for i, v in enumerate(row) if v not in (None, "")), default=-1)
            if last >= limits.columns:
                raise limits.too_many_columns(f"Row {index + 1}")
            row = row[: limits.columns]
        yield index + 1, row


def _read_xlsx(data, kind, part_required, limits):
    import openpyxl

    _check_zip(data, limits)
    try:
        # data_only=False: a formula is seen as a formula (its cached value may be missing
        # or stale), never read as an empty cell.
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as error:
        raise ImportFileError("The file is not a readable .xlsx workbook.") from error
    try:
        sheets = {sheet.title.strip().lower(): sheet for sheet in book.worksheets}
        # A workbook may hold several sheets: the one named after the file type wins
        # (an "actors" sheet for an actors import), else the first sheet with data.
        sheet = sheets.get(kind or "")
        if sheet is None and part_required:
            raise MissingPart(f"The workbook has no sheet named '{kind}'.")
        candidates = [sheet] if sheet is not None else book.worksheets
        for candidate in candidates:
            lines = _sheet_lines(candidate, limits)
            found = next(
                ((n, list(r)) for n, r in lines if any(v not in (None, "") for v in r)),
                None,
            )
            if found is not None:
                header_number, headers = found
                sheet = candidate
                break
        else:
            if sheet is not None:
                raise NoRows("The sheet is empty.")
            raise ImportFileError("The workbook has no sheet with data.")
        headers = [_header(h) for h in headers]
        while headers and not headers[-1]:
            headers.pop()
        _check_headers(headers, limits)
        values = (row for _number, row in lines)
        rows, numbers = _rows(
            headers, values, limits, first_number=header_number + 1, strict_width=True
        )
    except (zipfile.BadZipFile, KeyError, ValueError) as error:
        raise ImportFileError("The file is not a readable .xlsx workbook.") from error
    finally:
        book.close()
    return Table(headers=headers, rows=rows, sheet=sheet.title, numbers=numbers)


# --- JSON -----------------------------------------------------------------------------------

# The tokens that give a JSON text its shape: strings (skipped whole, escapes included),
# brackets and commas. Numbers, literals, colons and spaces are left between the matches.
_JSON_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{},]')


def _check_json_shape(text, limits):
    """
    Walk the JSON text's tokens without building anything: refuse nesting deeper than the
    limit, an object of more keys than the column limit, a list of more items than the row
    limit, and a string longer than the cell limit. Malformed text is left to `json.loads`.
    """
    stack = []  # per open bracket: [kind, items so far]
    for match in _JSON_TOKENS.finditer(text):
        token = match.group()
        first = token[0]
        if first == '"':
            if len(token) - 2 > limits.cell_chars:
                raise LimitExceeded(
                    f"The file holds a value of {len(token) - 2:,} characters; a cell may hold "
                    f"at most {limits.cell_chars:,} (IMPORT_MAX_CELL_CHARS)."
                )
            if stack and stack[-1][1] == 0:
                stack[-1][1] = 1  # the first item of a list or object
        elif first in "[{":
            if stack and stack[-1][1] == 0:
                stack[-1][1] = 1
            stack.append([first, 0])
            if len(stack) > limits.nesting:
                raise LimitExceeded(
                    f"The file nests lists and objects more than {limits.nesting} deep "
                    "(IMPORT_MAX_NESTING)."
                )
        elif first in "]}":
            if stack:
                stack.pop()
        elif stack:  # a comma: one more item
            stack[-1][1] += 1
            bracket, items = stack[-1]
            if bracket == "{" and items > limits.columns:
                raise LimitExceeded(
                    f"An object in the file has more than {limits.columns:,} keys "
                    "(IMPORT_MAX_COLUMNS)."
                )
            if bracket == "[" and items > limits.rows:
                raise limits.too_many_rows()


def _read_json(data, kind, part_required, limits):
    text = decode_text(data)
    _check_json_shape(text, limits)
    try:
        payload = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as error:
        raise ImportFileError(f"The JSON file cannot be read: {error}.") from error
    del text
    if isinstance(payload, dict) and kind in payload:
        payload = payload[kind]  # the whole-data-set download holds every type by name
    elif part_required:
        raise MissingPart(f"The JSON file has no '{kind}' list.")
    if not isinstance(payload, list) or not all(isinstance(item, dict) for item in payload):
        raise ImportFileError("The JSON file must hold a list of objects, one per row.")
    # Headers in order of first appearance, each found once (a set beside the list).
    headers, seen = [], set()
    for item in payload:
        for header in item:
            if header not in seen:
                seen.add(header)
                headers.append(header)
                if len(headers) > limits.columns:
                    raise limits.too_many_columns("The objects together")
    if not payload:
        raise NoRows("The file has no data rows.")
    # JSON has no lines: an object's number is its place in the list, counted from 2 as in
    # a spreadsheet, so errors read alike.
    values = ([item.get(h) for h in headers] for item in payload)
    rows, numbers = _rows(headers, values, limits)
    return Table(headers=headers, rows=rows, numbers=numbers)
