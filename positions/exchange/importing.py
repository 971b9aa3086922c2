"""
Running an import: one path for the admin, the management commands and the benchmark.

1. `reading.read_table()` turns the uploaded bytes into a `Table` of strings.
2. `run_import()` checks the header, refuses a key given twice, and plans every row with
   the type's planner (`planners.py`): every problem becomes a `RowError` with the row
   number, the column and a message.
3. Only when no row has an error, and the import is not a dry run, `writing.write()` writes
   the plan in one transaction (all or nothing), with history.
"""

import contextlib
import gc
import sys
from dataclasses import dataclass, field

from django.db import IntegrityError
from tqdm import tqdm

from . import writing
from .columns import TYPES
from .planners import PLANNERS
from .planning import ImportContext, RowError
from .reading import FIRST_DATA_ROW, ImportFileError, read_table


@dataclass
class ImportReport:
    kind: str
    file_name: str
    dry_run: bool
    plans: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    error_rows: dict = field(default_factory=dict)  # row number -> the row, for previews
    written: bool = False
    batch: object = None  # the `ImportBatch` that records the write, once written

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

    @property
    def error_row_count(self):
        return len({e.row for e in self.errors})

    @property
    def clearing(self):
        """The rows that would empty a stored value: they wait for the importer's choice."""
        return [plan for plan in self.plans if plan.clears]

    @property
    def flagged(self):
        """New rows that look like an existing record: they wait for the importer's choice."""
        return [plan for plan in self.plans if plan.flagged]

    def totals(self):
        return {
            "new": self.created,
            "changed": self.updated,
            "unchanged": self.skipped,
            "errors": self.error_row_count,
        }

    def summary(self):
        verb = "Would write" if self.dry_run or not self.ok else "Wrote"
        line = (
            f"{self.kind}: {self.created} new, {self.updated} changed, "
            f"{self.skipped} unchanged, {len(self.errors)} errors"
        )
        if not self.ok:
            return line + " (nothing was written: fix the errors and import again)"
        line = f"{line} ({verb.lower()} {'nothing' if self.dry_run else 'the changes'})"
        if self.batch is not None:
            line += f"; recorded as import #{self.batch.pk} (manage.py undo_import to undo it)"
        return line


class Progress:
    """
    The command line's progress bar (tqdm), updated in place, one phase after the other:
    reading, checking, writing. `enabled=False` (or a total of 0) shows nothing.
    """

    def __init__(self, total, label, stream=None, enabled=True):
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.bar = None
        self.phase(label, total)

    def phase(self, label, total):
        self.close()
        if self.enabled and total > 0:
            self.bar = tqdm(
                total=total, desc=label, file=self.stream, unit=" rows", ncols=90, mininterval=0.2
            )

    def advance(self, step=1):
        if self.bar is not None:
            self.bar.update(step)
            if self.bar.n >= self.bar.total:
                self.close()

    def close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def check_columns(file_type, headers):
    errors = []
    unknown = [h for h in headers if h not in file_type.names]
    if unknown:
        errors.append(
            RowError(
                0,
                "",
                f"Unknown column(s): {', '.join(unknown)}. The columns of a {file_type.kind} "
                f"file are: {', '.join(file_type.names)}.",
            )
        )
    missing = [c for c in file_type.header_required if c not in headers]
    if missing:
        errors.append(RowError(0, "", f"Missing required column(s): {', '.join(missing)}."))
    return errors


def duplicate_keys(planner, rows, numbers=None):
    """A key twice in one file is ambiguous (which row should win?): refuse the repeats."""
    first_seen, errors = {}, []
    numbers = numbers or range(FIRST_DATA_ROW, FIRST_DATA_ROW + len(rows))
    for number, row in zip(numbers, rows, strict=True):
        key = planner.row_key(row)
        if key and key in first_seen:
            message = (
                f"'{key}' is already on row {first_seen[key]}: each key may appear only once "
                "in a file."
            )
            errors.append(RowError(number, planner.file_type.key_column, message))
        elif key:
            first_seen[key] = number
    return errors


def row_numbers(table):
    """Each row's number as the spreadsheet shows it (blank lines count)."""
    return table.numbers or list(range(FIRST_DATA_ROW, FIRST_DATA_ROW + len(table.rows)))


def plan(planner, table, report, progress=None):
    """Plan every row into `report`: its plans, or its errors."""
    numbers = row_numbers(table)
    report.errors = duplicate_keys(planner, table.rows, numbers)
    duplicate_rows = {e.row for e in report.errors}
    planner.row_numbers = numbers
    planner.prepare(table.rows)
    for number, row in zip(numbers, table.rows, strict=True):
        if number not in duplicate_rows:
            row_plan, row_errors = planner.plan_row(number, row)
            if row_errors:
                report.errors.extend(row_errors)
            elif row_plan is not None:
                row_plan.values = row
                report.plans.append(row_plan)
        if progress:
            progress.advance()
    report.errors.sort(key=lambda e: (e.row, e.column))
    by_number = dict(zip(numbers, table.rows, strict=True))
    report.error_rows = {e.row: by_number[e.row] for e in report.errors if e.row in by_number}


def undecided(report, context):
    """Rows that wait for the importer's choice: an error each when writing."""
    errors = []
    if report.clearing and context.blanks not in ("clear", "keep"):
        for row_plan in report.clearing:
            columns = ", ".join(row_plan.clears)
            errors.append(
                RowError(
                    row_plan.number,
                    row_plan.clears[0],
                    f"The empty cell(s) would clear the stored {columns} of '{row_plan.key}': "
                    "choose to clear these fields or to keep the current values (command "
                    "line: --clear or --keep-blank).",
                )
            )
    for row_plan in report.flagged:
        candidate = row_plan.candidates[0]
        errors.append(
            RowError(
                row_plan.number,
                "name",
                f"Looks like the existing actor '{candidate.name}' ({candidate.slug}): say "
                "whether it is the same actor or a new one (command line: --duplicates=same "
                "or --duplicates=new).",
            )
        )
    return errors


def run_import(file_type, table, *, context, dry_run=False, progress=None):
    """
    Plan every row of `table` as a `file_type` file (a `columns.FileType` or its kind), then
    write the plan unless there is an error or this is a dry run. Returns an
    `ImportReport`; never writes half a file.
    """
    file_type = TYPES[file_type] if isinstance(file_type, str) else file_type
    report = ImportReport(kind=file_type.kind, file_name=context.file_name, dry_run=dry_run)
    report.errors = check_columns(file_type, table.headers)
    if report.errors:
        return report
    planner = PLANNERS[file_type.kind](file_type, context)
    with collector_paused():
        return plan_and_write(planner, table, report, context, dry_run, progress)


@contextlib.contextmanager
def collector_paused():
    """
    Pause Python's cyclic garbage collector while a file is planned and written. A file of
    20,000 rows makes a few hundred thousand objects (cells, plans, stored rows) that all
    live until the end; each of the collector's passes walks them all and finds nothing
    to free: a quarter of a re-import's time. Reference counting still frees what can be
    freed; what is left is collected when the collector runs again.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def plan_and_write(planner, table, report, context, dry_run, progress):
    plan(planner, table, report, progress)
    if report.errors or dry_run:
        return report
    report.errors = undecided(report, context)
    if report.errors:
        return report
    try:
        report.batch = writing.write(planner, report.plans, progress=progress)
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


def import_bytes(file_type, data, file_name, *, context=None, dry_run=False, progress=None):
    """Read and import an uploaded file; file-level problems become one error."""
    file_type = TYPES[file_type] if isinstance(file_type, str) else file_type
    context = context or ImportContext(file_name=file_name)
    context.file_name = context.file_name or file_name
    try:
        table = read_table(data, file_name, kind=file_type.kind)
    except ImportFileError as error:
        report = ImportReport(kind=file_type.kind, file_name=file_name, dry_run=dry_run)
        report.errors = [RowError(0, "", str(error))]
        return report
    return run_import(file_type, table, context=context, dry_run=dry_run, progress=progress)
