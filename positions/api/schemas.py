"""
What the API's operations read and answer: ninja (pydantic) schemas, from which the OpenAPI
schema is generated. Query schemas state every constraint the code enforces, so a request
the schema allows is one the API can answer, and anything else is a 400 with a message.
"""

import datetime

from ninja import Field, Schema

from ..models import (
    ActKind,
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


class ActQuery(PageQuery):
    topic: str | None = slug_field("Only the acts on this topic (its slug).")
    actor: str | None = slug_field("Only the acts of this actor (its slug).")
    kind: ActKind | None = None


class StatusQuery(Schema):
    as_of: datetime.date | None = Field(
        None, description="The table as it stood at the end of that day (default: today)."
    )


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


class MembershipOut(Schema):
    organization: ActorRef
    role: str
    on_behalf_of: ActorRef | None = Field(description="The party it sits for, if recorded.")
    area: str | None = Field(description="ISO 3166-2 code of the state or district.")
    start_date: datetime.date | None = Field(description="Null: since before any record.")
    end_date: datetime.date | None = Field(description="Its last day; null while it lasts.")


class ActorOut(ActorRef):
    id: int
    parent: str | None = Field(description="The slug of the body it belongs to.")
    aliases: list[str]
    description: str
    website: str
    identifiers: list[IdentifierOut]
    memberships: list[MembershipOut] = Field(
        description="Its memberships of public organisations (a chamber, a party, a bloc), "
        "past and present, by start date."
    )


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


class GroupCountOut(Schema):
    name: str
    slug: str | None = Field(description="The party's actor slug; null for no party recorded.")
    counts: dict[str, int] = Field(description="Members per stance, and `unknown`.")
    total: int


class ConditionNamedOut(ConditionRef):
    status: ConditionStatus
    status_date: datetime.date | None
    named_by: int = Field(description="Conditional members whose deciding statement names it.")


class WhipCountOut(Schema):
    day: datetime.date
    rule: str = Field(description="The rule in words, e.g. two thirds of the seats.")
    seats: int | None
    needed: int | None = Field(description="Votes needed; null if the rule gives no number.")
    members: int = Field(description="Members on the day.")
    counts: dict[str, int] = Field(description="Members per stance, and `unknown`.")
    with_conditions: int = Field(description="Supporters, with the conditional supporters.")
    summary: str
    verdict: str
    by_party: list[GroupCountOut]
    conditions: list[ConditionNamedOut] = Field(
        description="The conditions the conditional members name, with their status."
    )


class BoardOut(Schema):
    question: QuestionRef
    as_of: datetime.date
    tally: Tally = Field(description="Actors per stance, with the actor filters applied.")
    items: list[PositionOut]
    next_cursor: str | None
    next: str | None
    whip_count: WhipCountOut | None = Field(
        description="Only for a question with a deciding body: its members on the day, "
        "counted against the votes needed (the board's whip count; actor filters not applied)."
    )


class ActRef(Schema):
    id: int
    kind: ActKind
    date: datetime.date
    text: str = Field(description="The words of a reservation, declaration or objection.")


class ActOut(ActRef):
    actor: ActorRef
    topic: str = Field(description="The topic's slug.")
    place: str
    depositary_reference: str
    regarding: int | None = Field(description="The act it answers or withdraws, if any.")
    source: SourceRef | None
    status: StatementStatus = Field(description="published, or retracted (shown, not counted).")
    correction_note: str


class ParticipantOut(Schema):
    actor: ActorRef
    status: str = Field(description="party, signatory, withdrawn (denounced) or none.")
    signature: ActRef | None
    consent: ActRef | None = Field(
        description="Its ratification, acceptance, approval, accession or succession."
    )
    entry_into_force: ActRef | None
    denunciation: ActRef | None
    reservations: list[ActRef] = Field(description="In force on the day.")
    declarations: list[ActRef]
    withdrawn_reservations: list[ActRef]
    objections: list[ActRef]


class TotalsOut(Schema):
    signatures: int
    consents: int
    parties: int = Field(description="Consented and not withdrawn.")
    withdrawn: int
    reservations: int = Field(description="Participants with a reservation in force.")
    sentence: str = Field(description="'65 signatures, 3 ratifications', as depositaries say.")


class EntryIntoForceOut(Schema):
    count: int = Field(description="Consents the rule needs.")
    days: int = Field(description="Days after the consent that reaches the count.")
    consents: int = Field(description="Consents deposited as of the day.")
    date: datetime.date | None = Field(description="When it enters (or entered) into force.")
    in_force: bool


class StatusTableOut(Schema):
    topic: str = Field(description="The topic's slug.")
    as_of: datetime.date
    totals: TotalsOut
    entry_into_force: EntryIntoForceOut | None = Field(
        description="Null if the topic gives no entry-into-force rule."
    )
    participants: list[ParticipantOut] = Field(description="By actor name.")


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


class ActPage(Page):
    items: list[ActOut]
