"""Atom feeds of new statements: overall, per question, per actor; public statements only."""

import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse

from positions.models import StatementStatus
from tests.factories import ActorFactory, QuestionFactory, StatementFactory

pytestmark = pytest.mark.django_db


# The site's public address (SITE_URL), never the host a request came in by ("testserver").
SITE = "https://tracker.example.org"


@pytest.fixture(autouse=True)
def _plain_http(settings):
    """Tests run with DEBUG off, which redirects to HTTPS; the test client speaks HTTP."""
    settings.SECURE_SSL_REDIRECT = False
    settings.SITE_URL = SITE


ATOM = "{http://www.w3.org/2005/Atom}"


def entries(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)  # noqa: S314 (our own feed, in a test)
    return [
        (e.find(f"{ATOM}title").text, e.find(f"{ATOM}link").get("href"))
        for e in feed.iter(f"{ATOM}entry")
    ]


@pytest.fixture
def data():
    question = QuestionFactory(topic__slug="uncc", slug="ratification", short_label="Ratification")
    cisco = ActorFactory(slug="cisco", name="Cisco")
    senator = ActorFactory(slug="wyden", name="Ron Wyden")
    published = StatementFactory(question=question, actors=[cisco], stance="opposes")
    StatementFactory(question=question, actors=[cisco], status=StatementStatus.DRAFT)
    retracted = StatementFactory(
        question=question, actors=[senator], status=StatementStatus.RETRACTED
    )
    elsewhere = StatementFactory(actors=[senator])
    return question, cisco, published, retracted, elsewhere


def test_overall_feed_lists_public_statements_and_never_drafts(client, data):
    _, _, published, retracted, elsewhere = data
    found = entries(client.get(reverse("positions:feed_statements")))
    links = {link for _, link in found}
    assert links == {f"{SITE}{s.get_absolute_url()}" for s in (published, retracted, elsewhere)}
    titles = {link: title for title, link in found}
    assert titles[f"{SITE}{published.get_absolute_url()}"] == ("Cisco: Opposes — Ratification")
    assert titles[f"{SITE}{retracted.get_absolute_url()}"].startswith("[Retracted]")


def test_question_feed(client, data):
    question, _, published, retracted, _ = data
    url = reverse("positions:feed_question", args=["uncc", "ratification"])
    assert {link for _, link in entries(client.get(url))} == {
        f"{SITE}{s.get_absolute_url()}" for s in (published, retracted)
    }


def test_actor_feed(client, data):
    _, cisco, published, *_ = data
    url = reverse("positions:feed_actor", args=["cisco"])
    assert [link for _, link in entries(client.get(url))] == [
        f"{SITE}{published.get_absolute_url()}"
    ]


def test_feed_links_are_on_the_public_address_whatever_host_the_request_named(client, data):
    question, *_ = data
    url = reverse("positions:feed_question", args=["uncc", "ratification"])
    response = client.get(url)
    feed = ET.fromstring(response.content)  # noqa: S314 (our own feed, in a test)
    links = {link.get("rel"): link.get("href") for link in feed.findall(f"{ATOM}link")}
    assert links == {"alternate": SITE + question.get_absolute_url(), "self": SITE + url}
    assert feed.find(f"{ATOM}id").text == SITE + question.get_absolute_url()
    ids = [entry.find(f"{ATOM}id").text for entry in feed.iter(f"{ATOM}entry")]
    assert ids and all(id_.startswith(f"{SITE}/statements/") for id_ in ids)
    assert "testserver" not in response.content.decode()


def test_unknown_feed_objects_are_404(client, data):
    assert client.get(reverse("positions:feed_actor", args=["nobody"])).status_code == 404
    url = reverse("positions:feed_question", args=["uncc", "nope"])
    assert client.get(url).status_code == 404


def test_feed_queries_do_not_grow(client, django_assert_num_queries):
    url = reverse("positions:feed_statements")
    for count in (2, 20):
        StatementFactory.create_batch(count)
        # statements with question, topic and source; their signatories with actors
        with django_assert_num_queries(2):
            client.get(url)
