"""
The status table of a topic: rows and totals of a hand-built case (with a denunciation and
a withdrawn reservation), entry into force from the rule and the dates, as of a date, its
filters, sorts, downloads and a query count flat with ten times the states and acts.
"""

import datetime
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from positions import acts, caching, writes
from positions.exchange import TYPES
from positions.models import ActKind, ActorKind, FormalAct, StatementStatus
from tests.factories import ActorFactory, FormalActFactory, SourceFactory, TopicFactory

pytestmark = pytest.mark.django_db
D = datetime.date


def state(name, code):
    return ActorFactory(name=name, slug=name.lower(), kind=ActorKind.STATE, country=code)


@pytest.fixture
def case():
    """Five states on a treaty in force 90 days after the 3rd consent."""
    topic = TopicFactory(
        title="Treaty", slug="treaty", entry_into_force_count=3, entry_into_force_days=90
    )
    source = SourceFactory()
    s = {name: state(name, code) for name, code in
         [("Austria", "AT"), ("Brazil", "BR"), ("Chile", "CL"), ("Denmark", "DK"),
          ("Egypt", "EG")]}  # fmt: skip

    def act(who, kind, day, **kwargs):
        return FormalActFactory(actor=s[who], topic=topic, kind=kind, date=day, source=source,
                                **kwargs)  # fmt: skip

    act("Austria", ActKind.SIGNATURE, D(2025, 1, 10))
    act("Austria", ActKind.RATIFICATION, D(2025, 3, 1))
    reservation = act("Austria", ActKind.RESERVATION, D(2025, 3, 1), text="Article 5 aside.")
    act("Austria", ActKind.RESERVATION_WITHDRAWAL, D(2025, 6, 1), regarding=reservation)
    act("Brazil", ActKind.SIGNATURE, D(2025, 1, 10))
    act("Brazil", ActKind.ACCEPTANCE, D(2025, 4, 1))
    act("Brazil", ActKind.RESERVATION, D(2025, 4, 1), text="Article 9 aside.")
    act("Chile", ActKind.SIGNATURE, D(2025, 1, 12))
    act("Denmark", ActKind.ACCESSION, D(2025, 5, 1))
    act("Denmark", ActKind.DENUNCIATION, D(2025, 8, 1))
    act("Egypt", ActKind.SIGNATURE, D(2025, 2, 1), status=StatementStatus.DRAFT)  # unseen
    return topic, s


def rows_by_name(response):
    return {row.actor_name: row for row in response.context["rows"]}


def test_the_table_has_a_row_per_participant_with_its_acts(client, case):
    response = client.get("/topics/treaty/status/", {"as_of": "2025-09-01"})
    rows = rows_by_name(response)
    assert list(rows) == ["Austria", "Brazil", "Chile", "Denmark"]  # Egypt's act is a draft
    austria, brazil, chile, denmark = rows.values()
    assert (austria.signature.date, austria.consent.kind) == (D(2025, 1, 10), "ratification")
    assert austria.reservations == [] and len(austria.withdrawn_reservations) == 1
    assert [r.text for r in brazil.reservations] == ["Article 9 aside."]
    assert brazil.consent_label == "Acceptance"
    assert chile.status == acts.Status.SIGNATORY
    assert denmark.status == acts.Status.WITHDRAWN
    totals = response.context["totals"]
    assert totals.sentence == "3 signatures, 1 ratification, 1 acceptance, 1 accession"
    assert (totals.parties, totals.withdrawn, totals.reservations) == (2, 1, 1)
    html = response.content.decode()
    assert "Article 9 aside." in html and "(withdrawn)" in html
    assert "3 signatures, 1 ratification, 1 acceptance, 1 accession" in html


def test_as_of_a_date_shows_the_acts_dated_until_then(client, case):
    response = client.get("/topics/treaty/status/", {"as_of": "2025-03-15"})
    rows = rows_by_name(response)
    assert list(rows) == ["Austria", "Brazil", "Chile"]
    assert [r.text for r in rows["Austria"].reservations] == ["Article 5 aside."]
    assert rows["Brazil"].status == acts.Status.SIGNATORY
    assert response.context["entry_into_force"].consents == 1
    assert "Not yet in force: 2 more needed." in response.content.decode()


def test_entry_into_force_is_the_days_after_the_consent_that_reached_the_count(client, case):
    response = client.get("/topics/treaty/status/", {"as_of": "2025-06-01"})
    rule = response.context["entry_into_force"]
    # Consents: 1 March, 1 April, 1 May: the third, plus 90 days.
    assert rule.date == D(2025, 7, 30) and not rule.in_force
    assert "Enters into force on" in response.content.decode()
    assert "90 days after the 3rd ratification" in response.content.decode()
    response = client.get("/topics/treaty/status/", {"as_of": "2025-09-01"})
    # Denmark's later denunciation does not undo it.
    assert response.context["entry_into_force"].in_force
    assert "Entered into force on" in response.content.decode()


def test_a_topic_without_a_rule_shows_no_entry_into_force(client, case):
    topic, _states = case
    topic.entry_into_force_count = None
    with writes.writing():
        writes.save(topic)
    response = client.get("/topics/treaty/status/")
    assert response.context["entry_into_force"] is None
    assert "Entry into force" not in response.content.decode()


def test_it_filters_by_act_and_sorts_by_name_signature_and_consent(client, case):
    get = lambda **params: [  # noqa: E731
        r.actor_name for r in client.get("/topics/treaty/status/", params).context["rows"]
    ]
    assert get(act="reservation") == ["Brazil"]
    assert get(act="withdrawn") == ["Denmark"]
    assert get(act="party") == ["Austria", "Brazil"]
    assert get(sort="-name") == ["Denmark", "Chile", "Brazil", "Austria"]
    assert get(sort="signature") == ["Austria", "Brazil", "Chile", "Denmark"]
    assert get(sort="-consent") == ["Denmark", "Brazil", "Austria", "Chile"]


def test_the_downloads_carry_the_table(client, case):
    response = client.get("/topics/treaty/status.json", {"as_of": "2025-09-01"})
    rows = json.loads(b"".join(response.streaming_content))
    brazil = next(r for r in rows if r["actor"] == "brazil")
    assert brazil["consent_kind"] == "acceptance" and brazil["status"] == "party"
    assert brazil["reservations"][0]["text"] == "Article 9 aside."
    csv = b"".join(client.get("/topics/treaty/status.csv").streaming_content).decode()
    assert csv.splitlines()[0].startswith("as_of,topic,actor,actor_name,country,status")
    assert "2025-03-01: Article 5 aside." in csv  # the withdrawn one, in its own column
    assert client.get("/topics/treaty/status.csv", {"as_of": "junk"}).status_code == 400
    assert client.get("/topics/nope/status.csv").status_code == 404


def test_the_empty_table_says_what_will_appear(client):
    TopicFactory(slug="empty")
    html = client.get("/topics/empty/status/").content.decode()
    assert "No formal act is on record" in html
    assert "signatures, ratifications" in html


def test_junk_parameters_are_reported_never_a_500(client, case):
    for params in ({"as_of": "2024-13-45"}, {"sort": "x\x00"}, {"act": "x" * 5000}):
        response = client.get("/topics/treaty/status/", params)
        assert response.status_code == 200
        assert "This filter was ignored" in response.content.decode()


def test_a_recomputed_table_renders_again_only_the_rows_whose_acts_changed(client, case):
    url = "/topics/treaty/status/"
    first = client.get(url)
    assert first["X-Fragment-Cache"] == "0/5"  # a row per participant and the map
    caching.bump_data_version()  # an edit elsewhere
    again = client.get(url)
    assert again["X-Page-Cache"] == "computed" and again["X-Fragment-Cache"] == "5/5"
    assert again.content == first.content
    reservation = FormalAct.objects.get(text="Article 9 aside.")
    reservation.text = "Article 9 and 10 aside."
    with writes.writing():
        writes.save(reservation)
    edited = client.get(url)
    assert edited["X-Fragment-Cache"] == "4/5"  # Brazil's row only
    assert "Article 9 and 10 aside." in edited.content.decode()
    assert "Article 9 aside." not in edited.content.decode()


def grow(topic, times):
    source = SourceFactory()
    with writes.writing():
        for n in range(times):
            actor = ActorFactory(slug=f"grown-{n}", kind=ActorKind.STATE, country="FR")
            for kind, day in [
                (ActKind.SIGNATURE, D(2025, 1, 1)),
                (ActKind.RATIFICATION, D(2025, 2, 1)),
                (ActKind.RESERVATION, D(2025, 2, 1)),
            ]:
                FormalActFactory(actor=actor, topic=topic, kind=kind, date=day, source=source)


# The topic, the blocs for the filter, then its published acts with their actors and sources.
STATUS_QUERIES = 3


def test_its_query_count_is_pinned_and_flat_with_ten_times_the_states_and_acts(client, case):
    topic, _states = case
    url = "/topics/treaty/status/?sort=consent&act=signature"
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    grow(topic, 40)
    with CaptureQueriesContext(connection) as large:
        response = client.get(url)
    assert len(response.context["rows"]) == 43
    assert len(small) == len(large) == STATUS_QUERIES


def test_the_demo_records_no_act_and_its_status_table_says_so(client):
    import io

    from django.core.management import call_command

    call_command("load_demo", stdout=io.StringIO())
    html = client.get("/topics/un-convention-against-cybercrime/status/").content.decode()
    assert "No formal act is on record for UN Convention against Cybercrime" in html
    topic_page = client.get("/topics/un-convention-against-cybercrime/").content.decode()
    assert "/topics/un-convention-against-cybercrime/status/" in topic_page


def test_the_acts_travel_in_the_downloads_and_beside_popolo(client, case):
    rows = json.loads(b"".join(client.get("/data/acts.json").streaming_content))
    assert len(rows) == 10  # Egypt's draft stays in the tracker
    withdrawal = next(r for r in rows if r["kind"] == "reservation_withdrawal")
    # The reservation as the import names it (its actor and date, on the act's topic).
    assert withdrawal["regarding"].startswith("austria/") and withdrawal["actor"] == "austria"
    csv = b"".join(client.get("/data/acts.csv").streaming_content).decode()
    assert csv.splitlines()[0] == ",".join(TYPES["acts"].names)
    popolo = client.get("/data/popolo.json").json()
    assert {a["kind"] for a in popolo["formal_acts"]} >= {"signature", "accession"}
    ids = {o["id"] for o in popolo["organizations"] + popolo["persons"]}
    assert {a["actor"] for a in popolo["formal_acts"]} <= ids
