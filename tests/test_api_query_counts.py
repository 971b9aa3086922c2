"""
Every API operation runs a fixed number of queries: the same on the small record and on one
twenty times larger (the pattern of tests/test_views_query_counts.py). No list counts its
rows: keyset pages need no COUNT.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from positions.models import Statement
from tests.builders import RATIFICATION_SLUG, TOPIC_SLUG, build_record, grow

pytestmark = pytest.mark.django_db

API = "/api/v1"
QUESTION = f"{API}/topics/{TOPIC_SLUG}/questions/{RATIFICATION_SLUG}/"

PINNED = {
    # the page of topics, their questions
    f"{API}/topics/?limit=5": 2,
    # topic, its questions
    f"{API}/topics/un-convention-against-cybercrime/": 2,
    # the page of questions with their topics, their tallies
    f"{API}/questions/?limit=5": 2,
    # question + topic, tally
    QUESTION: 2,
    # question + topic, tally, the page of positions
    QUESTION + "board/?limit=10": 3,
    QUESTION + "board/?limit=10&as_of=2024-10-30&stance=opposes": 3,
    # question + topic, the filtered tally, the page of positions
    QUESTION + "board/?kind=company&country=US": 3,
    # the page of actors (parent, public-parent check), identifiers, memberships
    f"{API}/actors/?limit=10": 3,
    # + the question (validation); current positions are a subquery
    f"{API}/actors/?q=a&question={{ratification}}&stance=opposes&limit=10": 4,
    # actor, identifiers, memberships, positions
    f"{API}/actors/cisco/": 4,
    # the page of statements, signatories, conditions
    f"{API}/statements/?limit=10": 3,
    # + the question (validation)
    f"{API}/statements/?q=human&stance=opposes&kind=company&country=US&source_kind=news_report"
    "&date_from=2024-01-01&date_to=2024-12-31&question={ratification}&limit=10": 4,
    f"{API}/statements/?actor=cisco&limit=10": 3,
    f"{API}/statements/{{letter}}/": 3,
    f"{API}/sources/?limit=10": 1,
    f"{API}/sources/{{cio}}/": 1,
    f"{API}/conditions/?limit=10": 1,
    f"{API}/conditions/human-rights-safeguards/": 1,
}


def fill(url, record):
    return url.format(
        ratification=record.ratification.pk,
        letter=record.statements["letter"].pk,
        cio=record.sources["cio"].pk,
    )


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.content[:300])
    return len(queries)


def test_it_runs_the_same_pinned_number_of_queries_on_twenty_times_the_data(client):
    record = build_record()
    small = {url: count_queries(client, fill(url, record)) for url in PINNED}
    statements = Statement.objects.count()
    grow(record, 20)
    assert Statement.objects.count() >= 20 * statements
    large = {url: count_queries(client, fill(url, record)) for url in PINNED}
    assert small == PINNED
    assert large == PINNED


def test_a_page_deep_in_the_list_costs_what_the_first_does(client):
    record = build_record()
    grow(record, 5)
    page = client.get(f"{API}/statements/?limit=3").json()
    for _ in range(3):
        page = client.get(page["next"]).json()
    with CaptureQueriesContext(connection) as queries:
        client.get(page["next"])
    assert len(queries) == PINNED[f"{API}/statements/?limit=10"]
    assert "OFFSET" not in queries[0]["sql"].upper()
    assert "COUNT(" not in " ".join(q["sql"].upper() for q in queries)


def test_a_cached_answer_runs_no_query(client):
    build_record()
    client.get(f"{API}/statements/")
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"{API}/statements/").status_code == 200
    assert len(queries) == 0
