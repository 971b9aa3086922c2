"""Home and topic pages: topics, questions with their tallies, latest statements."""

import pytest

from positions import stances
from positions.views import TOPICS_PER_PAGE
from tests.builders import build_record
from tests.factories import TopicFactory

pytestmark = pytest.mark.django_db


def test_home_lists_topics_with_a_tally_per_question(client):
    record = build_record()
    response = client.get("/")
    (topic,) = response.context["topics"]
    assert [q.slug for q in topic.question_list] == [record.adoption.slug, record.ratification.slug]
    for question in topic.question_list:
        assert question.tally == stances.tally(question)
    html = response.content.decode()
    assert "Opposes: <strong>4</strong>" in html
    assert "Supports on conditions: <strong>1</strong>" in html


def test_home_shows_the_latest_published_statements_only(client):
    record = build_record()
    latest = list(client.get("/").context["latest"])
    assert record.statements["draft"] not in latest
    assert record.statements["retracted"] not in latest
    assert latest[0].date >= latest[-1].date


def test_home_paginates_topics(client):
    for i in range(TOPICS_PER_PAGE + 1):
        TopicFactory(title=f"Topic {i:02}")
    first = client.get("/")
    assert len(first.context["topics"]) == TOPICS_PER_PAGE
    assert 'href="?page=2"' in first.content.decode()
    assert len(client.get("/", {"page": 2}).context["topics"]) == 1


def test_home_with_nothing_yet_says_so(client):
    html = client.get("/").content.decode()
    assert "No topics yet." in html and "No statements published yet." in html


def test_topic_page_lists_its_questions_with_tallies_and_links(client):
    record = build_record()
    response = client.get(record.topic.get_absolute_url())
    assert [q.tally for q in response.context["questions"]] == [
        stances.tally(record.adoption),
        stances.tally(record.ratification),
    ]
    assert f'href="{record.ratification.get_absolute_url()}"' in response.content.decode()


def test_an_unknown_topic_is_404(client):
    assert client.get("/topics/nope/").status_code == 404
