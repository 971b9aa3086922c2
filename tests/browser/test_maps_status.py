"""The world maps and the status table in a real browser: phone and desktop, with axe."""

import datetime
import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils.text import slugify
from playwright.sync_api import expect

from positions import writes
from positions.models import ActKind, Actor, ActorKind, Source, Topic
from tests.builders import BOARD_URL
from tests.factories import ActorFactory, FormalActFactory

pytestmark = pytest.mark.browser
ADOPTION_URL = "/topics/un-convention-against-cybercrime/adoption-by-the-un-general-assembly/"
STATUS_URL = "/topics/un-convention-against-cybercrime/status/"
D = datetime.date
SHOTS = "/tmp"  # noqa: S108 -- screenshots to look at, not secrets


@pytest.fixture
def acts(demo):
    """The demo, plus a few states' acts on its topic (the demo itself records none)."""
    topic = Topic.objects.get(slug="un-convention-against-cybercrime")
    topic.entry_into_force_count, topic.entry_into_force_days = 3, 90
    with writes.writing():
        writes.save(topic)
    source = Source.objects.exclude(url="").first()
    states = {a.country.code: a for a in Actor.objects.filter(kind=ActorKind.STATE)}
    for code, name in [("FR", "France"), ("BR", "Brazil"), ("VN", "Viet Nam"), ("NG", "Nigeria")]:
        if code not in states:
            states[code] = ActorFactory(name=name, slug=slugify(name), kind="state", country=code)
    plan = {
        "FR": [(ActKind.SIGNATURE, D(2025, 10, 25)), (ActKind.RATIFICATION, D(2026, 3, 2))],
        "BR": [(ActKind.SIGNATURE, D(2025, 10, 25))],
        "VN": [(ActKind.SIGNATURE, D(2025, 10, 25)), (ActKind.ACCESSION, D(2026, 5, 4))],
        "NG": [(ActKind.SIGNATURE, D(2025, 10, 25)), (ActKind.RATIFICATION, D(2026, 6, 1)),
               (ActKind.RESERVATION, D(2026, 6, 1)), (ActKind.DENUNCIATION, D(2026, 9, 1))],
        "CN": [(ActKind.SIGNATURE, D(2025, 10, 26))],
    }  # fmt: skip
    for code, steps in plan.items():
        for kind, day in steps:
            text = "Article 40, paragraph 2, does not bind it." if kind == "reservation" else ""
            FormalActFactory(
                actor=states[code], topic=topic, kind=kind, date=day, source=source, text=text
            )


def serious_violations(page):
    results = Axe().run(page)
    return [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
        if v["impact"] in {"serious", "critical"}
    ]


def overflowing(page):
    return page.evaluate(
        "[...document.querySelectorAll('main *')].filter("
        "e => e.getBoundingClientRect().right > 391 && !e.closest('.chart, .table-scroll')"
        ").map(e => e.tagName + '.' + e.className).slice(0, 5)"
    )


@pytest.mark.parametrize("width", [390, 1280])
@pytest.mark.parametrize(
    "name, path", [("status", STATUS_URL), ("board-map", BOARD_URL + "?map=status")]
)
def test_the_map_and_status_table_at_phone_and_desktop_widths(site, page, acts, width, name, path):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(site + path)
    expect(page.locator("svg.world-map__svg")).to_be_visible()
    page.screenshot(path=f"{SHOTS}/acts-{name}-{width}.png", full_page=True)
    if width == 390:
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert overflowing(page) == []
    assert serious_violations(page) == []


def test_the_status_table_reads_as_a_depositary_would_print_it(site, page, acts):
    page.goto(site + STATUS_URL)
    status = page.get_by_role("status").first
    expect(status).to_contain_text("5 signatures, 2 ratifications, 1 accession")
    expect(page.get_by_text("Entered into force on")).to_be_visible()
    table = page.get_by_role("table", name=re.compile("one row per participant"))
    nigeria = table.get_by_role("row", name=re.compile("Nigeria"))
    expect(nigeria).to_contain_text("Withdrawn")
    expect(nigeria).to_contain_text("Article 40, paragraph 2")
    table.get_by_role("link", name="Consent to be bound").click()
    expect(page).to_have_url(re.compile(r"sort=consent"))


def test_the_board_switches_its_map_with_a_plain_link(site, page, acts):
    page.goto(site + ADOPTION_URL)
    legend = page.locator(".map-legend")
    expect(legend).to_contain_text("No known position")
    page.get_by_role("link", name="formal status").click()
    expect(page).to_have_url(re.compile(r"map=status"))
    expect(legend).to_contain_text("Signed, not ratified")
    expect(page.locator("svg.world-map__svg path.map__c--signatory").first).to_be_attached()
