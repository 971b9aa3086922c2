"""
The JSON API (/api/v1/): what readers of the pages see, as JSON. Drafts never appear,
filters and as-of give the pages' results, pages follow a cursor that inserts do not
disturb, junk gets a 400 with a message, and responses are cached and limited per client.
"""

import datetime
import json

import pytest
from django.test import override_settings

from positions import writes
from positions.models import Stance, StatementStatus
from tests.builders import BOARD_URL, RATIFICATION_SLUG, TOPIC_SLUG, build_record
from tests.factories import ActorFactory, ConditionFactory, SourceFactory, StatementFactory

pytestmark = pytest.mark.django_db

D = datetime.date
API = "/api/v1"
BOARD_API = f"{API}/topics/{TOPIC_SLUG}/questions/{RATIFICATION_SLUG}/board/"


@pytest.fixture
def record():
    return build_record()


def get_json(client, url, params=None, status=200, **headers):
    response = client.get(url, params or {}, **headers)
    assert response.status_code == status, (url, params, response.content[:500])
    assert response["Content-Type"].startswith("application/json")
    return response.json()


def every(client, url, params=None):
    """Every item of a list, following `next` links."""
    items, params = [], dict(params or {})
    while True:
        page = get_json(client, url, params)
        items.extend(page["items"])
        if page["next_cursor"] is None:
            assert page["next"] is None
            return items
        params["cursor"] = page["next_cursor"]


# --- Drafts --------------------------------------------------------------------------------


@pytest.fixture
def drafts(record):
    """A draft naming an actor, a source and a condition that nothing public names."""
    with writes.writing():
        actor = ActorFactory(name="Secret Senator", slug="secret-senator")
        condition = ConditionFactory(text="Secret demand", slug="secret-demand")
        source = SourceFactory(title="Secret memo", url="https://secret.example.org/memo")
        statement = StatementFactory(
            question=record.ratification,
            actors=[actor],
            stance=Stance.CONDITIONAL,
            conditions=[condition],
            source=source,
            summary="Secret draft summary.",
            status=StatementStatus.DRAFT,
        )
    return {"actor": actor, "condition": condition, "source": source, "statement": statement}


def test_it_never_shows_a_draft_or_what_only_drafts_name(client, drafts):
    everything = json.dumps(
        [
            every(client, f"{API}/{kind}/")
            for kind in ("topics", "questions", "actors", "statements", "sources", "conditions")
        ]
        + [get_json(client, BOARD_API), get_json(client, BOARD_API, {"as_of": "2024-12-31"})]
    )
    for secret in ("Secret", "secret-senator", "secret-demand", "Draft-only source"):
        assert secret not in everything
    for url in (
        f"{API}/actors/secret-senator/",
        f"{API}/conditions/secret-demand/",
        f"{API}/sources/{drafts['source'].pk}/",
        f"{API}/statements/{drafts['statement'].pk}/",
    ):
        assert get_json(client, url, status=404)["detail"]


def test_a_retracted_statement_is_shown_as_retracted(client, record):
    retracted = record.statements["retracted"]
    body = get_json(client, f"{API}/statements/{retracted.pk}/")
    assert body["status"] == "retracted"
    assert body["correction_note"] == retracted.correction_note


# --- The same answers as the pages ---------------------------------------------------------

STATEMENT_QUERIES = [
    {},
    {"q": "human"},
    {"q": "Cisco"},
    {"q": "surveillance", "stance": "opposes"},
    {"stance": "opposes", "kind": "company", "country": "US"},
    {"kind": "legislator"},
    {"source_kind": "press_release"},
    {"date_from": "2024-10-30", "date_to": "2024-10-31"},
    {"actor": "cisco"},
    {"question": "{ratification}", "stance": "conditional"},
]


@pytest.mark.parametrize("query", STATEMENT_QUERIES)
def test_the_statement_filters_and_search_give_the_statement_pages_results(client, record, query):
    query = {k: v.format(ratification=record.ratification.pk) for k, v in query.items()}
    page = client.get("/statements/", query)
    on_page = [statement.pk for statement in page.context["page_obj"].object_list]
    from_api = [item["id"] for item in get_json(client, f"{API}/statements/", query)["items"]]
    assert from_api == on_page
    assert on_page or query  # each filtered query is meant to find something
    if query:
        assert on_page, query


BOARD_QUERIES = [
    {},
    {"as_of": "2024-10-29"},
    {"as_of": "2024-06-30"},
    {"kind": "legislator"},
    {"country": "US", "as_of": "2024-10-30"},
]


@pytest.mark.parametrize("query", BOARD_QUERIES)
def test_the_board_gives_the_board_pages_positions_and_tally(client, record, query):
    page = client.get(BOARD_URL, query).context
    on_page = sorted(
        (position.actor.slug, stance.value)
        for stance, positions, _count in page["groups"]
        for position in positions
    )
    board = get_json(client, BOARD_API, query)
    assert sorted((p["actor"]["slug"], p["stance"]) for p in board["items"]) == on_page
    assert {s: board["tally"][s] for s in page["board_tally"]} == page["board_tally"]
    assert board["tally"]["total"] == page["total"]
    assert board["as_of"] == page["as_of"].isoformat()


def test_a_board_of_one_stance_lists_only_that_stance(client, record):
    board = get_json(client, BOARD_API, {"stance": "opposes"})
    assert {p["stance"] for p in board["items"]} == {"opposes"}
    assert len(board["items"]) == board["tally"]["opposes"] == 4


def test_an_actor_has_its_identifiers_and_current_positions(client, record):
    cisco = get_json(client, f"{API}/actors/cisco/")
    assert cisco["identifiers"] == [
        {
            "scheme": "wikidata",
            "identifier": "Q173395",
            "url": "https://www.wikidata.org/wiki/Q173395",
        }
    ]
    assert [(p["question"]["slug"], p["stance"]) for p in cisco["positions"]] == [
        ("ratification-by-the-united-states", "opposes")
    ]
    doj = get_json(client, f"{API}/actors/us-department-of-justice/")
    assert doj["parent"] == "us-administration"


def test_the_actor_filters_are_the_actor_pages(client, record):
    query = {"question": record.ratification.pk, "stance": "opposes", "kind": "legislator"}
    page = client.get("/actors/", query).context["page_obj"].object_list
    from_api = get_json(client, f"{API}/actors/", query)["items"]
    assert sorted(a["slug"] for a in from_api) == sorted(a.slug for a in page)


def test_questions_carry_their_tally(client, record):
    questions = {q["slug"]: q for q in get_json(client, f"{API}/questions/")["items"]}
    ratification = questions["ratification-by-the-united-states"]
    assert ratification["tally"] == {
        "supports": 0,
        "conditional": 1,
        "opposes": 4,
        "undecided": 0,
        "total": 5,
    }
    assert get_json(client, ratification["board"])["tally"] == ratification["tally"]


# --- Pagination ----------------------------------------------------------------------------


def test_following_the_cursor_lists_everything_once_in_order(client, record):
    everything = every(client, f"{API}/statements/", {"limit": 2})
    listed = get_json(client, f"{API}/statements/", {"limit": 200})["items"]
    assert [s["id"] for s in everything] == [s["id"] for s in listed]
    keys = [(s["date"], s["id"]) for s in everything]
    assert keys == sorted(keys, reverse=True)
    board = every(client, BOARD_API, {"limit": 1})
    assert [p["actor"]["name"] for p in board] == sorted(p["actor"]["name"] for p in board)


def test_inserts_between_pages_neither_repeat_nor_skip_a_statement(client, record):
    before = [s["id"] for s in get_json(client, f"{API}/statements/", {"limit": 200})["items"]]
    first = get_json(client, f"{API}/statements/", {"limit": 3})
    with writes.writing():
        # One newer than every statement (before the cursor), one on the cursor's own date
        # with a higher id (also before it), and one older (after it: still to come).
        newest = StatementFactory(question=record.ratification, date=D(2025, 1, 1))
        same_day = StatementFactory(
            question=record.ratification, date=D.fromisoformat(first["items"][-1]["date"])
        )
        oldest = StatementFactory(question=record.ratification, date=D(2020, 1, 1))
    rest = every(client, f"{API}/statements/", {"limit": 3, "cursor": first["next_cursor"]})
    seen = [s["id"] for s in first["items"]] + [s["id"] for s in rest]
    assert len(seen) == len(set(seen))
    assert seen == before + [oldest.pk]
    assert newest.pk not in seen and same_day.pk not in seen


def test_a_next_link_keeps_the_filters(client, record):
    page = get_json(client, f"{API}/statements/", {"stance": "opposes", "limit": 1})
    assert "stance=opposes" in page["next"]
    assert {s["stance"] for s in every(client, f"{API}/statements/", {"stance": "opposes"})} == {
        "opposes"
    }


# --- Junk ----------------------------------------------------------------------------------

JUNK = ["\x00", "abc\x00", "not-a-choice", "2024-13-45", "-1", "9" * 30, "<b>", "%", "☃", "x" * 600]
LIST_PARAMS = {
    f"{API}/statements/": [
        "q",
        "question",
        "stance",
        "kind",
        "country",
        "source_kind",
        "date_from",
        "date_to",
        "actor",
        "cursor",
        "limit",
    ],
    f"{API}/actors/": ["q", "kind", "country", "question", "stance", "cursor", "limit"],
    f"{API}/questions/": ["topic", "cursor", "limit"],
    BOARD_API: ["as_of", "kind", "country", "stance", "cursor", "limit"],
    f"{API}/sources/": ["cursor", "limit"],
}


@pytest.mark.parametrize("url", list(LIST_PARAMS))
def test_a_junk_parameter_gets_a_400_with_a_message_never_a_500(client, record, url):
    for param in LIST_PARAMS[url]:
        for value in JUNK:
            response = client.get(url, {param: value})
            assert response.status_code in (200, 400), (param, value[:20])
            body = response.json()
            if response.status_code == 400:
                assert body["detail"]
                assert "\x00" not in json.dumps(body, ensure_ascii=False)


@pytest.mark.parametrize(
    "url",
    [
        f"{API}/actors/%00/",
        f"{API}/statements/abc/",
        f"{API}/statements/0/",
        f"{API}/statements/99999999999999999999999/",
        f"{API}/nowhere/",
        f"{API}/topics/x/questions/y/board/?as_of=2999-01-01",
        BOARD_API + "?as_of=1800-01-01",
        f"{API}/statements/?cursor=" + "A" * 40,
        f"{API}/statements/?cursor=WzEsMl0",  # [1,2]: a cursor of the wrong shape
    ],
)
def test_junk_addresses_get_a_json_error(client, record, url):
    response = client.get(url)
    assert response.status_code in (400, 404)
    assert response.json()["detail"]


def test_a_cursor_from_one_list_is_refused_by_another(client, record):
    cursor = get_json(client, f"{API}/statements/", {"limit": 1})["next_cursor"]
    body = get_json(client, BOARD_API, {"cursor": cursor}, status=400)
    assert "cursor" in body["detail"]


# --- HTTP: caching, rate limit, CORS -------------------------------------------------------


def test_it_answers_conditional_gets_and_goes_stale_after_a_write(client, record):
    url = f"{API}/statements/"
    first = client.get(url)
    etag = first["ETag"]
    assert client.get(url, headers={"if-none-match": etag}).status_code == 304
    with writes.writing():
        StatementFactory(question=record.ratification, date=D(2024, 11, 1))
    again = client.get(url, headers={"if-none-match": etag})
    assert again.status_code == 200
    assert again["ETag"] != etag
    assert len(again.json()["items"]) == len(first.json()["items"]) + 1


def test_head_is_answered_like_get(client, record):
    response = client.head(f"{API}/topics/")
    assert response.status_code == 200
    assert response["ETag"]


@override_settings(API_RATE_LIMIT=3, API_RATE_WINDOW=60)
def test_past_the_rate_limit_a_client_gets_429_with_retry_after(client, record):
    for _ in range(3):
        assert client.get(f"{API}/topics/").status_code == 200
    limited = client.get(f"{API}/topics/")
    assert limited.status_code == 429
    assert 1 <= int(limited["Retry-After"]) <= 60
    assert "Too many requests" in limited.json()["detail"]
    # Counted per address: another client is still served; and pages are not limited.
    assert client.get(f"{API}/topics/", REMOTE_ADDR="192.0.2.7").status_code == 200
    assert client.get("/").status_code == 200


@override_settings(API_RATE_LIMIT=2, API_RATE_WINDOW=60, TRUSTED_PROXY_COUNT=1)
def test_behind_a_proxy_the_limit_counts_the_forwarded_address(client, record):
    for _ in range(2):
        client.get(f"{API}/topics/", HTTP_X_FORWARDED_FOR="203.0.113.1")
    assert client.get(f"{API}/topics/", HTTP_X_FORWARDED_FOR="203.0.113.1").status_code == 429
    assert client.get(f"{API}/topics/", HTTP_X_FORWARDED_FOR="203.0.113.2").status_code == 200


def test_cors_is_open_for_reads_of_the_api_only(client, record):
    origin = {"HTTP_ORIGIN": "https://newsroom.example"}
    response = client.get(f"{API}/topics/", **origin)
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response
    preflight = client.options(f"{API}/topics/", HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET", **origin)
    assert preflight.status_code == 200
    allowed = {m.strip() for m in preflight["Access-Control-Allow-Methods"].split(",")}
    assert allowed == {"GET", "HEAD", "OPTIONS"}
    assert client.post(f"{API}/topics/", **origin).status_code == 405
    assert "Access-Control-Allow-Origin" not in client.get("/", **origin)


def test_the_schema_and_the_docs_are_served_without_a_cdn(client, record):
    schema = get_json(client, f"{API}/openapi.json")
    assert schema["openapi"].startswith("3.")
    assert f"{API}/statements/" in schema["paths"]
    docs = client.get(f"{API}/docs")
    html = docs.content.decode()
    assert docs.status_code == 200
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "http" not in html.replace("http-equiv", "")
    assert "frame-ancestors 'none'" in docs["Content-Security-Policy"]
