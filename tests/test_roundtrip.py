"""
Round trip: export everything, import it into an empty database, export again — the files
are identical. Proves the columns carry the whole public record, both ways.
"""

import datetime

import pytest
from django.urls import reverse

from positions.exchange import TYPES, ImportContext, import_bytes
from positions.models import (
    ActKind,
    Actor,
    ActorIdentifier,
    ActorKind,
    Condition,
    ConditionStatus,
    DatePrecision,
    FormalAct,
    Membership,
    Question,
    Source,
    Stance,
    Statement,
    StatementStatus,
    Topic,
)
from tests.factories import (
    ActorFactory,
    ConditionFactory,
    FormalActFactory,
    MembershipFactory,
    QuestionFactory,
    SourceFactory,
    StatementFactory,
)

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.fixture(autouse=True)
def _plain_http(settings):
    settings.SECURE_SSL_REDIRECT = False


@pytest.fixture
def record():
    """A small record with every awkward case an export must carry."""
    adoption = QuestionFactory(
        topic__slug="uncc", topic__title="UN Convention", slug="adoption", display_order=1
    )
    ratification = QuestionFactory(
        topic=adoption.topic, slug="ratification", short_label="Ratification", display_order=2
    )
    senate = ActorFactory(slug="us-senate", kind=ActorKind.LEGISLATIVE_GROUP, country="US")
    senators = [
        ActorFactory(slug=f"senator-{i}", kind=ActorKind.LEGISLATOR, parent=senate)
        for i in range(3)
    ]
    ActorIdentifier.objects.create(actor=senators[0], scheme="bioguide", identifier="W000779")
    ActorIdentifier.objects.create(actor=senators[0], scheme="wikidata", identifier="Q43")
    cisco = ActorFactory(
        slug="cisco",
        name='Cisco, "Systems"',
        kind=ActorKind.COMPANY,
        aliases="Cisco Systems\nCSCO",
        website="https://www.cisco.com",
        description="Line one.\nLine two, with a comma.",
    )
    letter = SourceFactory(url="https://example.org/letter", kind="letter")
    offline = SourceFactory(url="", title="Briefing seen by reporters", published_on=None)
    safeguards = ConditionFactory(
        slug="safeguards",
        status=ConditionStatus.MET,
        status_date=D(2025, 1, 2),
        status_note="=Met in part",
    )
    oversight = ConditionFactory(slug="oversight")
    StatementFactory(
        question=ratification,
        actors=senators,
        stance=Stance.OPPOSES,
        source=letter,
        summary="-They oppose; @all of them.",
        quote='"Legitimises surveillance"',
        quote_locator="p. 2",
        import_ref="letter-2024",
    )
    joint = StatementFactory(
        question=ratification,
        actors=[cisco, senators[1]],
        stance=Stance.CONDITIONAL,
        conditions=[safeguards, oversight],
        source=offline,
        date=D(2024, 11, 1),
        date_precision=DatePrecision.MONTH,
        attribution="reported",
    )
    joint.signatures.update(is_lead=False)
    joint.signatures.filter(actor=senators[1]).update(is_lead=True)
    StatementFactory(
        question=adoption,
        actors=[cisco],
        status=StatementStatus.RETRACTED,
        correction_note="Misattributed.",
        source=letter,
    )
    StatementFactory(question=adoption, actors=[cisco], status=StatementStatus.DRAFT)
    party = ActorFactory(slug="party", kind=ActorKind.LEGISLATIVE_GROUP)
    MembershipFactory(
        member=senators[0],
        organization=senate,
        role="senator",
        on_behalf_of=party,
        area="US-OR",
        start_date=D(2021, 1, 3),
        end_date=D(2027, 1, 3),
        source=letter,
        note="Class 3, with a comma",
    )
    MembershipFactory(member=senators[1], organization=party)  # undated
    austria = ActorFactory(slug="austria", kind=ActorKind.STATE, country="AT")
    reservation = FormalActFactory(
        actor=austria,
        topic=adoption.topic,
        kind=ActKind.RESERVATION,
        date=D(2025, 3, 1),
        text="=Article 5 does not apply.",
        depositary_reference="C.N.1.2025",
        source=letter,
    )
    FormalActFactory(
        actor=austria,
        topic=adoption.topic,
        kind=ActKind.RESERVATION_WITHDRAWAL,
        date=D(2025, 6, 1),
        regarding=reservation,
        source=offline,
    )
    FormalActFactory(actor=austria, topic=adoption.topic, place="Hanoi", source=letter)
    FormalActFactory(
        actor=austria, topic=adoption.topic, kind=ActKind.DECLARATION, status="draft", source=None
    )


def download(client, name, *args):
    response = client.get(reverse(name, args=args))
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def export_everything(client):
    files = {kind: download(client, "positions:data_download", kind, "csv") for kind in TYPES}
    files["all.json"] = download(client, "positions:data_all")
    return files


def empty_the_database():
    FormalAct.objects.filter(regarding__isnull=False).delete()
    FormalAct.objects.all().delete()
    Membership.objects.all().delete()
    Statement.objects.all().delete()
    for model in (Source, Condition, Question, Topic, ActorIdentifier, Actor):
        model.objects.all().delete()


def import_all(files, fmt):
    for kind, file_type in TYPES.items():
        data, name = (
            (files[kind], f"{kind}.csv") if fmt == "csv" else (files["all.json"], "all.json")
        )
        report = import_bytes(
            file_type, data, name, context=ImportContext(file_name=name, can_publish=True)
        )
        assert report.ok, (kind, [str(e) for e in report.errors])
        assert report.updated == 0


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_export_import_into_an_empty_database_export_again_gives_identical_files(
    client, record, fmt
):
    first = export_everything(client)
    assert b"letter-2024" in first["statements"]
    assert b"'-They oppose" in first["statements"], "sanitised on the way out"
    empty_the_database()
    assert not Statement.objects.exists() and not Actor.objects.exists()

    import_all(first, fmt)

    second = export_everything(client)
    for name in first:
        assert second[name] == first[name], name
    # Drafts never left the tracker, so they are not in the second database.
    assert not Statement.objects.drafts().exists()


def test_reimporting_the_export_into_the_same_database_changes_nothing(client, record):
    files = export_everything(client)
    history = Statement.history.count()
    for kind, file_type in TYPES.items():
        report = import_bytes(
            file_type, files[kind], f"{kind}.csv", context=ImportContext(can_publish=True)
        )
        assert report.ok and report.created == report.updated == 0, kind
    assert Statement.history.count() == history
