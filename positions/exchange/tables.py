"""
The public downloads' rows as plain values, fast: the whole-data-set files (`bulkdata.py`)
and the streamed question downloads (`positions/exports.py`).

`TABLES[kind]` says, for each column of the type in `columns.py` (same names, same order),
the SQL of its cell: a Django expression giving its text, or, for a list column, how its
items are found. Two ways to run one table, held equal (and equal to the admin export's
model getters in `columns.py`) by tests/test_export_tables.py:

- `python_rows()`: one query of plain tuples (`values_list`: no model instances), each list
  column loaded once per chunk of rows (one query per list column per chunk, never one per
  row), the lists finished in Python. Every database: SQLite's CSV, and every JSON file.
- `copy_csv()`: on PostgreSQL, the same query with the lists aggregated and the formula
  guard (`sanitize_cell`) applied in SQL, run as `COPY (...) TO STDOUT WITH (FORMAT csv)`:
  the database writes the CSV and Python passes its blocks on. A profile of the old path
  (model instances, a prefetch cloned per chunk) ran it at a twentieth of `psql \\copy`.

PostgreSQL ends CSV lines with LF where Python's csv module writes CRLF; the rows are the
same either way (a CSV reader reads both), which is what the test compares.
"""

import itertools
from collections import defaultdict
from dataclasses import dataclass

from django.db import connection
from django.db.models import Case, CharField, Exists, F, Func, OuterRef, Q, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, Coalesce, Concat, NullIf

from ..models import (
    PUBLIC_STATUSES,
    Actor,
    ActorIdentifier,
    Condition,
    FormalAct,
    Membership,
    Signatory,
    Source,
    Statement,
)
from .cells import join_list
from .columns import TYPES, signatory_cells
from .reading import FORMULA_TRIGGERS, sanitize_cell

# Rows per query chunk (and per list-column query) on the Python path.
CHUNK_SIZE = 2000
# What Python's str.splitlines() splits on and str.strip() strips, for the aliases in SQL.
LINE_BREAKS = "\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]"
WHITESPACE = "".join(c for c in map(chr, range(0x110000)) if c.isspace())


class IsoDate(Func):
    """A date as YYYY-MM-DD text, or empty: SQLite stores it so, PostgreSQL formats it."""

    output_field = CharField()

    def as_sql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"COALESCE({sql}, '')", params

    def as_postgresql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"COALESCE(to_char({sql}, 'YYYY-MM-DD'), '')", params


# A cell `sanitize_cell` changes: a formula trigger first, after any apostrophes. Written in
# an E'' string (where \t and \r become the characters); `-` last in the bracket: literal.
FORMULA_PATTERN = (
    "E'^''*["
    + "".join({"\t": "\\t", "\r": "\\r"}.get(t, t) for t in FORMULA_TRIGGERS if t != "-")
    + "-]'"
)


def sanitized_sql(sql):
    """
    `sanitize_cell` in PostgreSQL of a text expression `sql`, which it repeats (so give it
    a column, not a subquery). An empty cell is NULL, which COPY writes as nothing, as
    Python's csv module writes an empty string.
    """
    return f"NULLIF(CASE WHEN {sql} ~ {FORMULA_PATTERN} THEN '''' || {sql} ELSE {sql} END, '')"


class Sanitized(Func):
    """`sanitized_sql` of an expression (PostgreSQL)."""

    output_field = CharField()

    def as_sql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return sanitized_sql(sql), [*params, *params, *params]


class SanitizedOnce(Func):
    """
    `sanitize_cell` of a subquery's text (PostgreSQL), which appears once: the match and
    the apostrophe in one `regexp_replace` (PostgreSQL would run a repeated subquery again).
    """

    output_field = CharField()

    def as_sql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        pattern = FORMULA_PATTERN.replace("E'^", "E'^(").removesuffix("'") + ")'"
        return f"NULLIF(regexp_replace({sql}, {pattern}, E'\\'\\\\1'), '')", params


def text(name):
    return Coalesce(F(name), Value(""), output_field=CharField())


def source_reference(relation):
    """How a row refers to its source: the URL, or the title of an offline document."""
    return Coalesce(
        NullIf(F(f"{relation}__url"), Value("")),
        F(f"{relation}__title"),
        Value(""),
        output_field=CharField(),
    )


def slug_if(flag, relation):
    """A related actor's slug when `flag` (readers may see it), else empty."""
    return Case(When(**{flag: True}, then=F(f"{relation}__slug")), default=Value(""))


@dataclass(frozen=True)
class ItemList:
    """
    A list column whose items are rows of another table: `items(ids)` gives each exported
    row's items (one query for the chunk), `aggregate` the same list joined with `|` in
    PostgreSQL, as a correlated subquery on the exported row's `id` (`{outer}`).
    """

    items: callable
    aggregate: str


@dataclass(frozen=True)
class SplitText:
    """A list column kept as one text field (the aliases, one per line)."""

    field: str

    def items(self, value):
        return [line.strip() for line in value.splitlines() if line.strip()]

    def aggregate(self, outer):
        field = f'{outer}."{self.field}"'
        # The field's name is the model's own; the texts go in as parameters.
        return RawSQL(  # noqa: S611
            "array_to_string(ARRAY(SELECT btrim(line, %s) FROM unnest(regexp_split_to_array("  # noqa: S608
            f"{field}, %s)) WITH ORDINALITY AS lines(line, n) WHERE btrim(line, %s) <> '' "
            "ORDER BY n), '|')",
            (WHITESPACE, LINE_BREAKS, WHITESPACE),
            output_field=CharField(),
        )


def _grouped(rows):
    found = defaultdict(list)
    for parent, *item in rows:
        found[parent].append(item[0] if len(item) == 1 else tuple(item))
    return found


def _signatories(ids):
    rows = (
        Signatory.objects.filter(statement_id__in=ids)
        .order_by("statement_id", "order", "pk")
        .values_list("statement_id", "actor__slug", "is_lead")
    )
    return {parent: signatory_cells(pairs) for parent, pairs in _grouped(rows).items()}


def _conditions(ids):
    through = Statement.conditions.through
    return _grouped(
        through.objects.filter(statement_id__in=ids)
        .order_by("statement_id", "condition__slug")
        .values_list("statement_id", "condition__slug")
    )


def _identifiers(ids):
    rows = (
        ActorIdentifier.objects.filter(actor_id__in=ids)
        .order_by("actor_id", "scheme", "identifier")
        .values_list("actor_id", "scheme", "identifier")
    )
    return {
        parent: [f"{scheme}:{identifier}" for scheme, identifier in pairs]
        for parent, pairs in _grouped(rows).items()
    }


# Table names from the models, the row's table from `copy_sql`: nothing from outside.
SIGNATORIES_SQL = (
    # The lead is marked only when it is not the first (`columns.signatory_cells`): at most
    # one signatory is the lead (a constraint), so a lead after the first is marked.
    "(SELECT string_agg(slug || CASE WHEN is_lead AND n > 1 THEN '*' ELSE '' END, '|' "  # noqa: S608
    "ORDER BY n) FROM (SELECT a.slug, g.is_lead, "
    'row_number() OVER (ORDER BY g."order", g.id) AS n '
    f"FROM {Signatory._meta.db_table} g JOIN {Actor._meta.db_table} a ON a.id = g.actor_id "
    "WHERE g.statement_id = {outer}.id) AS signed)"
)
CONDITIONS_SQL = (
    "(SELECT string_agg(c.slug, '|' ORDER BY c.slug) "  # noqa: S608
    f"FROM {Statement.conditions.through._meta.db_table} sc "
    f"JOIN {Condition._meta.db_table} c ON c.id = sc.condition_id "
    "WHERE sc.statement_id = {outer}.id)"
)
IDENTIFIERS_SQL = (
    "(SELECT string_agg(i.scheme || ':' || i.identifier, '|' ORDER BY i.scheme, i.identifier) "  # noqa: S608
    f"FROM {ActorIdentifier._meta.db_table} i WHERE i.actor_id = {{outer}}.id)"
)


@dataclass(frozen=True)
class Table:
    """One file type's export: its public rows (`base()`) and the SQL of each column."""

    kind: str
    base: callable  # -> the queryset of the rows readers may download
    cells: dict  # column name -> expression | ItemList | SplitText

    @property
    def file_type(self):
        return TYPES[self.kind]

    def ordered(self, queryset=None):
        queryset = self.base() if queryset is None else queryset
        return queryset.order_by(*self.file_type.export_order)


def public_actors():
    public = Actor.objects.public().filter(pk=OuterRef("parent_id"))
    return Actor.objects.public().annotate(has_public_parent=Exists(public))


def public_memberships():
    """Memberships between actors readers may see; a party only drafts name is left out."""
    public = Actor.objects.public()
    return Membership.objects.filter(member__in=public, organization__in=public).annotate(
        has_public_party=Exists(public.filter(pk=OuterRef("on_behalf_of_id")))
    )


TABLES = {
    table.kind: table
    for table in (
        Table(
            "topics",
            lambda: TYPES["topics"].model.objects.all(),
            {"slug": text("slug"), "title": text("title"), "summary": text("summary")},
        ),
        Table(
            "questions",
            lambda: TYPES["questions"].model.objects.all(),
            {
                "topic": text("topic__slug"),
                "slug": text("slug"),
                "title": text("title"),
                "short_label": text("short_label"),
                "description": text("description"),
                "display_order": Cast("display_order", CharField()),
            },
        ),
        Table(
            "conditions",
            Condition.objects.public,
            {
                "slug": text("slug"),
                "text": text("text"),
                "description": text("description"),
                "status": text("status"),
                "status_date": IsoDate("status_date"),
                "status_note": text("status_note"),
            },
        ),
        Table(
            "actors",
            public_actors,
            {
                "slug": text("slug"),
                "name": text("name"),
                "kind": text("kind"),
                "country": text("country"),
                "parent": slug_if("has_public_parent", "parent"),
                "aliases": SplitText("aliases"),
                "description": text("description"),
                "website": text("website"),
                "identifiers": ItemList(_identifiers, IDENTIFIERS_SQL),
            },
        ),
        Table(
            "sources",
            Source.objects.public,
            {
                "url": text("url"),
                "title": text("title"),
                "publisher": text("publisher"),
                "kind": text("kind"),
                "archive_url": text("archive_url"),
                "published_on": IsoDate("published_on"),
            },
        ),
        Table(
            "statements",
            Statement.objects.public,
            {
                "import_ref": Coalesce(
                    NullIf(F("import_ref"), Value("")),
                    Concat(Value("pt-"), Cast("pk", CharField())),
                    output_field=CharField(),
                ),
                "question": Concat(
                    F("question__topic__slug"),
                    Value("/"),
                    F("question__slug"),
                    output_field=CharField(),
                ),  # fmt: skip
                "date": IsoDate("date"),
                "date_precision": text("date_precision"),
                "stance": text("stance"),
                "signatories": ItemList(_signatories, SIGNATORIES_SQL),
                "conditions": ItemList(_conditions, CONDITIONS_SQL),
                "summary": text("summary"),
                "quote": text("quote"),
                "quote_locator": text("quote_locator"),
                "attribution": text("attribution"),
                "source": source_reference("source"),
                "status": text("status"),
                "correction_note": text("correction_note"),
            },
        ),
        Table(
            "memberships",
            public_memberships,
            {
                "member": text("member__slug"),
                "organization": text("organization__slug"),
                "role": text("role"),
                "start_date": IsoDate("start_date"),
                "end_date": IsoDate("end_date"),
                "on_behalf_of": slug_if("has_public_party", "on_behalf_of"),
                "area": text("area"),
                "source": source_reference("source"),
                "note": text("note"),
            },
        ),
        Table(
            "acts",
            lambda: FormalAct.objects.filter(status__in=PUBLIC_STATUSES),
            {
                "actor": text("actor__slug"),
                "topic": text("topic__slug"),
                "kind": text("kind"),
                "date": IsoDate("date"),
                "place": text("place"),
                "depositary_reference": text("depositary_reference"),
                "text": text("text"),
                "regarding": Case(
                    When(
                        Q(regarding__isnull=False),
                        then=Concat(
                            F("regarding__actor__slug"),
                            Value("/"),
                            IsoDate("regarding__date"),
                            output_field=CharField(),
                        ),  # fmt: skip
                    ),
                    default=Value(""),
                    output_field=CharField(),
                ),
                "source": source_reference("source"),
                "status": text("status"),
                "correction_note": text("correction_note"),
            },
        ),
    )
}


def _alias(index):
    return f"cell_{index}"  # column names like `date` would clash with the model's fields


# --- The Python path: plain tuples ------------------------------------------------------------


def python_rows(kind, queryset=None, *, lists_joined=True):
    """
    Each row's cells in column order: text, and for a list column the items joined with `|`
    (a CSV or XLSX cell) or, with `lists_joined=False`, a list (JSON). Not sanitised.
    """
    table = TABLES[kind]
    finish = join_list if lists_joined else list
    plain = {}  # what the one query selects, after the row's id: every cell but item lists
    for i, cell in enumerate(table.cells.values()):
        if isinstance(cell, SplitText):
            plain[_alias(i)] = text(cell.field)
        elif not isinstance(cell, ItemList):
            plain[_alias(i)] = cell
    rows = table.ordered(queryset).annotate(**plain).values_list("pk", *plain)
    iterator = rows.iterator(chunk_size=CHUNK_SIZE)
    while chunk := list(itertools.islice(iterator, CHUNK_SIZE)):
        ids = [row[0] for row in chunk]
        getters, position = [], 1
        for cell in table.cells.values():
            if isinstance(cell, ItemList):
                items = cell.items(ids)  # one query for the chunk
                getters.append(lambda row, items=items: finish(items.get(row[0], ())))
                continue
            if isinstance(cell, SplitText):
                getters.append(lambda row, k=position, c=cell: finish(c.items(row[k])))
            else:
                getters.append(lambda row, k=position: row[k])
            position += 1
        for row in chunk:
            yield [get(row) for get in getters]


def python_records(kind, queryset=None):
    """Column -> value (a list for a list column): a JSON file's objects."""
    names = TABLES[kind].file_type.names
    for cells in python_rows(kind, queryset, lists_joined=False):
        yield dict(zip(names, cells, strict=True))


def sanitized_rows(kind, queryset=None):
    """The CSV cells of the Python path, through the formula guard."""
    for cells in python_rows(kind, queryset):
        yield [sanitize_cell(cell) for cell in cells]


# --- The PostgreSQL path: COPY ---------------------------------------------------------------


def select_sql(kind, queryset=None):
    """The SELECT that COPY runs for a table (PostgreSQL), and its parameters."""
    table = TABLES[kind]
    outer = connection.ops.quote_name(table.file_type.model._meta.db_table)
    annotations = {}
    for i, cell in enumerate(table.cells.values()):
        if isinstance(cell, ItemList):
            raw = RawSQL(cell.aggregate.format(outer=outer), (), output_field=CharField())  # noqa: S611
            annotations[_alias(i)] = SanitizedOnce(raw)
        elif isinstance(cell, SplitText):
            annotations[_alias(i)] = SanitizedOnce(cell.aggregate(outer))
        elif isinstance(cell, IsoDate):  # digits and dashes, never a formula
            annotations[_alias(i)] = NullIf(cell, Value(""))
        else:
            annotations[_alias(i)] = Sanitized(cell)
    rows = table.ordered(queryset).annotate(**annotations).values_list(*annotations)
    return rows.query.sql_with_params()


def copy_sql(kind, queryset=None):
    """The COPY statement of a table (PostgreSQL) and its parameters."""
    sql, params = select_sql(kind, queryset)
    return f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params


def copy_csv(kind, queryset=None):
    """The CSV file of a table as PostgreSQL writes it: the header, then COPY's own pieces
    (a row or so each; `bulkdata.blocks` gathers them for writing and streaming)."""
    sql, params = copy_sql(kind, queryset)
    yield (",".join(TABLES[kind].file_type.names) + "\n").encode()
    with connection.cursor() as cursor, cursor.cursor.copy(sql, params) as copy:
        yield from copy


def uses_copy():
    return connection.vendor == "postgresql"
