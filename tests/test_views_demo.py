"""The public pages on the demo data set, as `make run` serves them."""

import io

import pytest
from django.core.management import call_command

from positions.models import Actor, Condition, Source, Statement
from tests.factories import SourceFactory, StatementFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    call_command("load_demo", stdout=io.StringIO())


def test_every_public_page_of_the_demo_answers(client, demo):
    urls = ["/", "/actors/", "/statements/", "/methodology/", "/corrections/", "/sitemap.xml"]
    for statement in Statement.objects.public().select_related("question__topic"):
        urls += [
            statement.get_absolute_url(),
            statement.question.get_absolute_url(),
            statement.question.topic.get_absolute_url(),
            statement.source.get_absolute_url(),
        ]
    urls += [actor.get_absolute_url() for actor in Actor.objects.all()]
    urls += [condition.get_absolute_url() for condition in Condition.objects.all()]
    for url in sorted(set(urls)):
        assert client.get(url).status_code == 200, url


def test_the_ratification_board_shows_the_administration_on_conditions(client, demo):
    response = client.get(
        "/topics/un-convention-against-cybercrime/ratification-by-the-united-states/"
    )
    groups = {s.value: [p.actor.slug for p in ps] for s, ps, _count in response.context["groups"]}
    assert groups["conditional"] == ["us-administration"]
    html = response.content.decode()
    assert "November 2024" in html
    assert "Human-rights controls in place before ratification" in html


def test_a_month_precise_date_is_shown_as_a_month(client):
    statement = StatementFactory(summary="Said in November.")
    statement.date = statement.date.replace(day=1)
    statement.date_precision = "month"
    statement.save()
    html = client.get("/statements/").content.decode()
    assert f'<time datetime="{statement.date:%Y-%m}">{statement.date:%B %Y}</time>' in html


def test_a_source_that_is_not_online_links_to_its_page_never_to_nothing(client):
    offline = SourceFactory(url="", title="Letter on paper")
    statement = StatementFactory(source=offline)
    for url in [statement.get_absolute_url(), statement.question.get_absolute_url()]:
        html = client.get(url).content.decode()
        assert 'href=""' not in html
        assert f'<a href="{offline.get_absolute_url()}">' in html
    source_page = client.get(offline.get_absolute_url()).content.decode()
    assert "Not available online." in source_page
    assert Source.objects.filter(url="").count() == 1
