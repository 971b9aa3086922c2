"""
Import and export of the eight file types (docs/import-format.md), one job per module:

- `columns`: the declarative column spec of each type, the one place that knows them
  (`spec` defines a column, `linked_columns` holds memberships and formal acts);
- `reading`: uploaded bytes to a `Table` of strings (decoding, sheets, the formula guard);
- `cells`: one cell to a field's value;
- `planning`: the one planner (new, update, skip, or errors), with per-type hooks in
  `planners` and `planners_linked` (memberships, acts), and the lookups of actors by slug
  or identifier and of sources they share in `lookups`; the stored actors an actor file
  reaches, read a batch at a time, in `stored_actors`;
- `writing`: bulk writes with history, through the write path (`positions.writes`);
- `importing`: running an import, read, plan, write, all or nothing;
- `batches`: every confirmed import recorded with what it wrote, and its undo
  (`batch_admin`: the admin's imports and the undo's confirmation page);
- `exporting`: records to cells, for the admin export (and the rule `tables` is held to);
- `tables`: the public downloads' rows as plain tuples, and on PostgreSQL by `COPY`;
- `admin`: the bridge to django-import-export, the only module that imports it.

To add a column: declare it in its type's list in `columns.py` (getter, parser, the docs'
text), put the `docs_table()` of the type in docs/import-format.md (a test compares them)
and the column in the type's sample in docs/samples/. A column whose cells need the file's
records (a lookup by slug) gets a `parse_<name>` on its type's planner in `planners.py`; a
relation the type writes itself, a comparison in the planner's `relate` and a writer in
`writing.py`.
"""

from .columns import TYPES, Column, FileType, docs_table, source_reference, statement_key
from .exporting import export_queryset, export_row, export_values
from .importing import ImportReport, Progress, import_bytes, run_import
from .planning import ImportContext, RowError
from .reading import (
    ImportFileError,
    MissingPart,
    NoRows,
    Table,
    read_table,
    sanitize_cell,
    unsanitize_cell,
)

__all__ = [
    "TYPES",
    "Column",
    "FileType",
    "ImportContext",
    "ImportFileError",
    "ImportReport",
    "MissingPart",
    "NoRows",
    "Progress",
    "RowError",
    "Table",
    "docs_table",
    "export_queryset",
    "export_row",
    "export_values",
    "import_bytes",
    "read_table",
    "run_import",
    "sanitize_cell",
    "source_reference",
    "statement_key",
    "unsanitize_cell",
]
