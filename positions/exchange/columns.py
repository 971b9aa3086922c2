"""
The file types and their columns: one declarative list per type, the single place
that knows them. The import reads them (`planners.py`), the admin export and the public
downloads write them (`exporting.py`), the admin lists them (`admin.py`), and
docs/import-format.md shows them as `docs_table()` renders them (a test keeps it so).

A column names its model field (`field`), how a cell becomes the field's value (`parse`),
how a record becomes the cell (`export`), and what the docs say of it (`required`, `meaning`).
A column whose value needs the records of the file (a question, the signatories) has no
`parse`: its type's planner parses it (`parse_<name>`). A column with no `field` is the key,
or a relation the planner writes itself. `Column` and `FileType` are in `spec.py`; the
memberships' and formal acts' columns, whose keys are several columns, in
`linked_columns.py`.
"""

import re

from django.db.models import Prefetch

from ..models import (
    Actor,
    ActorKind,
    Attribution,
    Condition,
    ConditionStatus,
    DatePrecision,
    Question,
    Signatory,
    Source,
    SourceKind,
    Stance,
    Statement,
    StatementStatus,
    Topic,
)
from . import cells
from .cells import choice
from .linked_columns import ACTS, MEMBERSHIPS
from .spec import (
    IN_HEADER,
    Column,
    FileType,
    attr,
    choices_text,
    iso,
    question_key,
    source_reference,
)

LEAD_MARK = "*"
# Statements entered in the admin have no import reference; exports key them by id.
FALLBACK_KEY = re.compile(r"^pt-([1-9][0-9]*)$")


def statement_key(statement):
    return statement.import_ref or f"pt-{statement.pk}"


def signatory_cells(signatures):
    """(slug, is_lead) in order -> the cells' slugs; the lead is marked only when it is not
    the first (the SQL of `tables.SIGNATORIES_SQL` says the same)."""
    first_is_lead = not signatures or signatures[0][1] or not any(lead for _, lead in signatures)
    return [slug + (LEAD_MARK if lead and not first_is_lead else "") for slug, lead in signatures]


def statement_signatories(statement):
    """Actor slugs in order; the lead is marked only when it is not the first."""
    return signatory_cells([(s.actor.slug, s.is_lead) for s in statement.signatures.all()])


TOPICS = FileType(
    "topics",
    Topic,
    key_column="slug",
    export_order=("slug",),
    columns=(
        Column(
            "slug",
            attr("slug"),
            "key",
            "stable identifier, e.g. `un-cybercrime-convention`",
            parse=None,
            field=None,
        ),
        Column("title", attr("title"), "yes (new)", "the instrument or policy"),
        Column("summary", attr("summary"), "", "a few sentences"),
    ),
)

QUESTIONS = FileType(
    "questions",
    Question,
    key_column="slug",
    export_order=("topic__slug", "display_order", "slug"),
    export_select=("topic",),
    columns=(
        Column(
            "topic",
            lambda q: q.topic.slug,
            "key",
            "slug of an existing topic",
            parse=None,
            field=None,
        ),
        Column("slug", attr("slug"), "key", "unique within the topic", parse=None, field=None),
        Column(
            "title",
            attr("title"),
            "yes (new)",
            'the decision, e.g. "US Senate consent to ratification"',
        ),
        Column("short_label", attr("short_label"), "", "short name for tables and charts"),
        Column("description", attr("description")),
        Column(
            "display_order",
            lambda q: str(q.display_order),
            "",
            "whole number, lowest first (default 0)",
            parse=cells.parse_int,
        ),
    ),
)

CONDITIONS = FileType(
    "conditions",
    Condition,
    key_column="slug",
    export_order=("slug",),
    columns=(
        Column("slug", attr("slug"), "key", parse=None, field=None),
        Column("text", attr("text"), "yes (new)", "the demand as a short phrase"),
        Column("description", attr("description")),
        Column(
            "status",
            attr("status"),
            "",
            choices_text(ConditionStatus, default=ConditionStatus.OPEN),
            parse=choice(ConditionStatus, "status", optional=True),
        ),
        Column(
            "status_date",
            iso("status_date"),
            "",
            "when the status last changed",
            parse=cells.parse_date,
        ),
        Column("status_note", attr("status_note"), "", "why"),
    ),
)

ACTORS = FileType(
    "actors",
    Actor,
    key_column="slug",
    export_order=("slug",),
    export_select=("parent",),
    export_prefetch=("identifiers",),
    columns=(
        Column("slug", attr("slug"), "key", parse=None, field=None),
        Column("name", attr("name"), "yes (new)"),
        Column(
            "kind",
            attr("kind"),
            "yes (new)",
            choices_text(ActorKind),
            parse=choice(ActorKind, "actor kind"),
        ),
        Column(
            "country",
            lambda a: a.country.code or "",
            "",
            "ISO 3166-1 two-letter code (`US`)",
            parse=cells.parse_country,
        ),
        Column(
            "parent",
            lambda a: a.parent.slug if a.parent else "",
            "",
            "slug of the body it belongs to (in the database or in the same file); loops are "
            "refused",
            parse=None,
            field=None,
        ),
        Column(
            "aliases",
            lambda a: a.alias_list,
            "",
            "list: other names readers may search for",
            parse=cells.parse_lines,
            is_list=True,
        ),
        Column("description", attr("description")),
        Column(
            "website",
            attr("website"),
            "",
            "`http://` or `https://` address",
            parse=cells.parse_http_url,
        ),
        Column(
            "identifiers",
            lambda a: [f"{i.scheme}:{i.identifier}" for i in a.identifiers.all()],
            "",
            "list of `scheme:identifier`, e.g. `wikidata:Q42|bioguide:W000779`; an identifier "
            "belongs to one actor",
            parse=None,
            field=None,
            is_list=True,
        ),
    ),
)

SOURCES = FileType(
    "sources",
    Source,
    key_column="url",
    export_order=("url", "title", "pk"),
    columns=(
        Column(
            "url",
            attr("url"),
            "key",
            "`http://` or `https://` address. Leave empty only for a document that is not "
            "online: its `title` is then its key, and must be distinct among such documents",
            parse=cells.parse_http_url,
        ),
        Column("title", attr("title"), "yes"),
        Column("publisher", attr("publisher")),
        Column(
            "kind",
            attr("kind"),
            "yes (new)",
            choices_text(SourceKind),
            parse=choice(SourceKind, "source kind"),
        ),
        Column(
            "archive_url",
            attr("archive_url"),
            "",
            "a copy in a web archive",
            parse=cells.parse_http_url,
        ),
        Column("published_on", iso("published_on"), "", "publication date", parse=cells.parse_date),
    ),
)

STATEMENTS = FileType(
    "statements",
    Statement,
    key_column="import_ref",
    export_order=("date", "pk"),
    export_select=("question__topic", "source"),
    export_prefetch=(
        Prefetch(
            "signatures", queryset=Signatory.objects.select_related("actor").order_by("order", "pk")
        ),
        Prefetch("conditions", queryset=Condition.objects.order_by("slug")),
    ),
    columns=(
        Column(
            "import_ref",
            statement_key,
            "key",
            "your stable reference for the statement. Statements entered in the admin have "
            "none; downloads key them `pt-<id>`, which imports back onto the same statement",
            parse=None,
            field=None,
        ),
        Column(
            "question",
            lambda s: question_key(s.question),
            "yes",
            "`topic-slug/question-slug`",
            parse=None,
        ),
        Column(
            "date",
            iso("date"),
            "yes",
            "the day the actors said it",
            parse=cells.parse_required_date,
        ),
        Column(
            "date_precision",
            attr("date_precision"),
            "",
            "`day` (default), `month`, `year`; for `month`/`year` the date is the first day of it",
            parse=choice(DatePrecision, "date precision", optional=True),
        ),
        Column(
            "stance", attr("stance"), "yes", choices_text(Stance), parse=choice(Stance, "stance")
        ),
        Column(
            "signatories",
            statement_signatories,
            "yes",
            "list of actor slugs, in order. The first is the lead, unless another is marked "
            "with `*` (`senator-a|senator-b*`)",
            parse=None,
            field=None,
            is_list=True,
        ),
        Column(
            "conditions",
            lambda s: [c.slug for c in s.conditions.all()],
            "for `conditional`",
            "list of condition slugs; a conditional stance needs at least one",
            parse=None,
            field=None,
            is_list=True,
        ),
        Column("summary", attr("summary"), "yes", "one or two neutral sentences"),
        Column("quote", attr("quote"), "", "verbatim words from the source"),
        Column("quote_locator", attr("quote_locator"), "", "page, paragraph, timestamp"),
        Column(
            "attribution",
            attr("attribution"),
            "",
            "`own_words` (default) or `reported`",
            parse=choice(Attribution, "attribution", optional=True),
        ),
        Column(
            "source",
            lambda s: source_reference(s.source) if s.source else "",
            "to publish",
            "the source's URL, or the title of a source that is not online",
            parse=None,
        ),
        Column(
            "status",
            attr("status"),
            "",
            choices_text(StatementStatus, default=StatementStatus.DRAFT),
            parse=choice(StatementStatus, "status", optional=True),
        ),
        Column(
            "correction_note",
            attr("correction_note"),
            "to retract",
            "what was wrong, shown to readers",
        ),
    ),
)

# The order files are imported in: each type refers only to types before it.
TYPES = {
    t.kind: t
    for t in (TOPICS, QUESTIONS, CONDITIONS, ACTORS, SOURCES, STATEMENTS, MEMBERSHIPS, ACTS)
}
TYPE_OF_MODEL = {t.model: t for t in TYPES.values()}


def docs_table(file_type):
    """The type's column table as docs/import-format.md shows it (Markdown)."""
    lines = ["| column | required | meaning |", "| --- | --- | --- |"]
    for column in file_type.columns:
        cells_ = (f"`{column.name}`", column.required, column.meaning)
        lines.append("|" + "|".join(f" {c} " if c else " " for c in cells_) + "|")
    return "\n".join(lines) + "\n"


__all__ = [
    "IN_HEADER",
    "Column",
    "FileType",
    "attr",
    "choices_text",
    "iso",
    "question_key",
    "source_reference",
]
