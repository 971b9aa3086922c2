"""
The downloads' rows from `positions.exchange.tables`, held equal three ways on data with the
awkward cases: the Python path of plain tuples, PostgreSQL's COPY (row for row once read as
CSV), and the model getters of `columns.py` that the admin export uses.
"""

import csv
import datetime
import io
import json

import pytest
from django.db import connection, transaction

from positions import exports, writes
from positions.exchange import TYPES, export_queryset, export_row, export_values, tables
from positions.models import (
    ActKind,
    ActorIdentifier,
    ActorKind,
    Signatory,
    Stance,
    StatementStatus,
)
from tests.builders import build_record
from tests.factories import (
    ActorFactory,
    ConditionFactory,
    FormalActFactory,
    MembershipFactory,
    SourceFactory,
    StatementFactory,
)

pytestmark = pytest.mark.django_db
on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY")

# Text a spreadsheet would run, or a CSV writer must quote, or a database might mangle.
AWKWARD = [
    "=cmd|' /C calc'!A0",
    "+1",
    "-2",
    "@SUM(A1)",
    "\tTabbed",
    "\rReturned",
    "'=already quoted",
    "''+twice",
    "a, b and c",
    'He said "no"',
    "line one\nline two\r\nline three",
    "Zürich — 北京 — Ελλάδα ✓",
    "\\.",  # alone on a line, the end of data in COPY's text format
]


@pytest.fixture
def awkward_record():
    record = build_record()
    with writes.writing():
        party = ActorFactory(slug="party", kind=ActorKind.LEGISLATIVE_GROUP)
        # A party only drafts name: readers may not see it, as a parent or a member's party.
        draft_party = ActorFactory(slug="draft-party", kind=ActorKind.LEGISLATIVE_GROUP)
        StatementFactory(actors=[draft_party], status=StatementStatus.DRAFT)
        people = [
            ActorFactory(
                slug=f"person-{n}",
                name=AWKWARD[n],
                kind=ActorKind.LEGISLATOR,
                country="FR" if n % 2 else "",
                parent=party if n % 3 else draft_party,
                aliases=f" First {n} \r\nSecond, {n}\n\n\u3000Third\u00a0\x85Fourth|{n}",
                description=AWKWARD[-n - 1],
                website="https://example.org/" if n % 2 else "",
            )
            for n in range(len(AWKWARD))
        ]
        for n, person in enumerate(people[:4]):
            ActorIdentifier.objects.create(actor=person, scheme="wikidata", identifier=f"Q{n + 1}")
            ActorIdentifier.objects.create(actor=person, scheme="bioguide", identifier=f"W00000{n}")
        conditions = [
            ConditionFactory(slug=f"c-{n}", text=text, description=AWKWARD[-1 - n])
            for n, text in enumerate(AWKWARD[:3])
        ]
        offline = SourceFactory(url="", title='=An offline, "quoted" memo', publisher="+x")
        question = record.ratification
        for n, text in enumerate(AWKWARD):
            StatementFactory(
                question=question,
                actors=people[n : n + 1 + n % 4],  # one to four signatories
                stance=Stance.CONDITIONAL if n % 2 else Stance.OPPOSES,
                conditions=conditions[: 1 + n % 3] if n % 2 else [],
                summary=text,
                quote=AWKWARD[-1 - n],
                quote_locator=f"p. {n}, ¶ 2",
                source=offline if n % 5 == 0 else SourceFactory(title=text),
                import_ref="" if n % 2 else f"ref-{n}",
                date=datetime.date(2024, 1 + n % 12, 1),
            )
        joint = StatementFactory(question=question, actors=people[:3], summary="Lead second")
        Signatory.objects.filter(statement=joint).update(is_lead=False)
        Signatory.objects.filter(statement=joint, actor=people[1]).update(is_lead=True)
        leaderless = StatementFactory(question=question, actors=people[3:6], summary="No lead")
        Signatory.objects.filter(statement=leaderless).update(is_lead=False)
        StatementFactory(
            question=question,
            actors=[people[0], people[7]],
            status=StatementStatus.RETRACTED,
            summary="Retracted, shown",
        )
        StatementFactory(
            question=question,
            actors=[ActorFactory(slug="only-in-drafts")],
            status=StatementStatus.DRAFT,
            summary="A draft nobody may read",
        )
        for n, person in enumerate(people[:5]):
            MembershipFactory(
                member=person,
                organization=party,
                on_behalf_of=draft_party if n % 2 else party,
                role="chair" if n == 0 else "member",
                start_date=datetime.date(2020, 1, 1) if n % 2 else None,
                area="US-OR" if n % 2 else "",
                note=AWKWARD[n],
                source=offline if n % 2 else None,
            )
        reservation = FormalActFactory(
            actor=people[1],
            topic=record.topic,
            kind=ActKind.RESERVATION,
            text='=A reservation, "quoted"\nover lines',
            place="Hanoi",
        )
        FormalActFactory(
            actor=people[2],
            topic=record.topic,
            kind=ActKind.OBJECTION,
            regarding=reservation,
            text="-We object",
            date=datetime.date(2025, 11, 1),
        )
        FormalActFactory(actor=people[3], status=StatementStatus.DRAFT, depositary_reference="x")
    return record


def model_rows(kind, convert):
    """The rows as the admin export's getters make them, with the public rules applied."""
    file_type = TYPES[kind]
    for record in export_queryset(file_type, tables.TABLES[kind].base()):
        if not getattr(record, "has_public_parent", True):
            record.parent = None
        if not getattr(record, "has_public_party", True):
            record.on_behalf_of = None
        yield convert(file_type, record)


@pytest.mark.parametrize("kind", list(tables.TABLES))
def test_the_tuples_hold_what_the_model_getters_export(awkward_record, kind):
    names = TYPES[kind].names
    assert list(tables.TABLES[kind].cells) == list(names)  # the columns of `columns.py`
    rows = [dict(zip(names, cells, strict=True)) for cells in tables.python_rows(kind)]
    assert rows == list(model_rows(kind, export_row))
    assert list(tables.python_records(kind)) == list(model_rows(kind, export_values))
    assert rows, "the record has rows of every type"


@on_postgresql
@pytest.mark.parametrize("kind", list(tables.TABLES))
def test_copy_writes_the_rows_of_the_python_path(awkward_record, kind):
    with transaction.atomic():
        copied = b"".join(tables.copy_csv(kind)).decode()
    python = [list(TYPES[kind].names), *tables.sanitized_rows(kind)]
    assert list(csv.reader(io.StringIO(copied, newline=""))) == python
    assert len(python) > 1


@on_postgresql
def test_copy_guards_formula_cells_and_leaves_drafts_out(awkward_record):
    with transaction.atomic():
        copied = b"".join(tables.copy_csv("statements")).decode()
    assert "'=cmd" in copied and "'''+twice" in copied and "'\tTabbed" in copied
    assert "A draft nobody may read" not in copied and "Retracted, shown" in copied


def test_the_lead_is_marked_only_when_it_is_not_first(awkward_record):
    rows = {row[7]: row[5] for row in tables.python_rows("statements")}
    assert rows["Lead second"] == "person-0|person-1*|person-2"
    assert rows["No lead"] == "person-3|person-4|person-5"
    assert rows["''+twice"] == "person-7|person-8|person-9|person-10"  # four, lead first


def test_hidden_parties_and_drafts_stay_out(awkward_record):
    actors = {row["slug"]: row for row in tables.python_records("actors")}
    assert "only-in-drafts" not in actors and "draft-party" not in actors
    assert actors["person-1"]["parent"] == "party"
    assert actors["person-0"]["parent"] == ""  # its parent is the draft party
    assert actors["person-1"]["aliases"] == ["First 1", "Second, 1", "Third", "Fourth|1"]
    assert {m["on_behalf_of"] for m in tables.python_records("memberships")} == {"party", ""}
    acts = list(tables.python_records("acts"))
    assert [a["regarding"] for a in acts if a["kind"] == "objection"] == ["person-1/2025-10-25"]
    assert len(acts) == 2


def test_the_whole_data_set_json_files_hold_the_rows(client, awkward_record):
    document = json.loads(b"".join(client.get("/data/all.json").streaming_content))
    for kind in TYPES:
        assert document[kind] == list(model_rows(kind, export_values)), kind
    statements = json.loads("".join(exports.type_content("statements", "json")))
    assert statements == document["statements"]
