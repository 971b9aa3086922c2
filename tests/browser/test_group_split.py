"""
The board's split by group and its filter, and a joint statement shown once, in a real
browser at phone and desktop widths, with the axe checks the other browser tests run.
"""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_maps_status import ADOPTION_URL, overflowing, serious_violations

pytestmark = pytest.mark.browser
SHOTS = "/tmp"  # noqa: S108 -- screenshots to look at, not secrets


@pytest.mark.parametrize("width", [390, 1280])
def test_the_group_table_and_its_filter_at_phone_and_desktop_widths(site, page, width):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(site + ADOPTION_URL)
    split = page.locator("section.split")
    table = split.get_by_role("table", name="Actors by kind of actor, by stance")
    legislators = table.get_by_role("row", name=re.compile("Legislator"))
    expect(legislators).to_contain_text("6")  # the six senators of the joint letter
    # The joint letter: its text once, its six signatories named on one card.
    letter = page.locator("li.position--joint")
    expect(letter).to_have_count(1)
    expect(letter).to_contain_text("Joint statement · 6 signatories on this board")
    expect(letter.locator(".position__signatories li")).to_have_count(6)
    split.screenshot(path=f"{SHOTS}/split-kind-{width}.png")
    if width == 390:
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert overflowing(page) == []
    assert serious_violations(page) == []

    # A plain link filters the board to the group: rows and tally.
    table.get_by_role("link", name="Legislator").click()
    expect(page).to_have_url(re.compile(r"split=kind&group=legislator"))
    board = page.locator(".board")
    expect(board.locator("li.position")).to_have_count(1)  # the one card of the letter
    expect(page.locator("figure.tally").first).to_contain_text("Opposes: 6")
    expect(split).to_contain_text("The board below shows only Legislator")
    page.screenshot(path=f"{SHOTS}/split-filtered-{width}.png", full_page=True)
    assert serious_violations(page) == []

    # The split's own form, without script: by country.
    split.get_by_label("Split by").select_option("country")
    split.get_by_role("button", name="Show split").click()
    expect(page).to_have_url(re.compile(r"split=country"))
    expect(page).not_to_have_url(re.compile(r"group="))
    countries = page.locator("section.split").get_by_role("table")
    expect(countries.get_by_role("row", name=re.compile("United States"))).to_be_visible()
    expect(countries.get_by_role("row", name=re.compile("No country recorded"))).to_be_visible()
    page.locator("section.split").screenshot(path=f"{SHOTS}/split-country-{width}.png")
    if width == 390:
        assert overflowing(page) == []
    assert serious_violations(page) == []
