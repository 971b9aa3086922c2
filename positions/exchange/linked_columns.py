"""
The columns of the types that link actors to other records (`columns.py` lists every type):
memberships of organisation-actors, and formal acts on a topic. Their keys are several
columns together (`planners_linked.py`).
"""

from ..models import ActKind, FormalAct, Membership, StatementStatus
from . import cells
from .cells import choice
from .spec import Column, FileType, attr, choices_text, iso, source_reference

ACTOR_REFERENCE = "an actor's slug, or one of its identifiers (`bioguide:W000779`)"


def slug_of(name):
    """The getter of an actor relation: its slug, or empty."""

    def getter(record):
        actor = getattr(record, name)
        return actor.slug if actor else ""

    return getter


def source_cell(record):
    return source_reference(record.source) if record.source else ""


MEMBERSHIPS = FileType(
    "memberships",
    Membership,
    key_column="member",
    export_order=("organization__slug", "member__slug", "role", "start_date", "pk"),
    export_select=("member", "organization", "on_behalf_of", "source"),
    columns=(
        Column(
            "member",
            slug_of("member"),
            "key",
            f"{ACTOR_REFERENCE}. Member, organisation, role and start date together are the "
            "key: a row with another start date is another membership",
            parse=None,
        ),
        Column(
            "organization",
            slug_of("organization"),
            "key",
            "the chamber, party, bloc, coalition or committee: " + ACTOR_REFERENCE,
            parse=None,
        ),
        Column(
            "role",
            attr("role"),
            "key",
            "`member` (default), or as the organisation says it, in lower case: `chair`, "
            "`vice-chair`, `ranking member`, `observer`...",
            parse=cells.parse_role,
        ),
        Column(
            "start_date",
            iso("start_date"),
            "key",
            "the first day; empty if no source gives it (one undated membership per role)",
            parse=cells.parse_date,
        ),
        Column(
            "end_date",
            iso("end_date"),
            "",
            "the last day it was held, not before the start; empty while it lasts",
            parse=cells.parse_date,
        ),
        Column(
            "on_behalf_of",
            slug_of("on_behalf_of"),
            "",
            "for a legislator, the party it sits for: " + ACTOR_REFERENCE,
            parse=None,
        ),
        Column(
            "area",
            attr("area"),
            "",
            "the state or district, an ISO 3166-2 code (`US-OR`)",
            parse=cells.parse_subdivision,
        ),
        Column(
            "source",
            source_cell,
            "",
            "the source's URL, or the title of a source that is not online",
            parse=None,
        ),
        Column("note", attr("note")),
    ),
)


def act_regarding(act):
    """The reservation an act refers to, as `actor/YYYY-MM-DD` (the topic is the act's)."""
    reservation = act.regarding
    return f"{reservation.actor.slug}/{reservation.date.isoformat()}" if reservation else ""


ACTS = FileType(
    "acts",
    FormalAct,
    key_column="actor",
    export_order=("topic__slug", "date", "actor__slug", "kind", "pk"),
    export_select=("actor", "topic", "source", "regarding__actor"),
    columns=(
        Column(
            "actor",
            slug_of("actor"),
            "key",
            f"{ACTOR_REFERENCE}. Actor, topic, kind and date together are the key",
            parse=None,
        ),
        Column("topic", lambda a: a.topic.slug, "key", "slug of an existing topic", parse=None),
        Column(
            "kind",
            attr("kind"),
            "key",
            choices_text(ActKind) + ". Several reservations deposited on one day are one "
            "`reservation` row with all their words",
            parse=choice(ActKind, "act kind"),
        ),
        Column(
            "date",
            iso("date"),
            "key",
            "the day of the act (of deposit, for an instrument); not in the future",
            parse=cells.parse_required_date,
        ),
        Column("place", attr("place"), "", "where it was signed"),
        Column(
            "depositary_reference",
            attr("depositary_reference"),
            "",
            "e.g. the depositary notification number",
        ),
        Column(
            "text",
            attr("text"),
            "for `reservation`, `declaration`, `objection`",
            "the words of the reservation, declaration or objection",
        ),
        Column(
            "regarding",
            act_regarding,
            "",
            "for an `objection` or a `reservation_withdrawal`: the reservation, as "
            "`actor/YYYY-MM-DD`, on the same topic, in the database or in the file",
            parse=None,
            field=None,
        ),
        Column(
            "source",
            source_cell,
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
