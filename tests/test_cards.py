"""
Share cards: Open Graph and Twitter tags on boards, actors and statements, and the PNG drawn
for each (the title, the tally bar and its counts), cached and drawn again after an edit.
"""

import datetime
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image, ImageColor

from positions import caching, cards, writes
from positions.cards import BAR_BOX, HEIGHT, STANCE_COLOURS, WIDTH
from positions.models import Stance
from positions.stances import STANCE_ORDER
from tests.builders import BOARD_URL, RATIFICATION_SLUG, TOPIC_SLUG, build_record
from tests.factories import StatementFactory

pytestmark = pytest.mark.django_db

CARD = f"/cards/topics/{TOPIC_SLUG}/{RATIFICATION_SLUG}.png"


@pytest.fixture
def record():
    return build_record()


def image_of(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    image.verify()  # a well-formed PNG
    return Image.open(io.BytesIO(response.content)).convert("RGB")


def bar_shares(image):
    """Pixels of each stance's colour in the bar, as a share of the bar's width."""
    bar = image.crop(BAR_BOX)
    colours = bar.getcolors(maxcolors=bar.width * bar.height)
    found = {colour: n for n, colour in colours}
    area = bar.width * bar.height
    return {s: found.get(ImageColor.getrgb(STANCE_COLOURS[s]), 0) / area for s in STANCE_ORDER}


def test_the_board_card_is_a_1200_by_630_png_with_the_bar_in_proportion(client, record):
    image = image_of(client.get(CARD))
    assert image.size == (WIDTH, HEIGHT) == (1200, 630)
    # The ratification board: 1 conditional, 4 opposed.
    shares = bar_shares(image)
    assert shares[Stance.SUPPORTS] == 0 and shares[Stance.UNDECIDED] == 0
    assert shares[Stance.CONDITIONAL] == pytest.approx(1 / 5, abs=0.01)
    assert shares[Stance.OPPOSES] == pytest.approx(4 / 5, abs=0.01)


def test_two_tallies_give_two_images(client, record):
    adoption = client.get(f"/cards/topics/{TOPIC_SLUG}/{record.adoption.slug}.png")
    assert bar_shares(image_of(adoption))[Stance.SUPPORTS] == pytest.approx(1, abs=0.01)
    assert adoption.content != client.get(CARD).content


def cisco_comes_round(record):
    """Cisco, opposed to ratification, now supports it: the card's counts change."""
    with writes.writing():
        StatementFactory(
            question=record.ratification,
            actors=[record.actors["cisco"]],
            stance=Stance.SUPPORTS,
            date=datetime.date(2024, 11, 15),
        )


def test_the_card_is_cached_and_drawn_again_after_an_edit(client, record):
    first = client.get(CARD)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(CARD).content == first.content
    assert len(queries) == 0  # from the shared cache
    assert client.get(CARD, headers={"if-none-match": first["ETag"]}).status_code == 304
    cisco_comes_round(record)
    shares = bar_shares(image_of(client.get(CARD)))
    assert shares[Stance.SUPPORTS] == pytest.approx(1 / 5, abs=0.01)
    assert shares[Stance.OPPOSES] == pytest.approx(3 / 5, abs=0.01)


def test_a_card_is_drawn_again_only_when_what_it_shows_changed(client, record, monkeypatch):
    drawn = []
    draw = cards.draw_card
    monkeypatch.setattr(cards, "draw_card", lambda *args: drawn.append(args) or draw(*args))
    first = client.get(CARD)
    assert len(drawn) == 1
    caching.bump_data_version()  # an edit elsewhere: the card is recomputed, not drawn
    again = client.get(CARD)
    assert again["X-Page-Cache"] == "computed" and again["X-Fragment-Cache"] == "1/1"
    assert again.content == first.content and len(drawn) == 1
    cisco_comes_round(record)
    changed = client.get(CARD)
    assert len(drawn) == 2 and changed.content != first.content
    assert drawn[-1][2][Stance.SUPPORTS] == 1


def test_actor_and_statement_cards(client, record):
    cisco = image_of(client.get("/cards/actors/cisco.png"))
    assert cisco.size == (1200, 630)
    assert bar_shares(cisco)[Stance.OPPOSES] == pytest.approx(1, abs=0.01)
    letter = image_of(client.get(f"/cards/statements/{record.statements['letter'].pk}.png"))
    assert letter.size == (1200, 630)


def test_drafts_have_no_card(client, record):
    assert client.get(f"/cards/statements/{record.statements['draft'].pk}.png").status_code == 404
    assert client.get("/cards/actors/nobody.png").status_code == 404
    assert client.get(f"/cards/topics/{TOPIC_SLUG}/nope.png").status_code == 404


def meta(html, key):
    match = re.search(rf'<meta (?:property|name)="{re.escape(key)}" content="([^"]*)"', html)
    return match and match.group(1)


@pytest.mark.parametrize(
    "page, card",
    [
        (BOARD_URL, CARD),
        ("/actors/cisco/", "/cards/actors/cisco.png"),
        ("/statements/{letter}/", "/cards/statements/{letter}.png"),
    ],
)
def test_boards_actors_and_statements_carry_share_card_tags(client, record, page, card):
    letter = record.statements["letter"].pk
    html = client.get(page.format(letter=letter)).content.decode()
    image = meta(html, "og:image")
    assert image == "http://testserver" + card.format(letter=letter)
    assert meta(html, "twitter:card") == "summary_large_image"
    assert meta(html, "twitter:image") == image
    assert meta(html, "og:image:width") == "1200" and meta(html, "og:image:height") == "630"
    assert meta(html, "og:title")
    image_of(client.get(card.format(letter=letter)))


def test_other_pages_have_a_plain_summary_card(client, record):
    html = client.get("/").content.decode()
    assert meta(html, "twitter:card") == "summary"
    assert meta(html, "og:image") is None
