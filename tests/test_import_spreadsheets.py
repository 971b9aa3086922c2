"""Spreadsheets as editors make them: formulas, blank lines, cells beyond the header."""

import io

import openpyxl
import pytest

from positions.exchange import TYPES, ImportContext, import_bytes

pytestmark = pytest.mark.django_db


def workbook(*rows):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "actors"
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def run(data, name):
    context = ImportContext(file_name=name, can_publish=True, blanks="clear")
    return import_bytes(TYPES["actors"], data, name, context=context)


@pytest.mark.parametrize("column", ["name", "description"], ids=["required", "optional"])
def test_a_formula_cell_is_refused_naming_the_cell_never_read_as_empty(column):
    row = {"slug": "a", "name": "A", "kind": "ngo", "description": "About A."}
    row[column] = '=CONCAT("A", "B")'
    report = run(workbook(list(row), list(row.values())), "actors.xlsx")
    (error,) = report.errors
    cell = f"{'BD'[column == 'description']}2"
    assert f"Cell {cell} of sheet 'actors' holds a formula" in error.message
    assert "Paste Special" in error.message and not report.written


def test_row_numbers_are_the_spreadsheets_own_after_blank_lines():
    csv = b"slug,name,kind\r\na,A,ngo\r\n\r\n,,\r\nb,B,nonsense\r\n"
    (error,) = run(csv, "actors.csv").errors
    assert (error.row, error.column) == (5, "kind")
    book = workbook(["slug", "name", "kind"], ["a", "A", "ngo"], [], [None, None], ["b", "B", "x"])
    (error,) = run(book, "actors.xlsx").errors
    assert (error.row, error.column) == (5, "kind")


def test_more_cells_than_the_header_names_the_row_and_the_column():
    csv = b"slug,name,kind\r\na,A,ngo\r\nb,B,ngo,stray\r\n"
    (error,) = run(csv, "actors.csv").errors
    assert "Row 3 has more cells than the header: column D (cell D3" in error.message
    book = workbook(["slug", "name", "kind"], ["a", "A", "ngo", None, "stray"])
    (error,) = run(book, "actors.xlsx").errors
    assert "Row 2 has more cells than the header: column E (cell E2" in error.message
