"""
The formal acts file type: keyed on actor + topic + kind + date, the editorial workflow of
statements (drafts by editors, publishing by Publishers, a source to publish, a retraction
final), reservations with their text, objections and withdrawals naming a reservation
stored or in the same file, the diff preview, all or nothing, and the download that
imports back.
"""

import datetime
import json

import pytest
from django.contrib.auth.models import Permission

from positions import acts
from positions.exchange import TYPES, ImportContext, import_bytes
from positions.models import (
    ActKind,
    ActorIdentifier,
    ActorKind,
    FormalAct,
    Source,
    StatementStatus,
)
from tests.factories import (
    ActorFactory,
    FormalActFactory,
    SourceFactory,
    TopicFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

HEADER = (
    "actor,topic,kind,date,place,depositary_reference,text,regarding,source,status,correction_note"
)
SOURCE = "https://example.org/depositary/notification-1"


def acts_csv(*lines):
    return ("\r\n".join([HEADER, *lines]) + "\r\n").encode()


def run(data, dry_run=False, user=None, can_publish=True, **context):
    context = ImportContext(
        file_name="acts.csv", user=user, can_publish=can_publish and user is None, **context
    )
    return import_bytes(TYPES["acts"], data, "acts.csv", context=context, dry_run=dry_run)


@pytest.fixture
def treaty():
    topic = TopicFactory(slug="treaty")
    austria = ActorFactory(slug="austria", name="Austria", kind=ActorKind.STATE, country="AT")
    ActorIdentifier.objects.create(actor=austria, scheme="wikidata", identifier="Q40")
    chile = ActorFactory(slug="chile", name="Chile", kind=ActorKind.STATE, country="CL")
    SourceFactory(url=SOURCE)
    return topic, austria, chile


FILE = (
    f"austria,treaty,signature,2024-03-01,New York,,,,{SOURCE},published,",
    f"austria,treaty,ratification,2024-09-02,,C.N.12.2024,,,{SOURCE},published,",
    f"austria,treaty,reservation,2024-09-02,,,Article 5 does not apply.,,{SOURCE},published,",
    f"chile,treaty,objection,2025-01-15,,,We object to it.,austria/2024-09-02,{SOURCE},published,",
    f"wikidata:Q40,treaty,reservation_withdrawal,2025-06-01,,,,austria/2024-09-02,{SOURCE},"
    "published,",
    "chile,treaty,signature,2024-03-01,,,,,,draft,",
)


def test_a_file_of_acts_writes_the_status_table_and_reimports_as_unchanged(treaty):
    topic, austria, chile = treaty
    report = run(acts_csv(*FILE))
    assert report.ok and report.written, [str(e) for e in report.errors]
    assert FormalAct.objects.count() == 6
    reservation = FormalAct.objects.get(kind=ActKind.RESERVATION)
    objection = FormalAct.objects.get(kind=ActKind.OBJECTION)
    withdrawal = FormalAct.objects.get(kind=ActKind.RESERVATION_WITHDRAWAL)
    assert objection.regarding == reservation and withdrawal.regarding == reservation
    assert withdrawal.actor == austria  # named by its identifier
    assert reservation.first_published_at is not None
    assert FormalAct.objects.get(actor=chile, kind=ActKind.SIGNATURE).status == "draft"
    row = acts.status_of(topic)[austria.pk]
    assert row.status == "party" and not row.reservations  # withdrawn
    assert [r.text for r in row.withdrawn_reservations] == ["Article 5 does not apply."]
    assert acts.status_of(topic)[chile.pk].signature is None  # a draft counts nowhere
    again = run(acts_csv(*FILE))
    assert again.ok and again.totals() == {"new": 0, "changed": 0, "unchanged": 6, "errors": 0}
    assert FormalAct.history.count() == 6


def test_a_changed_act_shows_old_and_new_and_publishing_it_needs_a_source(treaty):
    source = Source.objects.get(url=SOURCE)
    run(acts_csv("chile,treaty,signature,2024-03-01,,,,,,draft,"))
    report = run(acts_csv("chile,treaty,signature,2024-03-01,Santiago,,,,,published,"))
    assert [(e.row, e.column) for e in report.errors] == [(2, "source")]
    assert "needs a source" in report.errors[0].message
    preview = run(
        acts_csv(f"chile,treaty,signature,2024-03-01,Santiago,,,,{SOURCE},published,"),
        dry_run=True,
    )
    (plan,) = preview.plans
    assert plan.action == "update"
    assert plan.changes == {
        "place": ("", "Santiago"),
        "source": ("", str(source)),  # the source as the admin names it
        "status": ("draft", "published"),
    }


def test_an_editor_imports_drafts_and_only_a_publisher_publishes(treaty):
    editor = UserFactory(is_staff=True)
    editor.user_permissions.add(*Permission.objects.filter(codename__endswith="formalact"))
    drafts = run(acts_csv("chile,treaty,signature,2024-03-01,,,,,,draft,"), user=editor)
    assert drafts.written
    publish = run(
        acts_csv(f"chile,treaty,signature,2024-03-01,,,,,{SOURCE},published,"), user=editor
    )
    assert [(e.row, e.column) for e in publish.errors] == [(2, "status")]
    assert "Only a Publisher" in publish.errors[0].message
    assert FormalAct.objects.get().status == StatementStatus.DRAFT


def test_a_retraction_is_final(treaty):
    FormalActFactory(
        actor=treaty[1],
        topic=treaty[0],
        date=datetime.date(2024, 3, 1),
        status=StatementStatus.RETRACTED,
        correction_note="Wrong date.",
    )
    report = run(acts_csv(f"austria,treaty,signature,2024-03-01,,,,,{SOURCE},published,"))
    assert [(e.row, e.column) for e in report.errors] == [(2, "status")]
    assert "retraction is final" in report.errors[0].message


@pytest.mark.parametrize(
    ("line", "column", "message"),
    [
        ("nobody,treaty,signature,2024-03-01,,,,,,,", "actor", "Unknown actor 'nobody'"),
        ("austria,no-topic,signature,2024-03-01,,,,,,,", "topic", "Unknown topic 'no-topic'"),
        ("austria,treaty,handshake,2024-03-01,,,,,,,", "kind", "Unknown act kind 'handshake'"),
        ("austria,treaty,signature,1 March 2024,,,,,,,", "date", "is not a date"),
        ("austria,treaty,signature,2999-01-01,,,,,,,", "date", "cannot be in the future"),
        ("austria,treaty,reservation,2024-03-01,,,,,,,", "text", "needs its text"),
        ("austria,treaty,objection,2024-03-01,,,No.,chile/2020-01-01,,,", "regarding", "No "),
        (
            "austria,treaty,signature,2024-03-01,,,,austria/2024-09-02,,,",
            "regarding",
            "Only an objection or a withdrawal",
        ),
        ("austria,treaty,signature,2024-03-01,,,,,,published,", "source", "needs a source"),
        (
            f"austria,treaty,signature,2024-03-01,,,,,{SOURCE},retracted,",
            "correction_note",
            "needs a correction note",
        ),
    ],
)
def test_a_bad_row_is_refused_with_its_row_and_column(treaty, line, column, message):
    report = run(
        acts_csv(f"austria,treaty,reservation,2024-09-02,,,Article 5.,,{SOURCE},published,", line)
    )
    assert not report.ok and not report.written
    assert [(e.row, e.column) for e in report.errors] == [(3, column)], report.errors
    assert message in report.errors[0].message
    assert not FormalAct.objects.exists()


def test_an_act_named_twice_is_refused_and_two_stored_acts_of_one_key_are_named(treaty):
    topic, austria, _ = treaty
    twice = run(
        acts_csv(
            "austria,treaty,signature,2024-03-01,,,,,,,",
            "wikidata:Q40,treaty,Signature,2024-03-01,,,,,,,",
        )
    )
    assert [(e.row, e.column) for e in twice.errors] == [(3, "actor")]
    for text in ("One.", "Two."):
        FormalActFactory(
            actor=austria,
            topic=topic,
            kind=ActKind.RESERVATION,
            date=datetime.date(2024, 9, 2),
            text=text,
        )
    ambiguous = run(acts_csv(f"austria,treaty,reservation,2024-09-02,,,One.,,{SOURCE},published,"))
    assert [(e.row, e.column) for e in ambiguous.errors] == [(2, "kind")]
    assert "Several stored acts" in ambiguous.errors[0].message


def test_the_download_imports_back_unchanged_and_popolo_keeps_its_ids(client, treaty):
    assert run(acts_csv(*FILE)).written
    csv_bytes = b"".join(client.get("/data/acts.csv").streaming_content)
    assert csv_bytes.decode().splitlines()[0] == ",".join(TYPES["acts"].names)
    back = run(csv_bytes)
    assert back.ok and back.totals() == {"new": 0, "changed": 0, "unchanged": 5, "errors": 0}
    rows = json.loads(b"".join(client.get("/data/acts.json").streaming_content))
    assert len(rows) == 5  # the draft stays in the tracker
    withdrawal = next(r for r in rows if r["kind"] == "reservation_withdrawal")
    assert withdrawal["regarding"] == "austria/2024-09-02"
    everything = json.loads(b"".join(client.get("/data/all.json").streaming_content))
    assert everything["acts"] == rows
    popolo = client.get("/data/popolo.json").json()
    by_kind = {a["kind"]: a for a in popolo["formal_acts"]}
    reservation = FormalAct.objects.get(kind=ActKind.RESERVATION)
    assert by_kind["reservation_withdrawal"]["regarding_id"] == f"act-{reservation.pk}"
    assert by_kind["reservation"]["id"] == f"act-{reservation.pk}"


def test_checking_acts_costs_the_same_queries_for_six_rows_as_for_five_hundred(
    treaty, django_assert_num_queries
):
    states = [ActorFactory(slug=f"state-{n}", kind=ActorKind.STATE) for n in range(100)]
    lines = []
    for n, state in enumerate(states):
        other = states[(n + 1) % len(states)].slug
        lines += [
            f"{state.slug},treaty,signature,2024-03-01,,,,,{SOURCE},published,",
            f"{state.slug},treaty,ratification,2024-09-02,,,,,{SOURCE},published,",
            f"{state.slug},treaty,reservation,2024-09-02,,,Article 5.,,{SOURCE},published,",
            f"{other},treaty,objection,2025-01-15,,,No.,{state.slug}/2024-09-02,{SOURCE},published,",
            f"{state.slug},treaty,reservation_withdrawal,2025-06-01,,,,{state.slug}/2024-09-02,"
            f"{SOURCE},published,",
        ]
    # 1. the actors named by slug; 2. those named by identifier (none here); 3. the sources
    # by URL; 4. the topics; 5. the stored acts of the file's actors on its topics.
    with django_assert_num_queries(5):
        report = run(acts_csv(*FILE), dry_run=True)
    assert report.ok and report.created == 6
    with django_assert_num_queries(4):  # no identifier named
        report = run(acts_csv(*lines), dry_run=True)
    assert report.ok, report.errors[:3]
    assert report.created == 500
