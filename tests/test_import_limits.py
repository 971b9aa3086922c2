"""
Hostile files: each is refused (or, where only its declarations lie, read as it really is)
quickly and without taking the process's memory, with a message naming the limit.

Each test builds its file first, then reads it under `tracemalloc`: the peak of Python's
allocations while reading stays far below what the file declares or would unpack to.
"""

import io
import json
import random
import string
import time
import tracemalloc
import zipfile

import openpyxl
import pytest

from positions.exchange import ImportFileError, read_table
from positions.exchange.reading import MAX_ZIP_MEMBERS

MB = 1024 * 1024
# Far below what any hostile file here would take unbounded (hundreds of MB to many GB),
# and well above what refusing it needs; the time leaves room for a loaded CI machine.
PEAK_BYTES = 48 * MB
SECONDS = 5


def refusal(data, file_name, kind="actors"):
    """Read `data`; return (the error's message, seconds, peak bytes allocated)."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(ImportFileError) as error:
            read_table(data, file_name, kind=kind)
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert elapsed < SECONDS, f"refused after {elapsed:.1f} s"
    assert peak < PEAK_BYTES, f"peak {peak / MB:.0f} MB"
    return str(error.value)


def workbook(rows=(("slug", "name", "kind"), ("cisco", "Cisco", "company"))):
    book = openpyxl.Workbook()
    book.active.title = "actors"
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def replace_parts(data, parts):
    """The workbook `data` with some parts replaced: name -> bytes, or an iterable of chunks."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            if item.filename not in parts:
                target.writestr(item, source.read(item.filename))
        for name, content in parts.items():
            with target.open(name, "w") as part:
                for chunk in [content] if isinstance(content, bytes) else content:
                    part.write(chunk)
    return out.getvalue()


def sheet_xml(rows_xml, dimension="A1:C2"):
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<dimension ref="' + dimension.encode() + b'"/><sheetData>' + rows_xml + b"</sheetData>"
        b"</worksheet>"
    )


def inline_row(number, *values, first_column="A"):
    cells = b"".join(
        b'<c r="%s%d" t="inlineStr"><is><t>%s</t></is></c>'
        % (chr(ord(first_column) + i).encode(), number, v.encode())
        for i, v in enumerate(values)
    )
    return b'<row r="%d">%s</row>' % (number, cells)


HEADER_ROW = inline_row(1, "slug", "name", "kind")
SHEET = "xl/worksheets/sheet1.xml"


def repeated(chunk, total):
    """`chunk` repeated to `total` bytes, as chunks (never held whole)."""
    block = chunk * max(1, MB // len(chunk))
    for _ in range(total // len(block) + 1):
        yield block


# --- XLSX -------------------------------------------------------------------------------------


def test_a_zip_bomb_sheet_is_refused_by_its_compression_ratio():
    rows = repeated(inline_row(2, "x", "y", "ngo"), 20 * MB)
    data = replace_parts(
        workbook(), {SHEET: [sheet_xml(HEADER_ROW)[: -len(b"</sheetData></worksheet>")], *rows]}
    )
    assert len(data) < 200_000
    message = refusal(data, "actors.xlsx")
    assert "IMPORT_MAX_COMPRESSION_RATIO" in message
    assert SHEET in message


def test_a_workbook_unpacking_beyond_the_limit_is_refused_from_its_directory(settings):
    settings.IMPORT_MAX_UNPACKED_BYTES = 2 * MB
    noise = "".join(random.choices(string.ascii_letters, k=3 * MB)).encode()  # poorly packed
    data = replace_parts(workbook(), {"xl/media/noise.bin": noise})
    message = refusal(data, "actors.xlsx")
    assert "IMPORT_MAX_UNPACKED_BYTES" in message


def test_a_shared_strings_bomb_is_refused_before_the_strings_are_loaded():
    strings = repeated(b"<si><t>a</t></si>", 30 * MB)
    head = b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    data = replace_parts(workbook(), {"xl/sharedStrings.xml": [head, *strings, b"</sst>"]})
    message = refusal(data, "actors.xlsx")
    assert "xl/sharedStrings.xml" in message
    assert "IMPORT_MAX_COMPRESSION_RATIO" in message


def test_a_huge_declared_dimension_is_ignored_and_the_real_cells_read():
    """A sheet that declares a million rows by 16,384 columns and holds six cells."""
    rows = HEADER_ROW + inline_row(2, "cisco", "Cisco", "company")
    data = replace_parts(workbook(), {SHEET: sheet_xml(rows, dimension="A1:XFD1048576")})
    assert len(data) < 10_000
    tracemalloc.start()
    started = time.perf_counter()
    try:
        table = read_table(data, "actors.xlsx", kind="actors")
        elapsed, peak = time.perf_counter() - started, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert table.rows == [{"slug": "cisco", "name": "Cisco", "kind": "company"}]
    assert elapsed < SECONDS
    assert peak < PEAK_BYTES


def test_a_cell_far_to_the_right_is_refused_by_the_column_limit():
    rows = HEADER_ROW + b'<row r="2"><c r="XFD2" t="inlineStr"><is><t>x</t></is></c></row>'
    data = replace_parts(workbook(), {SHEET: sheet_xml(rows, dimension="A1:XFD2")})
    message = refusal(data, "actors.xlsx")
    assert "Row 2 has more than 100 columns (IMPORT_MAX_COLUMNS)" in message


def test_a_row_numbered_past_the_row_limit_is_refused(settings):
    settings.IMPORT_MAX_ROWS = 1000
    rows = HEADER_ROW + inline_row(1048576, "cisco", "Cisco", "company")
    data = replace_parts(workbook(), {SHEET: sheet_xml(rows)})
    assert "IMPORT_MAX_ROWS" in refusal(data, "actors.xlsx")


def test_a_huge_cell_in_a_workbook_is_refused(settings):
    # Spreadsheets hold at most 32,767 characters a cell (openpyxl cuts there as it reads).
    settings.IMPORT_MAX_CELL_CHARS = 10_000
    text = "".join(random.choices(string.ascii_letters, k=20_000))
    data = workbook([("slug", "name", "kind"), ("cisco", text, "company")])
    message = refusal(data, "actors.xlsx")
    assert "Row 2, column 'name', holds 20,000 characters" in message
    assert "IMPORT_MAX_CELL_CHARS" in message


def test_a_zip_of_thousands_of_parts_is_refused_before_it_is_listed():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for number in range(MAX_ZIP_MEMBERS + 1):
            archive.writestr(f"{number}", b"")
    assert "at most 1,000" in refusal(out.getvalue(), "actors.xlsx")


# --- CSV --------------------------------------------------------------------------------------


def test_a_csv_of_100000_columns_is_refused_at_once():
    header = ",".join(f"column{i}" for i in range(100_000))
    data = (header + "\n" + "," * 99_999 + "\n").encode()
    message = refusal(data, "actors.csv")
    assert "more than 100 columns (IMPORT_MAX_COLUMNS)" in message


def test_a_csv_row_of_many_cells_is_refused_even_when_quoted():
    row = ",".join(['"a, b"'] * 50_000)
    data = ("slug,name,kind\n" + row + "\n").encode()
    assert "IMPORT_MAX_COLUMNS" in refusal(data, "actors.csv")


def test_commas_inside_quoted_cells_are_not_columns():
    summary = '"' + ", ".join(["and"] * 500) + '\nover two lines"'
    data = ("slug,name,kind,description\ncisco,Cisco,company," + summary + "\n").encode()
    table = read_table(data, "actors.csv", kind="actors")
    assert table.rows[0]["description"].count(",") == 499


def test_a_huge_csv_cell_is_refused():
    data = ("slug,name,kind\ncisco," + "x" * 5 * MB + ",company\n").encode()
    message = refusal(data, "actors.csv")
    assert "more than 100,000 characters (IMPORT_MAX_CELL_CHARS)" in message


def test_a_csv_over_the_row_limit_is_refused(settings):
    settings.IMPORT_MAX_ROWS = 10_000
    data = ("slug,name,kind\n" + "a,b,ngo\n" * 500_000).encode()
    assert "more than 10,000 data rows (IMPORT_MAX_ROWS)" in refusal(data, "actors.csv")


# --- JSON -------------------------------------------------------------------------------------


def test_a_json_object_of_hundreds_of_thousands_of_keys_is_refused():
    data = json.dumps([{f"k{i}": 1 for i in range(300_000)}]).encode()
    message = refusal(data, "actors.json")
    assert "more than 100 keys (IMPORT_MAX_COLUMNS)" in message


def test_deeply_nested_json_is_refused():
    data = ("[" * 1_000_000 + "]" * 1_000_000).encode()
    assert "more than 4 deep (IMPORT_MAX_NESTING)" in refusal(data, "actors.json")


def test_a_json_list_of_too_many_rows_is_refused(settings):
    settings.IMPORT_MAX_ROWS = 1000
    data = json.dumps([{}] * 1_000_000).encode()
    assert "IMPORT_MAX_ROWS" in refusal(data, "actors.json")


def test_a_huge_json_string_is_refused():
    data = json.dumps([{"slug": "cisco", "name": "x" * 5 * MB, "kind": "company"}]).encode()
    assert "IMPORT_MAX_CELL_CHARS" in refusal(data, "actors.json")


def test_the_whole_data_set_json_nests_within_the_limit():
    data = json.dumps(
        {"actors": [{"slug": "cisco", "name": "Cisco", "kind": "company", "aliases": ["a"]}]}
    ).encode()
    table = read_table(data, "all.json", kind="actors", part_required=True)
    assert table.rows[0]["aliases"] == "a"
