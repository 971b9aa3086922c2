"""
Reading an uploaded file into a `Table` of strings, or refusing it with a message for the
person uploading: the size limit, the encoding (UTF-8 with or without BOM, else Windows-1252
when recognisably so), CSV, XLSX (the sheet named after the type) and JSON (a list of
objects, or the whole-data-set object), the header row, blank lines. Every cell comes out a
stripped string with the export's formula guard (`sanitize_cell`) undone.
"""

import csv
import datetime
import io
import json
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


class ImportFileError(Exception):
    """The whole file cannot be imported; the message says why, for the person uploading."""


class NoRows(ImportFileError):
    """The file (or its part for one type) has no data rows."""


class MissingPart(ImportFileError):
    """A file holding several types (workbook, whole-data-set JSON) lacks the one asked for."""


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


def _rows(headers, value_rows, first_number=FIRST_DATA_ROW):
    """The non-blank rows as dicts, and each one's number as the spreadsheet shows it."""
    rows, numbers = [], []
    for number, values in enumerate(value_rows, first_number):
        values = list(values)
        if not any(v not in (None, "") and str(v).strip() for v in values):
            continue  # blank lines in the middle or at the end of a sheet
        values += [None] * (len(headers) - len(values))
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
    for number, line in enumerate(lines[1:], FIRST_DATA_ROW):
        if len(line) > len(headers) and any(v.strip() for v in line[len(headers) :]):
            raise _extra_cells_error(headers, line, number)
    rows, numbers = _rows(headers, lines[1:])
    return Table(headers=headers, rows=rows, numbers=numbers)


def _read_xlsx(data, kind, part_required):
    import zipfile

    import openpyxl

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
        if sheet is None:
            for candidate in book.worksheets:
                if any(
                    any(c is not None for c in r) for r in candidate.iter_rows(values_only=True)
                ):
                    sheet = candidate
                    break
        if sheet is None:
            raise ImportFileError("The workbook has no sheet with data.")
        lines = []
        for cells in sheet.iter_rows():
            formula = next((c for c in cells if getattr(c, "data_type", None) == "f"), None)
            if formula is not None:
                raise ImportFileError(
                    f"Cell {formula.coordinate} of sheet '{sheet.title}' holds a formula "
                    f"({str(formula.value)[:40]}), which an import cannot compute. Type its "
                    "result in the cell instead (copy the cells, then Paste Special as text) "
                    "and import again."
                )
            lines.append([c.value for c in cells])
    finally:
        book.close()
    header_number = 1
    while lines and not any(v not in (None, "") for v in lines[0]):
        lines.pop(0)
        header_number += 1
    if not lines:
        raise NoRows("The sheet is empty.")
    headers = [_header(h) for h in lines[0]]
    while headers and not headers[-1]:
        headers.pop()
    for number, line in enumerate(lines[1:], header_number + 1):
        if len(line) > len(headers) and any(
            v not in (None, "") and str(v).strip() for v in line[len(headers) :]
        ):
            raise _extra_cells_error(headers, line, number)
    rows, numbers = _rows(headers, lines[1:], header_number + 1)
    return Table(headers=headers, rows=rows, sheet=sheet.title, numbers=numbers)


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
    # JSON has no lines: an object's number is its place in the list, counted from 2 as in
    # a spreadsheet, so errors read alike.
    rows, numbers = _rows(headers, ([item.get(h) for h in headers] for item in payload))
    return Table(headers=headers, rows=rows, numbers=numbers)
