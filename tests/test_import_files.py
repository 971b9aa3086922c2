"""Files from the wild: encodings, line ends, empty files, size limit, workbooks, JSON."""

import io
import json

import openpyxl
import pytest

from positions.exchange import TYPES, ImportContext, ImportFileError, import_bytes, read_table
from positions.models import Actor

pytestmark = pytest.mark.django_db

HEADER = "slug,name,kind,country"
ROWS = ["societe-generale,Société Générale,company,FR", "cisco,Cisco’s policy team,company,US"]


def import_actors(data, file_name="actors.csv"):
    report = import_bytes(
        TYPES["actors"], data, file_name, context=ImportContext(file_name=file_name)
    )
    assert report.ok, report.errors
    return {a.slug: a.name for a in Actor.objects.all()}


@pytest.mark.parametrize(
    "encode",
    [
        pytest.param(lambda text: text.encode("utf-8"), id="utf-8"),
        pytest.param(lambda text: text.encode("utf-8-sig"), id="utf-8 with BOM"),
        pytest.param(lambda text: text.encode("cp1252"), id="windows-1252"),
        pytest.param(lambda text: text.replace("\n", "\r\n").encode("utf-8"), id="CRLF"),
        pytest.param(lambda text: text.replace("\n", "\r\n").encode("cp1252"), id="cp1252 CRLF"),
    ],
)
def test_text_encodings_and_line_ends_read_the_same(encode):
    names = import_actors(encode("\n".join([HEADER, *ROWS]) + "\n"))
    assert names == {"societe-generale": "Société Générale", "cisco": "Cisco’s policy team"}


def test_the_bom_does_not_end_up_in_the_first_header():
    table = read_table("\ufeffslug,name\nx,y\n".encode(), "a.csv")
    assert table.headers == ["slug", "name"]


def test_an_encoding_that_is_neither_utf8_nor_windows_1252_is_refused():
    data = "\n".join([HEADER, *ROWS]).encode("utf-16")
    with pytest.raises(ImportFileError, match="not UTF-8 .* Windows-1252"):
        read_table(data, "actors.csv")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"  \r\n", "The file is empty."),
        (b"slug,name,kind\r\n", "a header row but no data rows"),
        (b"slug,name,kind\r\n,,\r\n", "a header row but no data rows"),
        (b"slug,,kind\r\nx,y,z\r\n", "have no header"),
        (b"slug,slug\r\nx,y\r\n", "appear more than once: slug"),
        (b"slug\r\nx,y\r\n", "Row 2 has more cells than the header: column B"),
    ],
)
def test_empty_header_only_and_malformed_files_are_refused_clearly(data, message):
    with pytest.raises(ImportFileError, match=message):
        read_table(data, "actors.csv")


def test_a_file_over_the_size_limit_is_refused_and_nothing_changes(settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 50
    data = ("\n".join([HEADER, *ROWS]) + "\n").encode()
    report = import_bytes(TYPES["actors"], data, "actors.csv")
    assert [str(e) for e in report.errors] == [
        f"file: The file is {len(data):,} bytes; the largest file accepted is 50 bytes "
        "(IMPORT_MAX_UPLOAD_BYTES). Split it into several files."
    ]
    assert not Actor.objects.exists()


def test_unknown_file_extension_is_refused():
    with pytest.raises(ImportFileError, match="use a .csv, .xlsx or .json file"):
        read_table(b"slug\nx\n", "actors.txt")


def workbook(*sheets):
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets:
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_xlsx_with_several_sheets_reads_the_sheet_named_after_the_type():
    data = workbook(
        ("Notes", [["Read me first"], ["This sheet is not data."]]),
        ("actors", [["slug", "name", "kind"], ["cisco", "Cisco", "company"]]),
    )
    table = read_table(data, "data.xlsx", kind="actors")
    assert table.sheet == "actors"
    assert import_actors(data, "data.xlsx") == {"cisco": "Cisco"}


def test_xlsx_without_a_named_sheet_reads_the_first_sheet_with_data():
    data = workbook(("Empty", []), ("Sheet2", [["slug", "name", "kind"], ["a", "A", "ngo"]]))
    assert read_table(data, "data.xlsx", kind="actors").sheet == "Sheet2"


def test_xlsx_numbers_and_dates_are_read_as_text():
    import datetime

    data = workbook(
        (
            "conditions",
            [["slug", "text", "status_date"], ["hr", "Safeguards", datetime.datetime(2024, 11, 1)]],
        )
    )
    table = read_table(data, "c.xlsx", kind="conditions")
    assert table.rows == [{"slug": "hr", "text": "Safeguards", "status_date": "2024-11-01"}]


def test_a_broken_workbook_is_refused_clearly():
    with pytest.raises(ImportFileError, match="not a readable .xlsx workbook"):
        read_table(b"PK\x03\x04 not really a zip", "data.xlsx")


def test_json_list_of_objects_and_the_whole_data_set_object():
    rows = [
        {"slug": "cisco", "name": "Cisco", "kind": "company", "identifiers": ["wikidata:Q173395"]}
    ]
    assert import_actors(json.dumps(rows).encode(), "actors.json") == {"cisco": "Cisco"}
    whole = json.dumps({"topics": [], "actors": rows}).encode()
    table = read_table(whole, "all.json", kind="actors")
    assert table.rows[0]["identifiers"] == "wikidata:Q173395"
    with pytest.raises(ImportFileError, match="list of objects"):
        read_table(b'{"a": 1}', "x.json", kind="actors")
    with pytest.raises(ImportFileError, match="cannot be read"):
        read_table(b"[{", "x.json", kind="actors")
