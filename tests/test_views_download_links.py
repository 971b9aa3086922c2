"""Every download and feed a page offers answers: no dead links."""

import re

import pytest
from django.core.management import call_command

from tests.builders import BOARD_URL

pytestmark = pytest.mark.django_db

PAGES = [
    BOARD_URL,
    BOARD_URL + "?as_of=2024-11-15",
    "/actors/",
    "/actors/us-administration/",
    "/statements/",
]


@pytest.fixture
def demo():
    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def offered_links(html):
    aside = re.search(r'<aside class="downloads".*?</aside>', html, re.S).group(0)
    links = re.findall(r'href="([^"]+)"', aside)
    links += re.findall(
        r'<link rel="alternate" type="application/atom\+xml"[^>]*href="([^"]+)"', html
    )
    return [link.replace("&amp;", "&") for link in links]


@pytest.mark.parametrize("page", PAGES)
def test_every_download_and_feed_a_page_offers_answers(client, demo, page):
    response = client.get(page)
    assert response.status_code == 200
    links = offered_links(response.content.decode())
    assert links
    for link in links:
        answer = client.get(link)
        assert answer.status_code == 200, link


def test_the_board_download_follows_the_as_of_date(client, demo):
    adoption = "/topics/un-convention-against-cybercrime/adoption-by-the-un-general-assembly/"
    html = client.get(adoption + "?as_of=2024-10-30").content.decode()
    board_csv = next(link for link in offered_links(html) if "board.csv" in link)
    assert board_csv.endswith("?as_of=2024-10-30")
    body = b"".join(client.get(board_csv).streaming_content).decode()
    assert "ron-wyden" in body  # the senators' letter: 29 October 2024
    assert "us-administration" not in body  # its statements are dated November 2024
