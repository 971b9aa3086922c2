import datetime

import pytest

from positions import stances
from positions.models import Stance, StatementStatus
from tests.factories import ActorFactory, QuestionFactory, StatementFactory

pytestmark = pytest.mark.django_db

D = datetime.date


def board(question, as_of=None):
    return {p.actor.slug: p.statement.stance for p in stances.current_positions(question, as_of)}


def test_latest_published_statement_decides_the_position():
    question, actor = QuestionFactory(), ActorFactory(slug="cisco")
    StatementFactory(question=question, actors=[actor], date=D(2024, 1, 1), stance=Stance.SUPPORTS)
    StatementFactory(question=question, actors=[actor], date=D(2024, 6, 1), stance=Stance.OPPOSES)
    assert board(question) == {"cisco": Stance.OPPOSES}


def test_insertion_order_does_not_matter_only_the_date():
    question, actor = QuestionFactory(), ActorFactory(slug="a")
    StatementFactory(question=question, actors=[actor], date=D(2024, 6, 1), stance=Stance.OPPOSES)
    StatementFactory(question=question, actors=[actor], date=D(2024, 1, 1), stance=Stance.SUPPORTS)
    assert board(question) == {"a": Stance.OPPOSES}


@pytest.mark.parametrize("status", [StatementStatus.DRAFT, StatementStatus.RETRACTED])
def test_drafts_and_retracted_statements_do_not_count(status):
    question, actor = QuestionFactory(), ActorFactory(slug="a")
    StatementFactory(question=question, actors=[actor], date=D(2024, 1, 1), stance=Stance.SUPPORTS)
    StatementFactory(
        question=question, actors=[actor], date=D(2024, 6, 1), stance=Stance.OPPOSES, status=status
    )
    assert board(question) == {"a": Stance.SUPPORTS}


def test_an_actor_with_only_a_draft_has_no_known_position():
    question = QuestionFactory()
    StatementFactory(question=question, status=StatementStatus.DRAFT)
    assert board(question) == {}
    assert stances.tally(question) == {}


def test_as_of_shows_the_board_as_it_stood_on_that_day():
    question, actor = QuestionFactory(), ActorFactory(slug="a")
    StatementFactory(question=question, actors=[actor], date=D(2024, 1, 1), stance=Stance.SUPPORTS)
    StatementFactory(question=question, actors=[actor], date=D(2024, 6, 1), stance=Stance.OPPOSES)
    assert board(question, as_of=D(2023, 12, 31)) == {}
    assert board(question, as_of=D(2024, 1, 1)) == {"a": Stance.SUPPORTS}
    assert board(question, as_of=D(2024, 5, 31)) == {"a": Stance.SUPPORTS}
    assert board(question, as_of=D(2024, 6, 1)) == {"a": Stance.OPPOSES}


def test_same_day_tie_goes_to_the_statement_recorded_later():
    question, actor = QuestionFactory(), ActorFactory(slug="a")
    StatementFactory(question=question, actors=[actor], date=D(2024, 1, 1), stance=Stance.OPPOSES)
    later = StatementFactory(
        question=question, actors=[actor], date=D(2024, 1, 1), stance=Stance.CONDITIONAL
    )
    positions = list(stances.current_positions(question))
    assert [p.statement for p in positions] == [later]


def test_a_joint_statement_counts_for_each_signatory():
    question = QuestionFactory()
    senators = [ActorFactory(slug=f"senator-{i}") for i in range(6)]
    StatementFactory(question=question, actors=senators, stance=Stance.OPPOSES)
    assert board(question) == {s.slug: Stance.OPPOSES for s in senators}
    assert stances.tally(question) == {Stance.OPPOSES: 6}


def test_positions_are_per_question():
    adoption, ratification = QuestionFactory(), QuestionFactory()
    administration = ActorFactory(slug="us")
    StatementFactory(question=adoption, actors=[administration], stance=Stance.SUPPORTS)
    StatementFactory(question=ratification, actors=[administration], stance=Stance.CONDITIONAL)
    assert board(adoption) == {"us": Stance.SUPPORTS}
    assert board(ratification) == {"us": Stance.CONDITIONAL}
    mine = {
        p.statement.question_id: p.statement.stance for p in stances.positions_of(administration)
    }
    assert mine == {adoption.pk: Stance.SUPPORTS, ratification.pk: Stance.CONDITIONAL}


def test_actor_filters_chain_onto_the_board():
    question = QuestionFactory()
    StatementFactory(question=question, actors=[ActorFactory(slug="cisco", kind="company")])
    StatementFactory(question=question, actors=[ActorFactory(slug="eff", kind="ngo")])
    companies = stances.current_positions(question).filter(actor__kind="company")
    assert [p.actor.slug for p in companies] == ["cisco"]


def test_tallies_count_actors_per_stance_for_several_questions_at_once(django_assert_num_queries):
    first, second = QuestionFactory(), QuestionFactory()
    StatementFactory.create_batch(3, question=first, stance=Stance.SUPPORTS)
    StatementFactory.create_batch(2, question=first, stance=Stance.OPPOSES)
    StatementFactory(question=second, stance=Stance.UNDECIDED)
    with django_assert_num_queries(1):
        result = stances.tallies([first, second])
    assert result == {
        first.pk: {Stance.SUPPORTS: 3, Stance.OPPOSES: 2},
        second.pk: {Stance.UNDECIDED: 1},
    }


@pytest.mark.parametrize("actors", [5, 50])
def test_the_board_is_one_query_whatever_the_number_of_actors(actors, django_assert_num_queries):
    question = QuestionFactory()
    for _ in range(actors):
        StatementFactory(question=question)
    with django_assert_num_queries(1):
        rows = [
            (p.actor.name, p.statement.source.title) for p in stances.current_positions(question)
        ]
    assert len(rows) == actors


def test_history_lists_changes_only():
    question, actor = QuestionFactory(), ActorFactory()
    for month, stance in [(1, "supports"), (2, "supports"), (3, "conditional"), (4, "opposes")]:
        StatementFactory(question=question, actors=[actor], date=D(2024, month, 1), stance=stance)
    StatementFactory(
        question=question,
        actors=[actor],
        date=D(2024, 5, 1),
        stance="supports",
        status=StatementStatus.DRAFT,
    )
    history = stances.position_history(actor, question)
    assert [(c.date, c.previous, c.stance) for c in history] == [
        (D(2024, 1, 1), None, "supports"),
        (D(2024, 3, 1), "supports", "conditional"),
        (D(2024, 4, 1), "conditional", "opposes"),
    ]


def test_changes_is_a_pure_rule():
    rows = [(D(2024, 1, 1), "opposes", None), (D(2024, 1, 2), "opposes", None)]
    assert [c.stance for c in stances.changes(rows)] == ["opposes"]
    assert stances.changes([]) == []


def test_counts_over_time_replay_to_the_current_tally():
    question = QuestionFactory()
    a, b = ActorFactory(), ActorFactory()
    StatementFactory(question=question, actors=[a], date=D(2024, 1, 1), stance="supports")
    StatementFactory(question=question, actors=[b], date=D(2024, 1, 1), stance="supports")
    StatementFactory(question=question, actors=[a], date=D(2024, 2, 1), stance="opposes")
    series = stances.stance_counts_over_time(question)
    assert series == [
        (D(2024, 1, 1), {"supports": 2, "conditional": 0, "opposes": 0, "undecided": 0}),
        (D(2024, 2, 1), {"supports": 1, "conditional": 0, "opposes": 1, "undecided": 0}),
    ]
    final = {k: v for k, v in series[-1][1].items() if v}
    assert final == dict(stances.tally(question))


def test_as_of_applies_todays_record_to_a_past_date():
    """Rule 4: a correction made later changes the past board too; history keeps the old text."""
    question, actor = QuestionFactory(), ActorFactory(slug="a")
    statement = StatementFactory(
        question=question, actors=[actor], date=D(2024, 1, 1), stance=Stance.SUPPORTS
    )
    statement.stance = Stance.CONDITIONAL  # corrected after publication
    statement.save()
    assert board(question, as_of=D(2024, 2, 1)) == {"a": Stance.CONDITIONAL}
    assert statement.history.earliest().stance == Stance.SUPPORTS

    statement.mark_status(StatementStatus.RETRACTED, note="Misattributed.")
    statement.save()
    assert board(question, as_of=D(2024, 2, 1)) == {}
