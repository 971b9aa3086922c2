"""The question board: who stands where, filtered, as of a date, with chart and conditions."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from positions import caching, stances, writes
from positions.charts import stance_chart
from positions.models import ActorKind, Stance, StanceCountDay, StatementStatus
from positions.views_board import BoardRow, month_ends
from tests.builders import BOARD_URL as URL
from tests.builders import build_record
from tests.factories import ActorFactory, QuestionFactory, StatementFactory

pytestmark = pytest.mark.django_db

D = datetime.date


def grouped(response):
    return {
        stance.value: [p.actor.slug for p in positions]
        for stance, positions, _count in response.context["groups"]
    }


def test_it_groups_actors_by_their_current_stance(client):
    build_record()
    response = client.get(URL)
    assert response.status_code == 200
    assert grouped(response) == {
        "supports": [],
        "conditional": ["us-administration"],
        "opposes": ["cisco", "digital-rights-groups", "ron-wyden", "tim-kaine"],
        "undecided": [],
    }


def test_it_reads_positions_from_the_position_rules(client):
    record = build_record()
    response = client.get(URL)
    board = {s: sorted(slugs) for s, slugs in grouped(response).items() if slugs}
    expected = {}
    for position in stances.current_positions(record.ratification):
        expected.setdefault(position.statement.stance, []).append(position.actor.slug)
    assert board == {s: sorted(v) for s, v in expected.items()}


def test_it_shows_kind_country_date_summary_and_links_to_statement_and_source(client):
    record = build_record()
    html = client.get(URL).content.decode()
    cisco = record.statements["cisco"]
    assert "Company" in html and "United States of America" in html
    assert "30 Oct 2024" in html
    assert cisco.summary in html
    assert f'href="{cisco.get_absolute_url()}"' in html
    assert f'href="{cisco.source.url}"' in html


def test_it_never_shows_drafts_or_retracted_statements_as_positions(client):
    record = build_record()
    response = client.get(URL)  # Once: a second request is served from the cache.
    assert record.statements["draft"].summary not in response.content.decode()
    assert "us-department-of-justice" not in str(grouped(response))


def test_it_filters_by_actor_kind(client):
    build_record()
    response = client.get(URL, {"kind": ActorKind.LEGISLATOR})
    assert grouped(response)["opposes"] == ["ron-wyden", "tim-kaine"]
    assert grouped(response)["conditional"] == []
    assert response.context["total"] == 2


def test_it_filters_by_country(client):
    build_record()
    response = client.get(URL, {"country": "US"})
    assert "digital-rights-groups" not in grouped(response)["opposes"]
    assert "cisco" in grouped(response)["opposes"]


def test_as_of_shows_the_board_as_it_stood_on_that_day(client):
    build_record()
    response = client.get(URL, {"as_of": "2024-07-01"})
    assert grouped(response) == {
        "supports": [],
        "conditional": [],
        "opposes": [],
        "undecided": ["cisco"],
    }
    assert "As of 1 July 2024" in response.content.decode()


def test_a_future_as_of_date_is_refused_with_a_message_and_today_is_shown(client):
    build_record()
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = client.get(URL, {"as_of": tomorrow.isoformat()})
    assert response.context["as_of"] == timezone.localdate()
    assert "future" in response.content.decode()


def test_the_chart_and_its_table_carry_the_counts_over_time(client):
    record = build_record()
    response = client.get(URL)
    html = response.content.decode()
    every_row = stances.stance_counts_over_time(record.ratification)
    assert response.context["chart"].drawing == stance_chart(every_row)
    assert response.context["chart"].month_table == month_ends(every_row)
    assert "<svg" in html and 'role="img"' in html and "<title" in html
    assert html.count("<polyline") == 4
    chart_data = html[html.index('class="chart-data"') :]
    table = chart_data[chart_data.index("<table") : chart_data.index("</table>")]
    # One row per month in which a position changed, labelled by the month, as the caption says.
    assert "at the end of each month in which a position changed" in table
    assert re.search(
        r'"2024-10">October 2024</time></th><td>0</td><td>1</td><td>4</td><td>0</td>', table
    )
    assert re.search(
        r'"2024-06">June 2024</time></th><td>0</td><td>0</td><td>0</td><td>1</td>', table
    )


def test_the_chart_runs_from_the_first_change_to_the_last_not_to_today(client):
    build_record()
    chart = client.get(URL).context["chart"].drawing
    assert (chart.start, chart.end) == (D(2024, 6, 1), D(2024, 10, 30))
    assert [label for _x, label in chart.x_ticks] == ["1 Jun 2024", "30 Oct 2024"]


def chart_section(html):
    return html[
        html.index('id="chart-heading"') : html.index("</section>", html.index("chart-heading"))
    ]


def test_a_stored_chart_is_not_read_again_until_the_counts_change(client):
    record = build_record()
    with CaptureQueriesContext(connection) as first:
        chart = chart_section(client.get(URL, {"kind": "company"}).content.decode())
    # Another filter is another page, the chart the same piece: its rows are not read again.
    with CaptureQueriesContext(connection) as second:
        assert chart_section(client.get(URL, {"kind": "ngo"}).content.decode()) == chart
    assert len(second) == len(first) - 1
    assert series_reads(first) == 1 and series_reads(second) == 0
    # A write that moves the counts rewrites the question's rows: the chart is drawn anew.
    letter = record.statements["letter"]
    letter.stance = Stance.SUPPORTS
    with writes.writing():
        writes.save(letter)
    redrawn = chart_section(client.get(URL, {"kind": "ngo"}).content.decode())
    assert redrawn != chart
    assert re.search(r"<td>2</td><td>1</td><td>2</td><td>0</td>", redrawn)
    # A past day before the change still draws the counts of then.
    past = chart_section(client.get(URL, {"as_of": "2024-10-29"}).content.decode())
    assert re.search(r"<td>2</td><td>0</td><td>0</td><td>1</td>", past)


def test_rows_whose_pieces_are_stored_make_no_records(client, monkeypatch):
    record = build_record()
    made = []
    make = BoardRow._record
    monkeypatch.setattr(BoardRow, "_record", lambda row, path: made.append(path) or make(row, path))
    first = client.get(URL)
    shown = [row for _stance, rows, _count in first.context["groups"] for row in rows]
    assert len(shown) > 3 and made.count("actor") == len(shown)  # folded rows' too
    made.clear()
    # After an edit elsewhere the board is computed again: each row from its stored piece.
    caching.bump_data_version()
    assert client.get(URL).content == first.content
    assert made == []
    # An edit to one statement re-renders its card alone (a joint letter: each signatory's
    # row in it), from records made anew.
    letter = record.statements["letter"]
    letter.summary = "A summary rewritten."
    with writes.writing():
        writes.save(letter)
    again = client.get(URL)
    assert "A summary rewritten." in again.content.decode()
    signers = [row for row in shown if row.statement_id == letter.pk]
    assert len(signers) > 1
    assert sorted(made) == sorted(["actor"] * len(signers) + ["statement", "statement__source"])


def series_reads(queries):
    """The queries reading a chart's rows (`charts.chart_rows`), not in a subquery."""
    numbered = f'WITH numbered AS (SELECT "{StanceCountDay._meta.db_table}".'
    return sum(query["sql"].startswith(numbered) for query in queries.captured_queries)


def test_the_filters_fold_behind_a_summary_of_what_applies(client):
    build_record()
    html = client.get(URL).content.decode()
    assert '<details class="filters-toggle">' in html
    assert "No filters: every actor, current positions" in html
    html = client.get(URL, {"kind": "company", "as_of": "2024-10-30"}).content.decode()
    summary = html[html.index("<summary>") : html.index("</summary>")]
    assert "Actor kind: Company · As of 30 Oct 2024" in summary
    # A refused value opens it, so that the message and the field are seen together.
    assert (
        '<details class="filters-toggle" open>' in client.get(URL, {"as_of": "x"}).content.decode()
    )


def test_the_chart_uses_no_inline_style(client):
    build_record()
    html = client.get(URL).content.decode()
    assert "style=" not in html
    assert "<style" not in html and "<script" not in html


def test_without_statements_the_board_says_so_and_draws_no_chart(client):
    question = QuestionFactory()
    StatementFactory(question=question, status=StatementStatus.DRAFT)
    response = client.get(question.get_absolute_url())
    assert response.context["chart"].drawing is None
    assert "No published statement on this question yet" in response.content.decode()


def test_it_lists_the_conditions_named_who_names_them_and_their_status(client):
    record = build_record()
    response = client.get(URL)
    (condition,) = response.context["conditions"]
    assert condition.pk == record.condition.pk
    assert [a.slug for a in condition.named_by] == ["us-administration"]
    html = response.content.decode()
    assert record.condition.text in html and "Open" in html


def test_a_condition_named_only_in_a_draft_is_not_listed(client):
    question, condition = QuestionFactory(), None
    from tests.factories import ConditionFactory

    condition = ConditionFactory(text="Secret demand")
    StatementFactory(
        question=question,
        stance=Stance.CONDITIONAL,
        conditions=[condition],
        status=StatementStatus.DRAFT,
    )
    StatementFactory(question=question)
    response = client.get(question.get_absolute_url())
    assert response.context["conditions"] == []
    assert "Secret demand" not in response.content.decode()


def test_a_joint_statement_puts_every_signatory_on_the_board(client):
    question = QuestionFactory()
    a, b = ActorFactory(slug="a"), ActorFactory(slug="b")
    StatementFactory(question=question, actors=[a, b], stance=Stance.OPPOSES)
    response = client.get(question.get_absolute_url())
    assert grouped(response)["opposes"] == ["a", "b"]


def test_an_unknown_board_is_404(client):
    build_record()
    assert client.get("/topics/un-convention-against-cybercrime/nope/").status_code == 404
    assert client.get("/topics/nope/ratification-by-the-united-states/").status_code == 404


def test_the_stance_is_never_shown_by_colour_alone(client):
    build_record()
    html = client.get(URL).content.decode()
    for stance in Stance:
        assert stance.label in html
    assert "✗" in html and "◐" in html


def test_a_condition_is_named_only_by_actors_whose_current_position_names_it(client):
    question = QuestionFactory()
    administration = ActorFactory(name="Administration")
    StatementFactory(
        question=question,
        actors=[administration],
        date=datetime.date(2024, 11, 1),
        stance=Stance.CONDITIONAL,
    )
    StatementFactory(
        question=question,
        actors=[administration],
        date=datetime.date(2024, 12, 1),
        stance=Stance.SUPPORTS,
    )
    response = client.get(question.get_absolute_url())
    assert response.context["conditions"] == []
    earlier = client.get(question.get_absolute_url() + "?as_of=2024-11-15")
    [condition] = earlier.context["conditions"]
    assert [a.slug for a in condition.named_by] == [administration.slug]


def test_a_long_stance_shows_its_first_actors_and_pages_through_the_rest(client, monkeypatch):
    from positions import views_board as views

    monkeypatch.setattr(views, "BOARD_GROUP_SIZE", 2)
    monkeypatch.setattr(views, "BOARD_PAGE_SIZE", 3)
    question = QuestionFactory()
    for name in ["Eve", "Dan", "Cy", "Bo", "Al"]:
        StatementFactory(question=question, actors=[ActorFactory(name=name)])
    StatementFactory(question=question, actors=[ActorFactory(name="Zed")], stance=Stance.OPPOSES)
    url = question.get_absolute_url()

    board = client.get(url)
    groups = {s.value: ([p.actor.name for p in ps], n) for s, ps, n in board.context["groups"]}
    assert groups["supports"] == (["Al", "Bo"], 5)
    assert groups["opposes"] == (["Zed"], 1)
    html = board.content.decode()
    assert "Show all 5 actors in “Supports”" in html
    assert "Show all 1 actors" not in html
    assert board.context["board_tally"] == {
        "supports": 5,
        "conditional": 0,
        "opposes": 1,
        "undecided": 0,
    }

    first = client.get(url, {"stance": "supports"})
    assert [s.value for s, _ps, _n in first.context["groups"]] == ["supports"]
    assert [p.actor.name for p in first.context["groups"][0][1]] == ["Al", "Bo", "Cy"]
    second = client.get(url, {"stance": "supports", "page": "2"})
    assert [p.actor.name for p in second.context["groups"][0][1]] == ["Dan", "Eve"]
    assert second.context["page_obj"].paginator.num_pages == 2
    assert "Back to every stance" in second.content.decode()

    # Past dates page the same way, from the record.
    past = client.get(url, {"stance": "supports", "as_of": "2024-12-31"})
    assert [p.actor.name for p in past.context["groups"][0][1]] == ["Al", "Bo", "Cy"]
    assert client.get(url, {"stance": "junk"}).status_code == 200


def test_a_conditional_card_shows_its_conditions_linked_with_their_status(client):
    record = build_record()
    response = client.get(URL)
    (stance, rows, _count) = response.context["groups"][1]
    assert stance == Stance.CONDITIONAL
    assert [c.pk for c in rows[0].conditions] == [record.condition.pk]
    html = response.content.decode()
    card = html[html.index('class="position__conditions"') :]
    card = card[: card.index("</div>")]
    assert f'href="{record.condition.get_absolute_url()}"' in card
    assert record.condition.text in card and "Open" in card


def test_the_tally_says_what_kinds_of_actor_each_number_counts(client):
    build_record()
    response = client.get(URL)
    assert response.context["board_composition"]["opposes"] == [
        ("legislator", 2),
        ("company", 1),
        ("ngo", 1),
    ]
    html = response.content.decode()
    assert (
        'Opposes: <strong>4</strong><span class="tally__kinds">: 2 legislators, 1 company, 1 NGO'
        in html
    )
    kinds = client.get(URL, {"kind": "company", "as_of": "2024-10-30"}).context
    assert kinds["board_composition"] == {"opposes": [("company", 1)]}
