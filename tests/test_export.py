"""Public downloads: streamed, stable columns, public data only, formulas neutralised."""

import csv
import datetime
import io
import json

import pytest
from django.db import connection
from django.urls import reverse

from positions.exchange import TYPES, sanitize_cell, unsanitize_cell
from positions.exports import BOARD_COLUMNS
from positions.models import Stance, StatementStatus
from tests.factories import (
    ActorFactory,
    ConditionFactory,
    FormalActFactory,
    MembershipFactory,
    QuestionFactory,
    StatementFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _plain_http(settings):
    """Tests run with DEBUG off, which redirects to HTTPS; the test client speaks HTTP."""
    settings.SECURE_SSL_REDIRECT = False


D = datetime.date


def body(response):
    assert response.streaming, "downloads are streamed, not built in memory"
    return b"".join(response.streaming_content).decode()


def read_csv(response):
    return list(csv.DictReader(io.StringIO(body(response), newline="")))


@pytest.fixture
def question():
    return QuestionFactory(topic__slug="uncc", slug="ratification")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("'=x", "''=x"),
        ("plain", "plain"),
        ("", ""),
        ("a=b", "a=b"),
    ],
)
def test_the_sanitiser_quote_prefixes_formula_cells_and_import_restores_them(value, expected):
    assert sanitize_cell(value) == expected
    assert unsanitize_cell(sanitize_cell(value)) == value


def test_question_statements_download_has_the_import_columns_and_only_public_rows(client, question):
    actor = ActorFactory(slug="cisco")
    StatementFactory(question=question, actors=[actor], import_ref="pub", date=D(2024, 1, 1))
    StatementFactory(
        question=question, actors=[actor], import_ref="draft", status=StatementStatus.DRAFT
    )
    StatementFactory(
        question=question, actors=[actor], import_ref="gone", status=StatementStatus.RETRACTED
    )
    StatementFactory(actors=[actor], import_ref="other-question")
    url = reverse("positions:question_statements_download", args=["uncc", "ratification", "csv"])
    response = client.get(url)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="uncc-ratification-statements.csv"' in response["Content-Disposition"]
    rows = read_csv(response)
    assert list(rows[0]) == list(TYPES["statements"].names)
    assert [(r["import_ref"], r["status"]) for r in rows] == [
        ("pub", "published"),
        ("gone", "retracted"),
    ]
    assert rows[0]["signatories"] == "cisco"
    assert rows[0]["question"] == "uncc/ratification"


def test_formula_cells_are_quote_prefixed_in_public_csv(client, question):
    StatementFactory(question=question, summary="=cmd|' /C calc'!A0", import_ref="x")
    url = reverse("positions:question_statements_download", args=["uncc", "ratification", "csv"])
    row = read_csv(client.get(url))[0]
    assert row["summary"] == "'=cmd|' /C calc'!A0"
    json_url = reverse(
        "positions:question_statements_download", args=["uncc", "ratification", "json"]
    )
    # JSON is not read by spreadsheets: values stay as they are.
    assert json.loads(body(client.get(json_url)))[0]["summary"] == "=cmd|' /C calc'!A0"


def test_json_lists_are_arrays(client, question):
    actors = [ActorFactory(slug="a"), ActorFactory(slug="b")]
    StatementFactory(
        question=question,
        actors=actors,
        stance=Stance.CONDITIONAL,
        conditions=[ConditionFactory(slug="hr")],
    )
    url = reverse("positions:question_statements_download", args=["uncc", "ratification", "json"])
    (row,) = json.loads(body(client.get(url)))
    assert row["signatories"] == ["a", "b"]
    assert row["conditions"] == ["hr"]


def test_board_download_uses_current_positions_as_of_a_date(client, question, settings):
    settings.SITE_URL = "https://tracker.example.org"
    actor = ActorFactory(slug="us-admin", name="US administration", country="US")
    StatementFactory(question=question, actors=[actor], date=D(2024, 1, 1), stance="supports")
    latest = StatementFactory(
        question=question, actors=[actor], date=D(2024, 6, 1), stance="opposes"
    )
    url = reverse("positions:question_board_download", args=["uncc", "ratification", "csv"])
    rows = read_csv(client.get(url))
    assert list(rows[0]) == list(BOARD_COLUMNS)
    assert [(r["actor"], r["stance"], r["date"]) for r in rows] == [
        ("us-admin", "opposes", "2024-06-01")
    ]
    assert rows[0]["country"] == "US"
    # On the site's public address (SITE_URL), not the host the request named.
    assert rows[0]["statement_url"] == f"https://tracker.example.org{latest.get_absolute_url()}"
    rows = read_csv(client.get(url, {"as_of": "2024-03-01"}))
    assert [(r["stance"], r["as_of"]) for r in rows] == [("supports", "2024-03-01")]


@pytest.mark.parametrize("junk", ["yesterday", "2024-13-01", "'; drop table", "9" * 50])
def test_a_junk_as_of_is_a_clear_400_not_a_500(client, question, junk):
    url = reverse("positions:question_board_download", args=["uncc", "ratification", "json"])
    response = client.get(url, {"as_of": junk})
    assert response.status_code == 400
    assert b"YYYY-MM-DD" in response.content


def test_unknown_question_type_or_format_is_404(client, question):
    assert client.get("/topics/uncc/nope/statements.csv").status_code == 404
    assert client.get("/data/users.csv").status_code == 404
    assert client.get("/data/actors.xml").status_code == 404


@pytest.mark.parametrize("kind", list(TYPES))
def test_each_file_type_downloads_with_its_documented_columns(client, kind):
    StatementFactory(conditions=[ConditionFactory()], stance=Stance.CONDITIONAL)
    MembershipFactory()
    FormalActFactory()
    rows = read_csv(client.get(reverse("positions:data_download", args=[kind, "csv"])))
    assert rows and list(rows[0]) == list(TYPES[kind].names)


def test_whole_data_set_never_contains_drafts(client):
    StatementFactory(import_ref="public")
    StatementFactory(import_ref="secret", status=StatementStatus.DRAFT)
    data = json.loads(body(client.get(reverse("positions:data_all"))))
    assert list(data) == list(TYPES)
    assert [s["import_ref"] for s in data["statements"]] == ["public"]
    csv_rows = read_csv(client.get(reverse("positions:data_download", args=["statements", "csv"])))
    assert [r["import_ref"] for r in csv_rows] == ["public"]


# A stream reads in one transaction (no WITH HOLD cursor): in a test, SAVEPOINT and RELEASE.
STREAM_TRANSACTION = 2


def test_download_queries_do_not_grow_with_the_data(client, question, django_assert_num_queries):
    url = reverse("positions:question_statements_download", args=["uncc", "ratification", "csv"])
    # question, statements (with question, topic and source joined), signatories with
    # their actors, conditions; and the stream's transaction, a savepoint in the test's.
    # On PostgreSQL the rows are one COPY, on psycopg's own cursor, which Django does not
    # count (tests/test_export_tables.py holds its output).
    queries = 1 if connection.vendor == "postgresql" else 4
    for count in (2, 20):
        StatementFactory.create_batch(count, question=question, conditions=[ConditionFactory()])
        with django_assert_num_queries(queries + STREAM_TRANSACTION):
            body(client.get(url))


def test_board_download_queries_do_not_grow(client, question, django_assert_num_queries):
    url = reverse("positions:question_board_download", args=["uncc", "ratification", "json"])
    for count in (2, 20):
        StatementFactory.create_batch(count, question=question)
        # question, the board (one window-function query from stances.current_positions)
        with django_assert_num_queries(2 + STREAM_TRANSACTION):
            assert len(json.loads(body(client.get(url)))) >= count


@pytest.mark.parametrize(
    ("as_of", "message"), [("9999-12-31", b"future"), ("0001-01-01", b"far back")]
)
def test_the_board_download_takes_the_same_dates_as_the_board(client, question, as_of, message):
    url = reverse("positions:question_board_download", args=["uncc", "ratification", "csv"])
    response = client.get(url, {"as_of": as_of})
    assert response.status_code == 400
    assert message in response.content
