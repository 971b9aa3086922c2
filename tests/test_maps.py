"""
States on the boards and the world maps: a state row's formal status beside its stance, the
map by stance or by formal status (a link switches, no JavaScript), every ISO state on the
map or listed beside it, a valid SVG under 250 kB, and the board's queries flat.
"""

import datetime
import re
import xml.etree.ElementTree as ET

import pycountry
import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from positions import maps, writes
from positions.models import ActKind, ActorKind, Stance
from tests.builders import BOARD_URL, build_record
from tests.factories import ActorFactory, FormalActFactory, SourceFactory, StatementFactory

pytestmark = pytest.mark.django_db
D = datetime.date
SVG = "{http://www.w3.org/2000/svg}"
STATUS_URL = "/topics/un-convention-against-cybercrime/status/"


@pytest.fixture
def record():
    r = build_record()
    france = ActorFactory(name="France", slug="france", kind=ActorKind.STATE, country="FR")
    brazil = ActorFactory(name="Brazil", slug="brazil", kind=ActorKind.STATE, country="BR")
    nowhere = ActorFactory(name="Atlantis", slug="atlantis", kind=ActorKind.STATE, country="")
    for actor, stance in [(france, Stance.SUPPORTS), (brazil, Stance.OPPOSES),
                          (nowhere, Stance.UNDECIDED)]:  # fmt: skip
        StatementFactory(question=r.ratification, actors=[actor], stance=stance)
    FormalActFactory(actor=france, topic=r.topic, kind=ActKind.SIGNATURE, date=D(2025, 10, 25))
    FormalActFactory(actor=france, topic=r.topic, kind=ActKind.RATIFICATION, date=D(2026, 1, 5))
    FormalActFactory(actor=france, topic=r.topic, kind=ActKind.RESERVATION, text="Art. 3.")
    FormalActFactory(actor=brazil, topic=r.topic, kind=ActKind.SIGNATURE)
    return r


def svg_of(html):
    start = html.index('<svg class="world-map__svg"')
    return html[start : html.index("</svg>", start) + len("</svg>")]


def test_a_state_row_shows_its_formal_status_beside_its_stance(client, record):
    html = client.get(BOARD_URL).content.decode()
    france = html[html.index(">France</a>") : html.index("</li>", html.index(">France</a>"))]
    assert "Ratified" in france and "with reservation" in france
    brazil = html[html.index(">Brazil</a>") : html.index("</li>", html.index(">Brazil</a>"))]
    assert "Signed" in brazil
    atlantis = html[html.index(">Atlantis</a>") : html.index("</li>", html.index(">Atlantis</a>"))]
    assert "No formal act" in atlantis
    cisco = html[html.index(">Cisco</a>") : html.index("</li>", html.index(">Cisco</a>"))]
    assert "act-status" not in cisco  # not a state, no act: nothing to say


def test_the_board_map_fills_each_state_by_its_stance_and_switches_to_formal_status(client, record):
    response = client.get(BOARD_URL)
    world = response.context["map"]
    by_code = {c.code: c for c in world.countries}
    assert by_code["FR"].category == "supports" and by_code["BR"].category == "opposes"
    assert by_code["DE"].category == "none"
    assert by_code["FR"].title == "France: Supports"
    html = response.content.decode()
    assert 'href="?map=status#map-heading"' in html
    world = client.get(BOARD_URL, {"map": "status"}).context["map"]
    by_code = {c.code: c for c in world.countries}
    assert by_code["FR"].category == "party-reservation"
    assert by_code["BR"].category == "signatory"
    assert client.get(BOARD_URL, {"map": "junk\x00"}).context["map"].mode == "stance"


def test_every_iso_state_is_on_the_map_or_listed_beside_it(client, record):
    world = client.get(BOARD_URL).context["map"]
    on_map = {c.code for c in world.countries}
    beside = {name for name, _label in world.unmapped}
    for country in pycountry.countries:
        from positions.models import country_name

        assert country.alpha_2 in on_map or country_name(country.alpha_2) in beside
    assert "Antarctica" in beside
    assert ("Atlantis (no country code)", "Undecided") in world.unmapped
    assert "Atlantis" in {e.actor_name for e in world.listed}  # and in the table


@pytest.mark.parametrize("url", [BOARD_URL, BOARD_URL + "?map=status", STATUS_URL])
def test_the_map_is_valid_svg_under_250_kb_with_a_title_per_country(client, record, url):
    html = client.get(url).content.decode()
    svg = svg_of(html)
    assert len(svg.encode()) < 250_000
    root = ET.fromstring(svg)  # noqa: S314 -- our own page: well-formed XML, the SVG namespace
    paths = root.findall(f"{SVG}path")
    assert len(paths) == len(maps.shapes()[1]) > 240
    assert all(p.find(f"{SVG}title") is not None and p.get("class") for p in paths)
    assert "style=" not in svg  # the CSP forbids inline styles
    assert root.find(f"{SVG}title").text
    # The legend names each category with a pattern swatch; the table gives the same data.
    assert "map-legend__swatch" in html and "The map as a table" in html
    patterns = {p.get("id") for p in root.iter(f"{SVG}pattern")}
    used = set(re.findall(r"map__c--([a-z-]+)", svg)) - {"none", "supports", "party"}
    assert {f"map-p-{c}" for c in used} <= patterns


def test_the_status_table_map_shows_the_formal_status(client, record):
    response = client.get(STATUS_URL)
    world = response.context["map"]
    assert world.mode == "status"
    assert {e.actor_name: e.category for e in world.listed} == {
        "France": "party-reservation",
        "Brazil": "signatory",
    }


def test_the_board_runs_a_fixed_number_of_queries_with_ten_times_the_states_and_acts(
    client, record
):
    def count(url):
        cache.clear()  # the most it runs: no stored chart spares its series
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    small = [count(BOARD_URL), count(BOARD_URL + "?map=status")]
    source = SourceFactory()
    codes = [c.alpha_2 for c in pycountry.countries][:60]
    with writes.writing():
        for code in codes:
            actor = ActorFactory(slug=f"state-{code}", kind=ActorKind.STATE, country=code)
            StatementFactory(question=record.ratification, actors=[actor], source=source)
            FormalActFactory(actor=actor, topic=record.topic, source=source)
            FormalActFactory(actor=actor, topic=record.topic, kind=ActKind.ACCESSION, source=source)
    large = [count(BOARD_URL), count(BOARD_URL + "?map=status")]
    # The board's 7, the shown actors' acts, the states' positions (status map: the topic's
    # acts serve both).
    assert small == large == [9, 8]


def test_a_state_page_interleaves_its_statements_and_acts_by_date(client, record):
    response = client.get("/actors/france/")
    timeline = response.context["timeline"]
    kinds = [getattr(item, "kind", "statement") for item in timeline]
    # Ratification (5 Jan 2026), signature and reservation (25 Oct 2025), the statement
    # (1 Oct 2024, the factory's date).
    assert kinds == ["ratification", "reservation", "signature", "statement"]
    html = response.content.decode()
    assert "Timeline of statements and formal acts" in html
    assert "Formal act: Ratification" in html
