"""
The whip count: the deciding body's members on a date, counted by their own positions against
the question's rule, conditional supporters apart; the split by party and by kind of actor.
"""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from positions import institutions, writes
from positions.institutions import UNKNOWN
from positions.models import ActorKind, ConditionStatus, Stance, ThresholdKind
from tests.factories import (
    ActorFactory,
    ConditionFactory,
    MembershipFactory,
    QuestionFactory,
    StatementFactory,
)

pytestmark = pytest.mark.django_db

D = datetime.date
DAY = D(2024, 10, 30)


def chamber(seats=10, numerator=2, denominator=3):
    senate = ActorFactory(name="Senate", kind=ActorKind.LEGISLATIVE_GROUP)
    question = QuestionFactory(
        deciding_body=senate,
        threshold_kind=ThresholdKind.FRACTION,
        seats=seats,
        threshold_numerator=numerator,
        threshold_denominator=denominator,
    )
    return senate, question


def say(question, actor, stance, date, **kwargs):
    return StatementFactory(question=question, actors=[actor], stance=stance, date=date, **kwargs)


@pytest.fixture
def case():
    """
    A ten-seat chamber, two thirds needed (7), on 30 October 2024 (hand-counted below).
    """
    senate, question = chamber()
    dems = ActorFactory(name="Democrats", slug="dems", kind=ActorKind.LEGISLATIVE_GROUP)
    reps = ActorFactory(name="Republicans", slug="reps", kind=ActorKind.LEGISLATIVE_GROUP)
    condition = ConditionFactory(text="Human-rights controls", status=ConditionStatus.MET)

    def member(slug, party, kind=ActorKind.LEGISLATOR, **dates):
        actor = ActorFactory(slug=slug, name=slug.upper(), kind=kind)
        MembershipFactory(member=actor, organization=senate, on_behalf_of=party, **dates)
        return actor

    a = member("a", dems)
    b = member("b", dems)
    c = member("c", reps)
    d = member("d", reps)
    member("e", dems)  # no statement: no known position
    f = member("f", dems, start_date=D(2024, 11, 1))  # joined after the day
    g = member("g", reps, start_date=D(2019, 1, 3), end_date=D(2024, 10, 29))  # left before
    # Switched party: Republican until June, Democrat since July. Counted once, as a Democrat.
    h = member("h", reps, start_date=D(2023, 1, 3), end_date=D(2024, 6, 30))
    MembershipFactory(member=h, organization=senate, on_behalf_of=dems, start_date=D(2024, 7, 1))
    i = member("i", dems)
    j = member("j", reps, kind=ActorKind.EXPERT)
    outsider = ActorFactory(slug="outsider")

    say(question, a, Stance.SUPPORTS, D(2024, 10, 1))
    say(question, b, Stance.CONDITIONAL, D(2024, 10, 2), conditions=[condition])
    say(question, c, Stance.OPPOSES, D(2024, 10, 3))
    say(question, d, Stance.UNDECIDED, D(2024, 10, 4))
    say(question, f, Stance.SUPPORTS, D(2024, 10, 5))
    say(question, g, Stance.SUPPORTS, D(2024, 10, 6))
    say(question, h, Stance.SUPPORTS, D(2024, 10, 7))
    say(question, i, Stance.SUPPORTS, D(2024, 9, 1))
    say(question, i, Stance.OPPOSES, D(2024, 11, 5))  # after the day
    StatementFactory(question=question, actors=[a, j], stance=Stance.SUPPORTS, date=DAY)
    say(question, outsider, Stance.SUPPORTS, D(2024, 10, 8))
    say(question, senate, Stance.SUPPORTS, D(2024, 10, 9))  # the body is not its own member
    return question, condition


def test_it_counts_the_members_on_the_day_by_their_own_positions(case):
    question, _ = case
    whip = institutions.whip_count(question, DAY)
    # Members on the day: a b c d e h i j (f joined after, g left before).
    assert whip.counts == {
        Stance.SUPPORTS: 4,  # a, h, i (its opposition came later), j (the joint statement)
        Stance.CONDITIONAL: 1,  # b
        Stance.OPPOSES: 1,  # c
        Stance.UNDECIDED: 1,  # d
        UNKNOWN: 1,  # e
    }
    assert (whip.members, whip.needed, whip.with_conditions) == (8, 7, 5)
    assert whip.summary == (
        "5 of the 7 needed: 4 support, 1 only on conditions, 1 oppose, 1 undecided, 1 unknown."
    )
    assert whip.verdict == "2 short, even if every condition is met."
    assert whip.vacant == 2


def test_the_party_split_counts_a_switcher_once_for_the_party_of_the_day(case):
    question, _ = case
    whip = institutions.whip_count(question, DAY)
    parties = {group.slug: group.counts for group in whip.by_party}
    assert parties == {
        "dems": {"supports": 3, "conditional": 1, "opposes": 0, "undecided": 0, UNKNOWN: 1},
        "reps": {"supports": 1, "conditional": 0, "opposes": 1, "undecided": 1, UNKNOWN: 0},
    }
    # h sat for the Republicans in June.
    june = {g.slug: g.counts for g in institutions.whip_count(question, D(2024, 6, 15)).by_party}
    # Nobody had said anything yet: c, d, g (still a member), h and j sat for the Republicans.
    assert june["reps"] == dict.fromkeys(["supports", "conditional", "opposes", "undecided"], 0) | {
        UNKNOWN: 5
    }
    kinds = {group.name: group.total for group in whip.by_kind}
    assert kinds == {"Legislator": 7, "Individual expert": 1}


def test_a_condition_met_moves_nobody_but_is_shown_with_its_status(case):
    question, condition = case
    whip = institutions.whip_count(question, DAY)
    assert whip.conditional == 1
    [named] = whip.conditions
    assert (named.slug, named.status, named.named_by_count) == (
        condition.slug,
        ConditionStatus.MET,
        1,
    )
    assert [actor.slug for actor in named.named_by] == ["b"]


def test_today_the_newcomer_counts_and_the_late_opposition_too(case):
    question, _ = case
    whip = institutions.whip_count(question)
    # Today: f has joined (supports), i opposes since November.
    assert whip.counts[Stance.SUPPORTS] == 4  # a, f, h, j
    assert whip.counts[Stance.OPPOSES] == 2  # c, i
    assert whip.members == 9


def test_a_question_without_a_deciding_body_has_no_whip_count():
    assert institutions.whip_count(QuestionFactory()) is None


def test_the_bar_marks_the_threshold_on_the_scale_of_the_seats(case):
    question, _ = case
    bar = institutions.whip_count(question, DAY).bar
    assert bar["threshold_x"] == 70.0
    assert [(s["stance"], s["x"], s["width"]) for s in bar["segments"]] == [
        ("supports", 0.0, 40.0),
        ("conditional", 40.0, 10.0),
        ("opposes", 50.0, 10.0),
        ("undecided", 60.0, 10.0),
        (UNKNOWN, 70.0, 10.0),
    ]


def large_chamber(members):
    senate, question = chamber(seats=members, numerator=2, denominator=3)
    parties = [ActorFactory(kind=ActorKind.LEGISLATIVE_GROUP) for _ in range(3)]
    with writes.writing():
        actors = [ActorFactory(kind=ActorKind.LEGISLATOR) for _ in range(members)]
        for n, actor in enumerate(actors):
            MembershipFactory(member=actor, organization=senate, on_behalf_of=parties[n % 3])
    stances_cycle = [Stance.SUPPORTS, Stance.CONDITIONAL, Stance.OPPOSES]
    for n, actor in enumerate(actors[: members // 2]):
        say(question, actor, stances_cycle[n % 3], D(2024, 10, 1))
    return question


@pytest.mark.parametrize("as_of", [None, DAY], ids=["today", "as of a day"])
def test_it_runs_two_queries_whatever_the_size_of_the_body(as_of):
    small, large = large_chamber(10), large_chamber(120)
    for question in (small, large):
        with CaptureQueriesContext(connection) as queries:
            whip = institutions.whip_count(question, as_of)
        # the members grouped by kind, party and position; the conditions named
        assert len(queries) == 2
    assert whip.members == 120
    assert whip.unknown == 60
    assert sum(group.total for group in whip.by_party) == 120


# --- on the board -----------------------------------------------------------------------------


def test_the_board_shows_the_whip_count_as_of_its_date(client, case):
    question, condition = case
    response = client.get(question.get_absolute_url(), {"as_of": DAY.isoformat()})
    assert response.context["whip"].members == 8
    page = response.content.decode()
    assert "5 of the 7 needed: 4 support, 1 only on conditions" in page
    assert 'class="whip__threshold" x1="70.0"' in page
    assert "Members by the party they sit for" in page
    assert condition.text in page
    assert "style=" not in page.split('id="whip-heading"')[1].split("</section>")[0]


def test_a_board_without_a_deciding_body_shows_no_whip_count(client):
    question = QuestionFactory()
    response = client.get(question.get_absolute_url())
    assert response.context["whip"] is None
    assert "Whip count" not in response.content.decode()


@pytest.mark.parametrize("params", [{}, {"as_of": DAY.isoformat()}], ids=["today", "as of"])
def test_the_board_of_a_body_runs_a_pinned_number_of_queries_whatever_its_size(client, params):
    counts = []
    for question in (large_chamber(10), large_chamber(80)):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(question.get_absolute_url(), params).status_code == 200
        counts.append(len(queries))
    # The board's own nine (see test_views_query_counts) but the formal acts' (no act on the
    # topic), and the whip count's two.
    assert counts == [10, 10]
