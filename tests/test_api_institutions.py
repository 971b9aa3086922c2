"""
The API's memberships, whip count and formal acts: the same numbers as the pages, from the
same functions (institutions.whip_count, acts.participants_of), with pinned query counts.
"""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from positions.models import StatementStatus
from tests.factories import ActorFactory, MembershipFactory
from tests.test_acts import case as acts_case  # noqa: F401 (a fixture)
from tests.test_acts import grow as grow_acts
from tests.test_whip_count import DAY
from tests.test_whip_count import case as whip_case  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db
API = "/api/v1"


def board_url(question, **params):
    url = f"{API}/topics/{question.topic.slug}/questions/{question.slug}/board/"
    return url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def test_the_board_carries_the_whip_count_of_the_page(client, whip_case):  # noqa: F811
    question, condition = whip_case
    body = client.get(board_url(question, as_of=DAY.isoformat())).json()
    whip = body["whip_count"]
    assert whip["counts"] == {
        "supports": 4,
        "conditional": 1,
        "opposes": 1,
        "undecided": 1,
        "unknown": 1,
    }
    assert (whip["members"], whip["needed"], whip["seats"], whip["with_conditions"]) == (
        8,
        7,
        10,
        5,
    )
    assert whip["summary"].startswith("5 of the 7 needed")
    parties = {g["slug"]: g["total"] for g in whip["by_party"]}
    assert parties == {"dems": 5, "reps": 3}
    [named] = whip["conditions"]
    assert (named["slug"], named["status"], named["named_by"]) == (condition.slug, "met", 1)
    page = client.get(question.get_absolute_url(), {"as_of": DAY.isoformat()})
    assert page.context["whip"].summary == whip["summary"]


def test_a_board_without_a_deciding_body_has_no_whip_count(client):
    from tests.builders import build_record

    record = build_record()
    body = client.get(board_url(record.ratification)).json()
    assert body["whip_count"] is None


def test_an_actor_lists_its_public_memberships_with_party_and_dates(client, whip_case):  # noqa: F811
    body = client.get(f"{API}/actors/h/").json()
    memberships = body["memberships"]
    assert [(m["organization"]["name"], m["on_behalf_of"]["slug"]) for m in memberships] == [
        ("Senate", "reps"),
        ("Senate", "dems"),
    ]
    assert memberships[0]["end_date"] == "2024-06-30"
    assert memberships[1]["start_date"] == "2024-07-01"
    assert memberships[1]["end_date"] is None


def test_a_membership_of_a_hidden_organisation_is_left_out(client, whip_case):  # noqa: F811
    from tests.factories import StatementFactory

    member = ActorFactory(slug="visible")
    secret = ActorFactory(slug="secret-caucus")
    StatementFactory(actors=[secret], status=StatementStatus.DRAFT)  # named only by a draft
    MembershipFactory(member=member, organization=secret)
    assert client.get(f"{API}/actors/visible/").json()["memberships"] == []


def test_the_status_table_matches_the_page(client, acts_case):  # noqa: F811
    body = client.get(f"{API}/topics/treaty/status/", {"as_of": "2025-09-01"}).json()
    page = client.get("/topics/treaty/status/", {"as_of": "2025-09-01"})
    assert [p["actor"]["name"] for p in body["participants"]] == [
        r.actor_name for r in page.context["rows"]
    ]
    rows = {p["actor"]["slug"]: p for p in body["participants"]}
    assert rows["austria"]["status"] == "party"
    assert rows["austria"]["reservations"] == []
    assert [r["text"] for r in rows["austria"]["withdrawn_reservations"]] == ["Article 5 aside."]
    assert [r["text"] for r in rows["brazil"]["reservations"]] == ["Article 9 aside."]
    assert rows["denmark"]["status"] == "withdrawn"
    assert "egypt" not in rows  # a draft
    assert body["totals"]["sentence"] == page.context["totals"].sentence
    rule = body["entry_into_force"]
    assert (rule["count"], rule["days"], rule["consents"]) == (3, 90, 3)
    assert rule["date"] == (datetime.date(2025, 5, 1) + datetime.timedelta(days=90)).isoformat()
    assert rule["in_force"] is True  # 30 July, before 1 September


def test_the_status_table_as_of_an_early_day(client, acts_case):  # noqa: F811
    body = client.get(f"{API}/topics/treaty/status/", {"as_of": "2025-01-11"}).json()
    assert [p["actor"]["slug"] for p in body["participants"]] == ["austria", "brazil"]
    assert body["entry_into_force"]["date"] is None


@pytest.mark.parametrize("params", [{"as_of": "1800-01-01"}, {"as_of": "soon"}])
def test_a_bad_date_is_a_400_with_a_message(client, acts_case, params):  # noqa: F811
    response = client.get(f"{API}/topics/treaty/status/", params)
    assert response.status_code == 400
    body = response.json()
    assert "as_of" in " ".join([body["detail"], *body["errors"]])


def test_the_acts_list_filters_and_leaves_drafts_out(client, acts_case):  # noqa: F811
    items = client.get(f"{API}/acts/", {"limit": 200}).json()["items"]
    assert len(items) == 10
    reservations = client.get(f"{API}/acts/", {"kind": "reservation"}).json()["items"]
    assert sorted(a["text"] for a in reservations) == ["Article 5 aside.", "Article 9 aside."]
    austria = client.get(f"{API}/acts/", {"actor": "austria", "topic": "treaty"}).json()
    withdrawal = next(a for a in austria["items"] if a["kind"] == "reservation_withdrawal")
    assert withdrawal["regarding"] in {a["id"] for a in reservations}
    assert client.get(f"{API}/acts/", {"kind": "nonsense"}).status_code == 400


def count(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


# The topic, its published acts with actors and sources.
STATUS_QUERIES = 2
# The page of acts with actor, topic, source and the act it regards.
ACTS_QUERIES = 1


def test_the_acts_endpoints_run_a_flat_pinned_number_of_queries(client, acts_case):  # noqa: F811
    topic, _ = acts_case
    urls = {f"{API}/topics/treaty/status/": STATUS_QUERIES, f"{API}/acts/?limit=50": ACTS_QUERIES}
    small = {url: count(client, url) for url in urls}
    grow_acts(topic, 30)
    client.get("/")  # nothing cached: the data version moved
    large = {url: count(client, url) for url in urls}
    assert small == large == urls


# question + topic, tally, the page of positions, the whip count's two queries
WHIP_BOARD_QUERIES = 5


def test_the_whip_count_costs_the_same_for_a_larger_chamber(client, whip_case):  # noqa: F811
    question, _ = whip_case
    url = board_url(question, as_of=DAY.isoformat(), limit=5)
    small = count(client, url)
    senate = question.deciding_body
    for n in range(40):
        MembershipFactory(member=ActorFactory(slug=f"extra-{n}"), organization=senate)
    large = count(client, url)  # the write moved the data version: nothing cached
    assert small == WHIP_BOARD_QUERIES
    assert large == WHIP_BOARD_QUERIES
