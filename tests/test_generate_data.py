"""The synthetic data generator: valid records, the skewed shape the benchmark needs, repeatable."""

from collections import Counter

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count

from bench.management.commands import generate_data
from positions import stances
from positions.models import (
    Actor,
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


def test_it_makes_the_tiny_preset_with_the_asked_numbers():
    generate()
    assert Actor.objects.count() == 60
    assert Topic.objects.count() == 3
    assert Question.objects.count() == 6
    assert Statement.objects.count() == 300


def test_options_override_the_preset():
    generate("--actors", "30", "--topics", "2", "--questions-per-topic", "3", "--statements", "90")
    assert (Actor.objects.count(), Question.objects.count()) == (30, 6)
    assert Statement.objects.count() == 90


def test_every_record_passes_the_model_validation():
    generate()
    for model in (Actor, Topic, Question, Statement):
        for obj in model.objects.all():
            obj.full_clean()
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
        Signatory.objects.order_by()
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
    assert Statement.objects.count() == 300


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
