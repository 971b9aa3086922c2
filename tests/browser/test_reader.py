"""A reader's way through the public pages, and an accessibility check, in a real browser."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from positions.models import Source, Statement
from tests.builders import BOARD_URL

pytestmark = pytest.mark.browser


def test_a_reader_goes_from_the_home_page_to_a_source(site, page):
    page.goto(site + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Who stands where")

    page.get_by_role("link", name="Ratification by the United States").first.click()
    expect(page).to_have_url(site + BOARD_URL)
    expect(page.get_by_role("heading", level=1)).to_have_text("Ratification by the United States")
    board = page.get_by_role("region", name=re.compile("Who stands where"))
    administration = board.get_by_role("link", name="United States administration", exact=True)
    expect(administration).to_be_visible()

    # The filters fold behind a summary of what applies: a click opens them.
    expect(page.get_by_label("Actor kind")).to_be_hidden()
    page.get_by_text("Filter the board").click()
    page.get_by_label("Actor kind").select_option(label="Legislator")
    page.get_by_role("button", name="Show board").click()
    expect(page).to_have_url(re.compile(r"kind=legislator"))
    expect(administration).to_have_count(0)
    expect(page.get_by_role("status").first).to_contain_text("0 actors")

    expect(page.get_by_text("Actor kind: Legislator")).to_be_visible()
    page.get_by_text("Filter the board").click()
    page.get_by_label("Actor kind").select_option(label="Government or agency")
    page.get_by_role("button", name="Show board").click()
    expect(page).to_have_url(re.compile(r"kind=government"))
    expect(administration).to_be_visible()

    page.get_by_role("link", name=re.compile(r"Statement by United States administration")).click()
    expect(page).to_have_url(re.compile(r"/statements/\d+/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("United States administration")
    source = Statement.objects.get(import_ref="demo-us-conditions-ratification").source

    citation = page.get_by_role("region", name="Source")
    source_link = citation.get_by_role("link", name=source.title)
    if source.url:
        # An off-site document: answered locally, since tests never touch the network.
        page.route(source.url, lambda route: route.fulfill(body="<title>Source</title>"))
        expect(source_link).to_have_attribute("href", source.url)
        source_link.click()
        expect(page).to_have_url(source.url)
    else:
        # Not online: the link leads to what the tracker records about the document.
        source_link.click()
        expect(page).to_have_url(site + source.get_absolute_url())
        expect(page.get_by_role("heading", level=1)).to_have_text(source.title)


def test_an_online_source_is_linked_from_the_board(site, page):
    page.goto(
        site + "/topics/un-convention-against-cybercrime/adoption-by-the-un-general-assembly/"
    )
    letter = Source.objects.get(publisher__icontains="Merkley")
    links = page.get_by_role("link", name=re.compile("^Source: Wyden, Merkley"))
    expect(links.first).to_have_attribute("href", letter.url)


def test_the_board_works_on_a_phone_and_is_saved_as_a_screenshot(site, page, artifacts_dir, demo):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(site + BOARD_URL)
    page.screenshot(path=str(artifacts_dir / "board.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(site + BOARD_URL)
    page.screenshot(path=str(artifacts_dir / "board-phone.png"), full_page=True)
    # Nothing wider than the phone: no sideways scrolling of any page.
    for path in [BOARD_URL, "/", "/statements/", "/actors/", "/actors/us-administration/"]:
        page.goto(site + path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
        wide = page.evaluate(
            "[...document.querySelectorAll('main *')].filter("
            "e => e.getBoundingClientRect().right > 391 && !e.closest('.chart, .table-scroll')"
            ").map(e => e.tagName + '.' + e.className).slice(0, 5)"
        )
        assert wide == [], path
    assert (artifacts_dir / "board.png").stat().st_size > 10_000


def test_the_skip_link_appears_on_focus_and_leads_to_the_content(site, page):
    page.goto(site + "/statements/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    skip.press("Enter")
    expect(page).to_have_url(re.compile("#main$"))


@pytest.mark.parametrize(
    "path",
    [
        "/",
        BOARD_URL,
        "/actors/us-administration/",
        "/statements/",
        "/statements/?stance=opposes&date_from=not-a-date",
        "/methodology/",
        "/corrections/",
        "/sources/",
        "/conditions/",
        "/conditions/human-rights-controls/",
    ],
)
def test_axe_finds_no_serious_or_critical_violation(site, page, path):
    page.goto(site + path)
    results = Axe().run(page)
    serious = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
        if v["impact"] in {"serious", "critical"}
    ]
    assert serious == [], results.generate_report()
