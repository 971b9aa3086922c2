"""
The board's aggregates, computed in SQL (the chart's series, the tallies, the composition, the
split by kind, the conditions named), against the rules computed the straightforward way in
Python from the same generated record: actors switching stances, same-day corrections,
retractions, drafts, joint statements, conditions, today and as of past dates.
"""

import datetime
import random
from collections import Counter

import pytest
from django.db import connection

from positions import groups, stances
from positions.charts import COLUMN_SQL, PLOT_WIDTH, _simplify, chart_rows, column, stance_chart
from positions.models import (
    Actor,
    ActorKind,
    Stance,
    StanceCountDay,
    Statement,
    StatementStatus,
)
from positions.views_board import month_ends
from tests.factories import ActorFactory, ConditionFactory, QuestionFactory, StatementFactory
from tests.test_charts import on_path

pytestmark = pytest.mark.django_db

D = datetime.date
START = D(2024, 1, 1)
STANCES = list(Stance)
STATUSES = [StatementStatus.PUBLISHED] * 6 + [StatementStatus.DRAFT, StatementStatus.RETRACTED]
KINDS = [ActorKind.STATE, ActorKind.COMPANY, ActorKind.NGO]
SHOWN = 3  # actors listed per condition: fewer than name most of them


@pytest.fixture
def record():
    """A question with 14 actors and 90 statements on 40 days, seeded: the same each run."""
    rng = random.Random(16)
    question = QuestionFactory()
    other_question = QuestionFactory(topic=question.topic)  # its statements never count here
    actors = [  # names shared: ties broken by the actor
        ActorFactory(name=f"Actor {n % 5}", kind=rng.choice(KINDS)) for n in range(14)
    ]
    conditions = [ConditionFactory() for _ in range(4)]
    for _ in range(90):
        stance = rng.choice(STANCES)
        StatementFactory(
            question=other_question if rng.random() < 0.1 else question,
            actors=rng.sample(actors, rng.choice([1, 1, 1, 2, 3])),  # some joint statements
            date=START + datetime.timedelta(days=rng.randrange(40)),  # same-day statements
            stance=stance,
            status=rng.choice(STATUSES),
            conditions=rng.sample(conditions, rng.randint(1, 2))
            if stance == Stance.CONDITIONAL
            else [],
        )
    return question


AS_OF_DATES = [None, START - datetime.timedelta(days=1), START, D(2024, 1, 15), D(2024, 2, 9)]


def deciding_statements(question, day=None):
    """Rules 1-3 by hand: each actor's latest counting statement (latest date, then id)."""
    latest = {}
    for statement in Statement.objects.filter(question=question).prefetch_related("signatures"):
        if statement.status != StatementStatus.PUBLISHED or (day and statement.date > day):
            continue
        for signature in statement.signatures.all():
            held = latest.get(signature.actor_id)
            if held is None or (statement.date, statement.pk) > (held.date, held.pk):
                latest[signature.actor_id] = statement
    return latest


def counted(latest):
    tally = Counter(statement.stance for statement in latest.values())
    return {s: tally[s] for s in stances.STANCE_ORDER}


def series_by_hand(question, as_of=None):
    """The tally after each day on which a statement counts, each computed afresh."""
    days = sorted(
        {
            s.date
            for s in Statement.objects.filter(question=question, status=StatementStatus.PUBLISHED)
            if as_of is None or s.date <= as_of
        }
    )
    return [(day, counted(deciding_statements(question, day))) for day in days]


@pytest.mark.parametrize("as_of", AS_OF_DATES)
def test_the_series_is_the_tally_after_each_day_a_statement_counts(record, as_of):
    expected = series_by_hand(record, as_of)
    assert stances.stance_counts_over_time(record, as_of) == expected
    if expected:
        assert expected[-1][1] == counted(deciding_statements(record, as_of))
    assert len(expected) > 5 or as_of is not None and as_of <= START


@pytest.mark.parametrize("as_of", AS_OF_DATES)
def test_tally_composition_and_split_are_the_positions_counted(record, as_of):
    latest = deciding_statements(record, as_of)
    kinds = {actor.pk: actor.kind for actor in Actor.objects.all()}
    assert {s: n for s, n in stances.tally(record, as_of).items() if n} == {
        s: n for s, n in counted(latest).items() if n
    }
    by_stance_and_kind = Counter((st.stance, kinds[actor]) for actor, st in latest.items())
    positions = stances.current_positions(record, as_of)
    composition = stances.composition(positions)
    assert {(stance, kind): n for stance, rows in composition.items() for kind, n in rows} == dict(
        by_stance_and_kind
    )
    split = groups.split_board(positions, record, "kind", None, as_of)
    assert {
        (stance, row.key): n for row in split.rows for stance, n in row.counts.items() if n
    } == dict(by_stance_and_kind)
    # The board's composition from the split's counts, without a query of its own, is the one
    # counted, and in a group (a kind) it is the group's.
    assert stances.composition(positions, split.kind_counts) == composition
    for kind in KINDS:
        in_kind = groups.split_board(positions, record, "kind", kind, as_of)
        in_group = groups.in_group(positions, in_kind, record, as_of)
        assert stances.composition(positions, in_kind.kind_counts) == stances.composition(in_group)
    assert groups.split_board(positions, record, "country", None, as_of).kind_counts is None


@pytest.mark.parametrize("as_of", AS_OF_DATES)
def test_conditions_named_are_those_of_the_deciding_statements(record, as_of):
    latest = deciding_statements(record, as_of)
    actors = {a.pk: a for a in Actor.objects.filter(pk__in=latest)}
    naming = {}  # condition pk: [(actor name, actor pk, deciding statement pk)]
    for actor_id, statement in latest.items():
        for condition in statement.conditions.all():
            naming.setdefault(condition, []).append((actors[actor_id].name, actor_id, statement.pk))
    # Some cards of the board: every other deciding statement.
    cards = sorted({s.pk for s in latest.values()})[::2]

    named = stances.conditions_named(stances.current_positions(record, as_of), SHOWN, as_of, cards)

    assert [c.pk for c in named] == [
        c.pk for c in sorted(naming, key=lambda condition: (condition.text, condition.pk))
    ]
    for condition in named:
        rows = sorted(next(rows for c, rows in naming.items() if c.pk == condition.pk))
        assert condition.named_by_count == len(rows)
        assert [n.name for n in condition.named_by] == [name for name, _a, _s in rows[:SHOWN]]
        assert [n.slug for n in condition.named_by] == [
            actors[actor_id].slug for _n, actor_id, _s in rows[:SHOWN]
        ]
        assert condition.statement_ids == {s for _n, _a, s in rows} & set(cards)


def test_the_record_has_what_the_comparisons_need(record):
    """The generated record exercises each rule (or the tests above would prove little)."""
    statements = list(Statement.objects.filter(question=record).prefetch_related("signatures"))
    assert {s.status for s in statements} == set(StatementStatus)
    assert any(s.signatures.count() > 1 for s in statements)
    assert len({s.date for s in statements}) < len(statements)  # same-day statements
    switched = Counter(
        sig.actor_id
        for s in statements
        if s.status == StatementStatus.PUBLISHED
        for sig in s.signatures.all()
    )
    assert max(switched.values()) >= 3
    assert any(
        c.named_by_count > SHOWN
        for c in stances.conditions_named(stances.current_positions(record), SHOWN)
    )


@pytest.mark.parametrize("seed", range(6))
def test_the_chart_from_one_point_per_column_draws_the_path_of_every_day(seed):
    rng = random.Random(seed)
    days = sorted(rng.sample(range(3000), rng.choice([1, 2, 40, 900, 2500])))
    counts, series = dict.fromkeys(stances.STANCE_ORDER, 0), []
    for day in days:
        for stance in rng.sample(stances.STANCE_ORDER, 2):
            counts[stance] = max(0, counts[stance] + rng.randint(-3, 5))
        series.append((START + datetime.timedelta(days=day), dict(counts)))

    chart = stance_chart(series)
    reference = reference_points(series)
    for line in chart.lines:
        drawn = [tuple(map(float, p.split(","))) for p in line.points.split()]
        every_day = reference[line.stance]
        assert drawn[0] == every_day[0] and drawn[-1] == every_day[-1]
        assert all(on_path(point, drawn) for point in every_day)
        assert all(on_path(point, every_day) for point in drawn)
        assert line.last == series[-1][1][line.stance]


def reference_points(series):
    """
    The step lines' points from every day of `series`, with the chart's own scale: what the
    chart drew before it kept one point per column.
    """
    start, end = series[0][0], series[-1][0]
    span_days = max((end - start).days * 11 // 10, (end - start).days + 1)
    top_value = max(max(counts.values()) for _, counts in series) or 1
    chart = stance_chart(series)
    plot_w = chart.plot_right - chart.plot_left
    plot_h = chart.plot_bottom - chart.plot_top

    def x(day):
        return round(chart.plot_left + plot_w * (day - start).days / span_days)

    def y(value):
        return round(chart.plot_top + plot_h * (1 - value / top_value), 1)

    lines = {}
    for stance in stances.STANCE_ORDER:
        points, previous = [], None
        for day, counts in series:
            if previous is not None:
                points.append((x(day), y(previous)))
            points.append((x(day), y(counts[stance])))
            previous = counts[stance]
        points.append((x(start + datetime.timedelta(days=span_days)), y(previous)))
        lines[stance] = [(float(px), float(py)) for px, py in _simplify(points)]
    return lines


@pytest.mark.parametrize("as_of", AS_OF_DATES)
def test_first_of_each_stance_ranks_by_name_and_counts_joint_signers(record, as_of):
    latest = deciding_statements(record, as_of)
    names = dict(Actor.objects.values_list("pk", "name"))
    deciding_for = Counter(statement.pk for statement in latest.values())
    expected = {}
    for stance in stances.STANCE_ORDER:
        holding = sorted(
            (names[actor], actor) for actor, st in latest.items() if st.stance == stance
        )
        for _name, actor in holding[:SHOWN]:
            statement = latest[actor]
            expected[actor] = (stance, len(holding), statement.pk, deciding_for[statement.pk])

    fields = ["actor_id", "position_stance", "statement_id"]
    rows = stances.first_of_each_stance(stances.current_positions(record, as_of), SHOWN, fields)

    assert {
        row["actor_id"]: (
            row["position_stance"],
            row["stance_total"],
            row["statement_id"],
            row["statement_signers"],
        )
        for row in rows
    } == expected
    assert any(signers > 1 for *_rest, signers in expected.values()) or as_of is not None


def write_counts(question, days, rng):
    """`StanceCountDay` rows of `question` on `days` (offsets from START), counts at random."""
    counts, rows = dict.fromkeys(stances.STANCE_ORDER, 0), []
    for day in days:
        for stance in rng.sample(stances.STANCE_ORDER, 2):
            counts[stance] = max(0, counts[stance] + rng.randint(-3, 5))
        rows.append(
            StanceCountDay(question=question, day=START + datetime.timedelta(days=day), **counts)
        )
    StanceCountDay.objects.filter(question=question).delete()
    StanceCountDay.objects.bulk_create(rows)


# Day offsets: one day, two, a few in one column, and data 793 and 1,586 days long, whose
# plots span 872 and 1,744 days (2 and 4 days a column), so that every other day of the
# first and one in four of the second lie halfway between two columns (`round` picks the
# even one); then thousands of days sharing columns, and scattered days.
DAY_SETS = [
    [0],
    [0, 1],
    [0, 3, 4, 5],
    list(range(794)),
    list(range(0, 1587, 2)),
    sorted(random.Random(3).sample(range(4000), 2500)),
    sorted(random.Random(4).sample(range(400), 90)),
]


@pytest.mark.parametrize("days", DAY_SETS, ids=lambda days: f"{len(days)}-days")
def test_the_rows_the_chart_draws_draw_the_chart_and_table_of_every_row(days):
    question = QuestionFactory()
    write_counts(question, days, random.Random(len(days)))
    last = START + datetime.timedelta(days=days[-1])
    for as_of in [None, last, last - datetime.timedelta(days=days[-1] // 3)]:
        every_row = stances.stance_counts_over_time(question, as_of)
        drawn, top_value = chart_rows(question, as_of)
        # The first, the last of each column and the last of each month, at most.
        assert len(drawn) <= 1 + (PLOT_WIDTH + 1) + len(month_ends(every_row))
        assert stance_chart(drawn, top_value) == stance_chart(every_row)
        assert month_ends(drawn) == month_ends(every_row)
        assert all(row in every_row for row in drawn)


def test_a_question_with_no_counts_draws_nothing():
    question = QuestionFactory()
    assert chart_rows(question) == ([], None)
    assert stance_chart(*chart_rows(question)) is None


@pytest.mark.parametrize("span", [1, 2, 7, 436, 872, 959, 1090, 1091, 2399, 44000])
def test_the_plot_column_in_sql_is_the_one_in_python(span):
    days = range(0, span + 1, max(1, span // 500))
    select = ", ".join(
        COLUMN_SQL.format(whole=PLOT_WIDTH * day // span, rest=PLOT_WIDTH * day % span, span=span)
        for day in days
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {select} WHERE 1 = %s", [1])  # noqa: S608
        in_sql = list(cursor.fetchone())
    assert in_sql == [column(day, span) for day in days]
