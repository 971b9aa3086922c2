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


MARKUP = "<script>alert(1)</script> & <b>x</b>"
LITERAL_TEXT = "Support if 3 < 4 && 5 > 2, says the <Committee>"


def text_construct(element):
    """What a feed reader shows for an Atom text construct (RFC 4287, section 3.1).

    `type="html"` would be parsed as HTML (markup live) and `xhtml` is markup itself, so a
    record's words must come as `text`, the default.
    """
    assert element is not None
    kind = element.get("type", "text")
    assert kind == "text", f"<{element.tag}> is {kind}: a feed reader would render it as markup"
    assert len(element) == 0, "no child elements: the text is not parsed as markup"
    return element.text or ""


def test_markup_in_a_record_reaches_feed_readers_as_literal_text(client):
    """Summaries, correction notes, actor and question names: text a reader sees as typed."""
    question = QuestionFactory(
        topic__slug="uncc", slug="ratification", title=MARKUP, short_label=MARKUP
    )
    actor = ActorFactory(slug="tricky", name=MARKUP)
    published = StatementFactory(question=question, actors=[actor], summary=MARKUP)
    retracted = StatementFactory(
        question=question,
        actors=[actor],
        summary=LITERAL_TEXT,
        status=StatementStatus.RETRACTED,
        correction_note=MARKUP,
    )
    expected_summaries = {
        f"{SITE}{published.get_absolute_url()}": MARKUP,
        f"{SITE}{retracted.get_absolute_url()}": (f"{LITERAL_TEXT}\n\nCorrection: {MARKUP}"),
    }
    for url in (
        reverse("positions:feed_statements"),
        reverse("positions:feed_question", args=["uncc", "ratification"]),
        reverse("positions:feed_actor", args=["tricky"]),
    ):
        response = client.get(url)
        assert response.status_code == 200
        feed = ET.fromstring(response.content)  # noqa: S314 (our own feed, in a test)
        assert text_construct(feed.find(f"{ATOM}title")).startswith("Position Tracker")
        if feed.find(f"{ATOM}subtitle") is not None:
            text_construct(feed.find(f"{ATOM}subtitle"))
        found = {}
        for entry in feed.iter(f"{ATOM}entry"):
            link = entry.find(f"{ATOM}link").get("href")
            found[link] = text_construct(entry.find(f"{ATOM}summary"))
            assert MARKUP in text_construct(entry.find(f"{ATOM}title"))
            assert entry.find(f"{ATOM}author/{ATOM}name").text == MARKUP
            assert entry.find(f"{ATOM}content") is None
        assert found == expected_summaries, url
        # Nothing of the records came through as elements: only Atom's own are in the feed.
        assert {element.tag.split("}")[0] for element in feed.iter()} == {ATOM[:-1]}
