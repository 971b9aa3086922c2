"""The synthetic data generator: valid records, the skewed shape the benchmark needs, repeatable."""

import datetime
from collections import Counter

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count

from bench.bodies import LEAVE_DAY, SWITCH_DAY, SWITCHERS, TERM_START, us_states
from bench.management.commands import generate_data
from positions import acts, institutions, stances
from positions.models import (
    ActKind,
    Actor,
    FormalAct,
    Membership,
    Question,
    Signatory,
    Stance,
    Statement,
    StatementStatus,
    Topic,
)
from tests.factories import StatementFactory

pytestmark = pytest.mark.django_db


def generate(*args):
    call_command(generate_data.Command(), "--scale", "tiny", *args, verbosity=0)


def snapshot():
    """Everything readers see of the data set, independent of database ids."""
    statements = Statement.objects.select_related("question__topic", "source").prefetch_related(
        "signatures__actor", "conditions"
    )
    return sorted(
        (
            s.question.topic.slug,
            s.question.slug,
            s.date,
            s.stance,
            s.status,
            s.source.url if s.source else None,
            s.summary.split(" (Synthetic")[0],
            tuple((sig.actor.slug, sig.order, sig.is_lead) for sig in s.signatures.all()),
            tuple(sorted(c.slug for c in s.conditions.all())),
        )
        for s in statements
    )


def pool_statements():
    """The statements of the pool the preset sizes (not those of the bodies' members)."""
    return Statement.objects.filter(question__deciding_body__isnull=True)


def test_it_makes_the_tiny_preset_with_the_asked_numbers():
    generate()
    assert Actor.objects.filter(slug__startswith="syn-actor-").count() == 60
    assert Topic.objects.filter(slug__startswith="syn-topic-").count() == 3
    assert Question.objects.filter(deciding_body__isnull=True).count() == 6
    assert pool_statements().count() == 300


def test_options_override_the_preset():
    generate("--actors", "30", "--topics", "2", "--questions-per-topic", "3", "--statements", "90")
    pool = Actor.objects.filter(slug__startswith="syn-actor-").count()
    assert (pool, Question.objects.filter(deciding_body__isnull=True).count()) == (30, 6)
    assert pool_statements().count() == 90


def test_every_record_passes_the_model_validation():
    generate()
    for model in (Actor, Topic, Question, Statement, Membership):
        for obj in model.objects.all():
            obj.full_clean()
    for act in FormalAct.objects.select_related("regarding"):
        act.full_clean()
    for statement in Statement.objects.prefetch_related("conditions"):
        assert Statement.conditions_error(statement.stance, statement.conditions.all()) is None


def test_it_has_the_shape_of_real_data():
    generate()
    statuses = Counter(Statement.objects.values_list("status", flat=True))
    assert statuses[StatementStatus.DRAFT] and statuses[StatementStatus.RETRACTED]
    assert statuses[StatementStatus.PUBLISHED] > statuses[StatementStatus.DRAFT]
    assert Statement.objects.drafts().filter(source__isnull=True).exists()
    assert Statement.objects.filter(stance=Stance.CONDITIONAL, conditions__isnull=False).exists()
    # Joint statements: several signatories, exactly one lead each.
    signers = Counter(Signatory.objects.values_list("statement_id", flat=True))
    assert max(signers.values()) > 1
    leads = Counter(Signatory.objects.filter(is_lead=True).values_list("statement_id", flat=True))
    assert set(leads) == set(signers) and set(leads.values()) == {1}
    # Actors who change their minds over time.
    changed = (
        Statement.objects.published()
        .order_by()
        .values("question", "signatures__actor")
        .annotate(stances=Count("stance", distinct=True))
        .filter(stances__gt=1)
    )
    assert changed.exists()


def test_the_largest_board_has_the_asked_number_of_actors():
    generate("--largest-question", "40")
    boards = (
        Signatory.objects.filter(statement__question__deciding_body__isnull=True)
        .order_by()
        .values("statement__question")
        .annotate(actors=Count("actor", distinct=True))
    )
    sizes = sorted(row["actors"] for row in boards)
    assert sizes[-1] == 40
    assert sizes[0] < 40  # Skewed: a long tail of smaller boards.
    largest = Question.objects.get(pk=max(boards, key=lambda r: r["actors"])["statement__question"])
    assert 0 < len(stances.current_positions(largest)) <= 40


def test_the_same_seed_gives_the_same_data():
    generate("--seed", "7")
    first = snapshot()
    generate("--seed", "7", "--flush")
    assert snapshot() == first
    generate("--seed", "8", "--flush")
    assert snapshot() != first


def test_it_refuses_to_mix_with_existing_records():
    StatementFactory()
    with pytest.raises(CommandError, match="--flush"):
        generate()
    assert Statement.objects.count() == 1


def test_flush_replaces_existing_records():
    StatementFactory(summary="Hand-made")
    generate("--flush")
    assert not Statement.objects.filter(summary="Hand-made").exists()
    assert pool_statements().count() == 300


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--statements", "0"], "at least 1"),
        (["--statements", "3"], "at least the number of questions"),
        (["--actors", "-5"], "at least 1"),
    ],
)
def test_bad_numbers_get_a_clear_message_and_change_nothing(args, message):
    with pytest.raises(CommandError, match=message):
        generate(*args)
    assert not Actor.objects.exists()


def test_it_fills_a_chamber_of_100_seats_with_parties_and_a_two_thirds_rule():
    generate()
    consent = Question.objects.get(slug="consent")
    chamber = consent.deciding_body
    assert (consent.seats, consent.threshold()) == (100, 67)
    for day in (TERM_START, SWITCH_DAY, LEAVE_DAY, LEAVE_DAY + datetime.timedelta(days=1)):
        seated = Membership.objects.of(chamber).on(day)
        assert seated.count() == 100 and seated.values("member").distinct().count() == 100
        assert not seated.filter(on_behalf_of__isnull=True).exists()
        # Two seats for each of the 50 states, every area an ISO 3166-2 code.
        assert Counter(seated.values_list("area", flat=True)) == dict.fromkeys(us_states(), 2)
    # A senator who switched party sits for one party before the switch, another after.
    switched = (
        Membership.objects.of(chamber)
        .order_by()
        .values("member")
        .annotate(parties=Count("on_behalf_of", distinct=True))
        .filter(parties=2)
    )
    assert switched.count() == SWITCHERS
    count = institutions.whip_count(consent)
    assert count.members == 100 and count.seats == 100 and not count.vacant
    assert (
        count.supports + count.conditional + count.opposes + count.undecided + count.unknown == 100
    )
    assert count.conditional and count.opposes and count.unknown
    parties = {
        m.on_behalf_of.slug for m in Membership.objects.of(chamber).select_related("on_behalf_of")
    }
    assert parties == {"syn-party-blue", "syn-party-red", "syn-party-green"}


def test_it_fills_formal_acts_for_a_few_hundred_states_on_treaty_topics():
    generate()
    treaty = Question.objects.get(slug="ratifications")
    assert treaty.threshold() == 40 and treaty.deciding_body.slug == "syn-community-of-states"
    members = Membership.objects.of(treaty.deciding_body).count()
    assert members == Actor.objects.filter(slug__startswith="syn-state-").count() > 240
    topics = Topic.objects.filter(entry_into_force_count=40, entry_into_force_days=90)
    assert topics.count() == 3
    for topic in topics:
        participants = list(acts.status_of(topic).values())
        assert len(participants) > 100
        totals = acts.totals(participants)
        assert totals.signatures and totals.consents >= 40 and totals.withdrawn
        assert any(p.reservations for p in participants)
        assert any(p.withdrawn_reservations for p in participants)
        assert any(p.objections for p in participants)
        assert acts.entry_into_force(topic, participants, datetime.date(2025, 12, 31)).met
    kinds = set(FormalAct.objects.values_list("kind", flat=True))
    assert kinds >= {
        ActKind.SIGNATURE,
        ActKind.RATIFICATION,
        ActKind.ACCESSION,
        ActKind.RESERVATION,
        ActKind.RESERVATION_WITHDRAWAL,
        ActKind.DENUNCIATION,
    }
    assert FormalAct.objects.filter(status=StatementStatus.DRAFT).exists()
    assert not FormalAct.objects.published().filter(source__isnull=True).exists()
    # The states' stances follow their acts: a party supports the treaty question.
    board = {p.actor_id: p.statement.stance for p in stances.current_positions(treaty)}
    parties = [p.actor_id for p in acts.status_of(treaty.topic).values() if p.consent]
    assert parties and all(board[actor] == Stance.SUPPORTS for actor in parties)
