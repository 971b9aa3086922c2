"""
What the API's operations read and answer: ninja (pydantic) schemas, from which the OpenAPI
schema is generated. Query schemas state every constraint the code enforces, so a request
the schema allows is one the API can answer, and anything else is a 400 with a message.
"""

import datetime

from ninja import Field, Schema

from ..models import (
    ActorKind,
    Attribution,
    ConditionStatus,
    DatePrecision,
    SourceKind,
    Stance,
    StatementStatus,
)
from ..search import MAX_SEARCH_LENGTH
from .keyset import MAX_ID

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
SLUG = r"^[-a-zA-Z0-9_]+$"
# Free text without control characters (a NUL byte is refused by PostgreSQL).
TEXT = r"^[^\x00-\x1f\x7f]*$"
COUNTRY = r"^[A-Z]{2}$"
CURSOR = r"^[-A-Za-z0-9_]+$"


def slug_field(description):
    return Field(None, max_length=200, pattern=SLUG, description=description)


class ErrorOut(Schema):
    detail: str
    errors: list[str] = []


# --- Query parameters ------------------------------------------------------------------


class PageQuery(Schema):
    cursor: str | None = Field(
        None,
        max_length=500,
        pattern=CURSOR,
        description="Opaque: the `next_cursor` of the page before. Omit for the first page.",
    )
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Items per page.")


class QuestionQuery(PageQuery):
    topic: str | None = slug_field("Only the questions of this topic (its slug).")


class ActorQuery(PageQuery):
    q: str | None = Field(
        None, max_length=MAX_SEARCH_LENGTH, pattern=TEXT, description="Part of a name or alias."
    )
    kind: ActorKind | None = None
    country: str | None = Field(None, pattern=COUNTRY, description="ISO 3166-1 alpha-2 code.")
    question: int | None = Field(
        None, ge=1, le=MAX_ID, description="With `stance`: who holds it now on this question."
    )
    stance: Stance | None = None


class StatementQuery(PageQuery):
    """The statement list page's filters, with the same names and meaning."""

    q: str | None = Field(
        None,
        max_length=MAX_SEARCH_LENGTH,
        pattern=TEXT,
        description="Words from the summary or quote, or an actor's name.",
    )
    question: int | None = Field(None, ge=1, le=MAX_ID, description="A question's id.")
    stance: Stance | None = None
    kind: ActorKind | None = Field(None, description="A signatory's kind.")
    country: str | None = Field(None, pattern=COUNTRY, description="A signatory's country.")
    source_kind: SourceKind | None = None
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    actor: str | None = slug_field("Statements this actor signed (its slug).")


class BoardQuery(PageQuery):
    """The board page's controls."""

    as_of: datetime.date | None = Field(
        None, description="The board as it stood at the end of that day (default: today)."
    )
    kind: ActorKind | None = None
    country: str | None = Field(None, pattern=COUNTRY)
    stance: Stance | None = None


# --- Records ---------------------------------------------------------------------------


class Tally(Schema):
    supports: int
    conditional: int
    opposes: int
    undecided: int
    total: int


class QuestionRef(Schema):
    id: int
    slug: str
    topic: str = Field(description="The topic's slug.")
    title: str
    url: str


class QuestionOut(QuestionRef):
    short_label: str
    description: str
    display_order: int
    board: str = Field(description="The API address of its board.")
    tally: Tally = Field(description="Actors per current stance.")


class TopicOut(Schema):
    id: int
    slug: str
    title: str
    summary: str
    url: str
    questions: list[QuestionRef]


class ActorRef(Schema):
    slug: str
    name: str
    kind: ActorKind
    country: str | None
    url: str


class IdentifierOut(Schema):
    scheme: str
    identifier: str
    url: str | None


class ActorOut(ActorRef):
    id: int
    parent: str | None = Field(description="The slug of the body it belongs to.")
    aliases: list[str]
    description: str
    website: str
    identifiers: list[IdentifierOut]
    # Extension point: memberships (the memberships branch) and formal acts are added here
    # as lists of their own schemas, filled in `endpoints.actor_rows`.


class ActorPositionOut(Schema):
    question: QuestionRef
    stance: Stance
    date: datetime.date
    statement: int


class ActorDetailOut(ActorOut):
    positions: list[ActorPositionOut] = Field(description="Current positions, per question.")


class SourceRef(Schema):
    id: int
    title: str
    url: str


class SourceOut(Schema):
    id: int
    title: str
    publisher: str
    kind: SourceKind
    url: str = Field(description="The document's own address (blank if not online).")
    archive_url: str
    published_on: datetime.date | None
    page: str = Field(description="The source's page on the tracker.")


class ConditionRef(Schema):
    slug: str
    text: str


class ConditionOut(ConditionRef):
    id: int
    description: str
    status: ConditionStatus
    status_date: datetime.date | None
    status_note: str
    url: str


class SignatoryOut(Schema):
    actor: str = Field(description="The actor's slug.")
    name: str
    is_lead: bool


class StatementOut(Schema):
    id: int
    url: str
    date: datetime.date
    date_precision: DatePrecision
    stance: Stance
    status: StatementStatus = Field(description="published, or retracted (shown, not counted).")
    summary: str
    quote: str
    quote_locator: str
    attribution: Attribution
    correction_note: str
    question: QuestionRef
    source: SourceRef | None
    signatories: list[SignatoryOut]
    conditions: list[ConditionRef]


class PositionOut(Schema):
    actor: ActorRef
    stance: Stance
    date: datetime.date = Field(description="The date of the deciding statement.")
    statement: int = Field(description="The deciding statement's id.")
    statement_url: str
    source: SourceRef | None


class BoardOut(Schema):
    question: QuestionRef
    as_of: datetime.date
    tally: Tally = Field(description="Actors per stance, with the actor filters applied.")
    items: list[PositionOut]
    next_cursor: str | None
    next: str | None
    # Extension point: the whip count and group splits (the memberships branch) become
    # optional fields here, computed by stances.py like the tally.


class Page(Schema):
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")
    next: str | None = Field(description="The next page's address, or null on the last.")


class TopicPage(Page):
    items: list[TopicOut]


class QuestionPage(Page):
    items: list[QuestionOut]


class ActorPage(Page):
    items: list[ActorOut]


class StatementPage(Page):
    items: list[StatementOut]


class SourcePage(Page):
    items: list[SourceOut]


class ConditionPage(Page):
    items: list[ConditionOut]
