"""
Junk in the query string never gives a 500: each list page either ignores the parameter or
says clearly which filter it could not use.
"""

import pytest

from tests.builders import BOARD_URL, build_record

pytestmark = pytest.mark.django_db

HUGE = "x" * 5000
LIST_PAGES = {
    "/": [],
    BOARD_URL: ["kind", "country", "as_of", "split", "group"],
    "/actors/": ["q", "kind", "country", "question", "stance"],
    "/statements/": [
        "q",
        "question",
        "stance",
        "kind",
        "country",
        "source_kind",
        "date_from",
        "date_to",
        "actor",
        "sort",
    ],
    "/corrections/": [],
    "/topics/un-convention-against-cybercrime/status/": ["act", "sort", "as_of"],
}
JUNK_VALUES = [
    "\x00",
    "abc\x00def",
    "not-a-choice",
    "2024-13-45",
    "99999-01-01",
    "0000-00-00",
    "-1",
    "99999999999999999999999",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "%",
    "☃",
    HUGE,
]
PAGE_VALUES = ["abc", "0", "-1", "99999999999", "9" * 40, "\x00", "1.5", "", "last", HUGE]


@pytest.fixture
def record():
    return build_record()


@pytest.mark.parametrize("url", list(LIST_PAGES))
def test_a_junk_page_number_falls_back_to_a_real_page(client, record, url):
    for page in PAGE_VALUES:
        response = client.get(url, {"page": page})
        assert response.status_code == 200, page
        if response.context.get("page_obj") is not None:
            assert response.context["page_obj"].number >= 1


def test_a_page_number_past_the_end_shows_the_last_page(client, record):
    response = client.get("/statements/", {"page": "99999999999"})
    page = response.context["page_obj"]
    assert page.number == page.paginator.num_pages


@pytest.mark.parametrize("url", [url for url, params in LIST_PAGES.items() if params])
@pytest.mark.parametrize("value", JUNK_VALUES)
def test_a_junk_filter_value_is_reported_or_ignored(client, record, url, value):
    for param in LIST_PAGES[url]:
        response = client.get(url, {param: value})
        assert response.status_code == 200, param
        html = response.content.decode()
        assert "<script>alert(1)</script>" not in html
        free_text = param in {"q", "actor"}
        if value in {"\x00", "abc\x00def", HUGE} or (value == "not-a-choice" and not free_text):
            assert "This filter was ignored" in html, (param, value[:20])
        # Messages never echo a NUL byte or a 5 kB value back.
        if "notice__title" in html:
            notice = html[
                html.index("notice__title") : html.index("</ul>", html.index("notice__title"))
            ]
            assert "\x00" not in notice and HUGE[:200] not in notice, param


@pytest.mark.parametrize("url", list(LIST_PAGES))
def test_repeated_parameters_never_break_a_page(client, record, url):
    query = "&".join(
        f"{param}={value}"
        for param in [*LIST_PAGES[url], "page"]
        for value in ["1", "ngo", "%00", "2024-01-01", "opposes"]
    )
    assert client.get(f"{url}?{query}").status_code == 200


def test_a_5kb_search_is_refused_with_a_message(client, record):
    response = client.get("/statements/", {"q": HUGE})
    html = response.content.decode()
    assert "Search: Ensure this value has at most 200 characters" in html
    assert len(response.context["page_obj"].object_list) > 0


def test_a_bad_date_says_so_and_the_other_filters_still_apply(client, record):
    response = client.get("/statements/", {"date_from": "2024-13-45", "stance": "opposes"})
    html = response.content.decode()
    assert "From: Enter a valid date. This filter was ignored." in html
    # The message sits under the page's one h1, in heading order.
    assert html.index("<h1") < html.index("Some filters could not be used")
    assert {s.stance for s in response.context["page_obj"].object_list} == {"opposes"}


def test_a_bad_as_of_date_shows_today_with_a_message(client, record):
    response = client.get(BOARD_URL, {"as_of": "yesterday"})
    assert "As of: Enter a valid date. This filter was ignored." in response.content.decode()
    assert not response.context["is_past"]
