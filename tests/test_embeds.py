"""
Embeds (/embed/...): the only pages other sites may frame. Small, without cookies or the
site's navigation; every other page keeps refusing to be framed.
"""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from positions import writes
from positions.models import Stance
from tests.builders import BOARD_URL, RATIFICATION_SLUG, TOPIC_SLUG, build_record
from tests.factories import MembershipFactory, StatementFactory

pytestmark = pytest.mark.django_db

EMBED = f"/embed/{TOPIC_SLUG}/{RATIFICATION_SLUG}/"


@pytest.fixture
def record():
    return build_record()


def frame_ancestors(response):
    directives = [d.strip() for d in response["Content-Security-Policy"].split(";")]
    return next(d for d in directives if d.startswith("frame-ancestors"))


def test_an_embed_shows_the_tally_and_may_be_framed_by_any_site(client, record):
    for _ in range(2):  # computed, then from the cache: the same headers
        response = client.get(EMBED)
        assert response.status_code == 200
        assert frame_ancestors(response) == "frame-ancestors *"
        assert "X-Frame-Options" not in response
        html = response.content.decode()
        assert "Ratification by the United States" in html
        assert "Opposes: <strong>4</strong>" in html
        assert "Supports on conditions: <strong>1</strong>" in html


def test_an_embed_sets_no_cookie_and_has_no_site_navigation(client, record):
    client.get("/")  # a reader who has been on the site
    response = client.get(EMBED)
    assert response.cookies == {}
    assert "Set-Cookie" not in response
    html = response.content.decode()
    assert "site-nav" not in html and "<form" not in html and "<script" not in html
    assert 'target="_blank"' in html
    assert len(response.content) < 5000


def test_every_other_page_refuses_to_be_framed(client, record):
    for url in ("/", BOARD_URL, "/actors/", "/statements/", "/api/v1/docs"):
        response = client.get(url)
        assert response["X-Frame-Options"] == "DENY", url
        assert frame_ancestors(response) == "frame-ancestors 'none'", url


def test_the_frame_ancestors_are_a_setting(client, record, settings):
    settings.EMBED_FRAME_ANCESTORS = ["https://news.example", "https://*.ngo.example"]
    response = client.get(EMBED)
    assert frame_ancestors(response) == "frame-ancestors https://news.example https://*.ngo.example"


def test_the_board_offers_a_copy_paste_iframe(client, record):
    html = client.get(BOARD_URL).content.decode()
    assert '<details class="embed-snippet">' in html
    assert f'&lt;iframe src="http://testserver{EMBED}"' in html
    assert "readonly" in html


def test_an_embed_follows_edits_and_runs_two_queries(client, record):
    with CaptureQueriesContext(connection) as queries:
        client.get(EMBED)
    assert len(queries) == 2  # question + topic, tally
    with writes.writing():
        StatementFactory(
            question=record.ratification,
            actors=[record.actors["cisco"]],
            stance=Stance.SUPPORTS,
            date=datetime.date(2024, 11, 15),
        )
    assert "Supports: <strong>1</strong>" in client.get(EMBED).content.decode()


@pytest.mark.parametrize(
    "url", [f"/embed/{TOPIC_SLUG}/nope/", "/embed/x/y/", f"{EMBED}?as_of=%00&x=" + "y" * 5000]
)
def test_unknown_or_junk_embeds_are_not_errors(client, record, url):
    assert client.get(url).status_code in (200, 404)


def test_an_embed_is_read_only(client, record):
    assert client.post(EMBED).status_code == 405


# --- The whip count and the map ---------------------------------------------------------------


def test_the_whip_count_embed_shows_the_count_against_the_threshold(client):
    from tests.test_whip_count import DAY, chamber, say

    senate, question = chamber()
    for stance in [Stance.SUPPORTS, Stance.SUPPORTS, Stance.OPPOSES]:
        member = MembershipFactory(organization=senate).member
        say(question, member, stance, DAY)
    url = f"/embed/{question.topic.slug}/{question.slug}/whip-count/"
    response = client.get(url)
    assert response.status_code == 200
    assert frame_ancestors(response) == "frame-ancestors *"
    assert "X-Frame-Options" not in response and response.cookies == {}
    html = response.content.decode()
    assert "2 of the 7 needed" in html
    assert 'class="whip__threshold"' in html
    assert "By party" not in html  # the board's splits stay on the board
    assert "<form" not in html and "site-nav" not in html and '<base target="_blank">' in html
    board = client.get(question.get_absolute_url()).content.decode()
    assert f"http://testserver{url}" in board  # the board offers its code


def test_a_question_without_a_deciding_body_has_no_whip_count_embed(client, record):
    assert client.get(f"{EMBED}whip-count/").status_code == 404
    assert "/whip-count/" not in client.get(BOARD_URL).content.decode()


def test_the_map_embed_colours_the_states_by_stance_or_formal_status(client, record):
    response = client.get(f"{EMBED}map/")
    assert response.status_code == 200
    assert frame_ancestors(response) == "frame-ancestors *"
    html = response.content.decode()
    assert '<svg class="world-map__svg"' in html and "map__c--opposes" in html
    assert "The map as a table" in html
    status = client.get(f"{EMBED}map/", {"map": "status"}).content.decode()
    assert "formal status" in status.lower()
    assert client.get(f"{EMBED}map/", {"map": "junk"}).status_code == 200
    assert f"http://testserver{EMBED}map/" in client.get(BOARD_URL).content.decode()


def test_the_whip_and_map_embeds_run_a_pinned_number_of_queries(client, record):
    from tests.test_whip_count import chamber

    _senate, question = chamber()
    with CaptureQueriesContext(connection) as whip:
        client.get(f"/embed/{question.topic.slug}/{question.slug}/whip-count/")
    with CaptureQueriesContext(connection) as world:
        client.get(f"{EMBED}map/")
    # question + topic + body; the members by party and position; the conditions they name
    assert len(whip) == 3
    # question + topic + body; the states' positions
    assert len(world) == 2
