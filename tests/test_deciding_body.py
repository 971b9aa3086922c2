"""A question's deciding body and rule: the votes it needs, and what editors may enter."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from positions import writes
from positions.models import ActorKind, Question, ThresholdKind
from tests.admin_builders import admin_url, staff_in
from tests.factories import ActorFactory, QuestionFactory


def rule(kind="", **fields):
    return Question(threshold_kind=kind, **fields)


@pytest.mark.parametrize(
    ("question", "needed"),
    [
        (
            rule(ThresholdKind.FRACTION, seats=100, threshold_numerator=2, threshold_denominator=3),
            67,
        ),
        (
            rule(ThresholdKind.FRACTION, seats=99, threshold_numerator=2, threshold_denominator=3),
            66,
        ),
        (
            rule(ThresholdKind.FRACTION, seats=100, threshold_numerator=3, threshold_denominator=5),
            60,
        ),
        (
            rule(ThresholdKind.FRACTION, seats=100, threshold_numerator=1, threshold_denominator=2),
            50,
        ),
        (rule(ThresholdKind.MAJORITY, seats=100), 51),
        (rule(ThresholdKind.MAJORITY, seats=101), 51),
        (rule(ThresholdKind.MAJORITY, seats=435), 218),
        (rule(ThresholdKind.COUNT, threshold_count=40), 40),
        (rule(), None),
    ],
    ids=[
        "2/3 of 100",
        "2/3 of 99",
        "3/5 of 100",
        "1/2 of 100",
        "majority of 100",
        "majority of 101",
        "majority of 435",
        "40 ratifications",
        "no rule",
    ],
)
def test_the_votes_needed_round_a_fraction_up_and_a_majority_is_more_than_half(question, needed):
    assert question.threshold() == needed


@pytest.mark.django_db
def test_a_rule_is_refused_without_its_body_or_numbers():
    body = ActorFactory(kind=ActorKind.LEGISLATIVE_GROUP)
    with pytest.raises(ValidationError) as error:
        rule(ThresholdKind.MAJORITY, seats=100).clean()
    assert "deciding_body" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        rule(
            ThresholdKind.FRACTION,
            deciding_body=body,
            seats=100,
            threshold_numerator=3,
            threshold_denominator=2,
        ).clean()
    assert "cannot be more than all" in str(error.value)
    with pytest.raises(ValidationError) as error:
        rule(ThresholdKind.COUNT, deciding_body=body).clean()
    assert "threshold_count" in error.value.message_dict
    rule(ThresholdKind.MAJORITY, deciding_body=body, seats=100).clean()


@pytest.mark.django_db
def test_the_database_refuses_a_fraction_without_seats():
    question = QuestionFactory()
    question.deciding_body = ActorFactory()
    question.threshold_kind = ThresholdKind.FRACTION
    question.threshold_numerator, question.threshold_denominator = 2, 3
    with pytest.raises(IntegrityError), transaction.atomic(), writes.writing():
        writes.save(question)


@pytest.mark.django_db
def test_editors_set_the_body_and_rule_in_the_question_admin(client):
    client.force_login(staff_in("Editors"))
    question = QuestionFactory()
    senate = ActorFactory(kind=ActorKind.LEGISLATIVE_GROUP)
    data = {
        "topic": question.topic_id,
        "title": question.title,
        "slug": question.slug,
        "display_order": 0,
        "deciding_body": senate.pk,
        "threshold_kind": ThresholdKind.FRACTION,
        "seats": 100,
        "threshold_numerator": 2,
        "threshold_denominator": 3,
    }
    response = client.post(admin_url("question", "change", question.pk), data)
    assert response.status_code == 302
    question.refresh_from_db()
    assert (question.deciding_body, question.threshold()) == (senate, 67)
    page = client.get(admin_url("question", "change", question.pk)).content.decode()
    assert "Fractions of the members present are not modelled" in page
