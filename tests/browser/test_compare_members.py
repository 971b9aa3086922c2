"""
Comparing actors, and an organisation's members page, on a phone and a desktop: reached as a
reader reaches them (an actor page's "Compare with…", ticks on a board, the filters), no
sideways scroll of the page, and the axe checks.
"""

import datetime
import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from positions.models import ActorKind, Stance, ThresholdKind
from tests.builders import ADOPTION_SLUG, TOPIC_SLUG
from tests.factories import (
    ActorFactory,
    ConditionFactory,
    MembershipFactory,
    QuestionFactory,
    StatementFactory,
)

pytestmark = pytest.mark.browser

WIDTHS = [375, 1280]
ADOPTION_BOARD = f"/topics/{TOPIC_SLUG}/{ADOPTION_SLUG}/"


def assert_fits_and_passes_axe(page, width):
    wide = page.evaluate(
        f"[...document.querySelectorAll('main *')].filter("
        f"e => e.getBoundingClientRect().right > {width + 1} && !e.closest('.table-scroll')"
        ").map(e => e.tagName + '.' + e.className).slice(0, 5)"
    )
    assert wide == []
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    results = Axe().run(page)
    serious = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
        if v["impact"] in {"serious", "critical"}
    ]
    assert serious == [], results.generate_report()


@pytest.mark.parametrize("width", WIDTHS)
def test_a_reader_compares_from_an_actor_page(site, page, artifacts_dir, width):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(site + "/actors/ron-wyden/")
    page.get_by_label("Compare Ron Wyden with…").fill("cisco")
    page.get_by_role("button", name="Find").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Compare actors")
    page.get_by_label("Cisco").check()
    page.get_by_role("button", name="Compare the ticked actors").click()
    expect(page).to_have_url(site + "/compare/?actors=ron-wyden,cisco")
    expect(page.get_by_role("heading", level=1)).to_have_text("Compare Ron Wyden and Cisco")
    table = page.locator("table.compare")
    expect(table).to_have_count(1)
    row = table.locator("tbody tr").filter(has_text="UN adoption")
    expect(row).to_contain_text("Same stance")  # both oppose: Wyden's letter, Cisco's warning
    assert_fits_and_passes_axe(page, width)
    page.screenshot(path=str(artifacts_dir / f"compare-{width}.png"), full_page=True)


def test_a_reader_ticks_actors_on_a_board_to_compare_them(site, page):
    page.goto(site + ADOPTION_BOARD)
    page.get_by_label("Compare Ron Wyden").check()
    page.get_by_label("Compare Cisco").check()
    page.get_by_role("button", name="Compare the ticked actors").click()
    # In the order of the board: both oppose, and the senators' joint letter comes first,
    # at its first signatory by name (Chris Van Hollen), with Wyden among its signatories.
    expect(page).to_have_url(site + "/compare/?actors=ron-wyden,cisco")


@pytest.fixture
def chamber(demo):
    """A 100-seat chamber of 90 members in two parties, deciding one question."""
    senate = ActorFactory(
        name="Synthetic Senate", slug="synthetic-senate", kind=ActorKind.LEGISLATIVE_GROUP
    )
    question = QuestionFactory(
        title="Consent to ratification",
        short_label="Consent",
        deciding_body=senate,
        threshold_kind=ThresholdKind.FRACTION,
        seats=100,
        threshold_numerator=2,
        threshold_denominator=3,
    )
    parties = [
        ActorFactory(name=name, slug=name.lower(), kind=ActorKind.LEGISLATIVE_GROUP)
        for name in ("Blue", "Gold")
    ]
    condition = ConditionFactory(text="Human-rights controls in place")
    cycle = [Stance.SUPPORTS, Stance.CONDITIONAL, Stance.OPPOSES, Stance.UNDECIDED, None]
    for n in range(90):
        member = ActorFactory(name=f"Senator {n:02}", kind=ActorKind.LEGISLATOR)
        MembershipFactory(
            member=member,
            organization=senate,
            on_behalf_of=parties[n % 2],
            role="senator",
            area=["US-OR", "US-VA", "US-NJ"][n % 3],
            start_date=datetime.date(2021, 1, 3),
        )
        if stance := cycle[n % 5]:
            StatementFactory(
                question=question,
                actors=[member],
                stance=stance,
                date=datetime.date(2024, 10, 1),
                conditions=[condition] if stance == Stance.CONDITIONAL else [],
            )
    return senate, question


@pytest.mark.parametrize("width", WIDTHS)
def test_a_chambers_members_page_pages_and_filters(site, page, chamber, artifacts_dir, width):
    _, question = chamber
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(site + "/actors/synthetic-senate/")
    page.get_by_role("link", name=re.compile("Every member on a date")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Members of Synthetic Senate")
    table = page.locator("table.members")
    expect(table.locator("tbody tr")).to_have_count(50)
    expect(table.get_by_role("columnheader", name="Consent")).to_be_visible()
    expect(page.get_by_role("status").first).to_contain_text("90 members")
    assert_fits_and_passes_axe(page, width)
    page.screenshot(path=str(artifacts_dir / f"members-{width}.png"), full_page=False)

    page.get_by_text("Filter the members").click()
    page.get_by_label("Sits for").select_option(label="Gold")
    page.get_by_label("Question:", exact=True).select_option(value=str(question.pk))
    page.get_by_label("Stance on that question").select_option(label="Opposes")
    page.get_by_role("button", name="Show members").click()
    # Gold: the odd numbers; opposing: n % 5 == 2. Both: 7, 17, ..., 87.
    expect(table.locator("tbody tr")).to_have_count(9)
    expect(page.get_by_role("status").first).to_contain_text("9 members matching the filters")
    assert_fits_and_passes_axe(page, width)
    page.screenshot(path=str(artifacts_dir / f"members-filtered-{width}.png"), full_page=True)
