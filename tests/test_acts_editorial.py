"""
Formal acts in the admin: the statements' editorial rules (editorial.py), not a second copy:
Editors enter drafts, Publishers publish and unpublish; a published act has a source; a
reservation has its text; every write goes through the write path and keeps history.
"""

import datetime

import pytest
from django.core.exceptions import ValidationError

from positions import editorial, writes
from positions.models import ActKind, FormalAct, StatementStatus
from tests.admin_builders import admin_url, staff_in, use_test_settings
from tests.factories import ActorFactory, FormalActFactory, SourceFactory, TopicFactory

pytestmark = pytest.mark.django_db

DRAFT, PUBLISHED, RETRACTED = (
    StatementStatus.DRAFT,
    StatementStatus.PUBLISHED,
    StatementStatus.RETRACTED,
)


@pytest.fixture(autouse=True)
def _admin_test_settings(settings):
    use_test_settings(settings)


@pytest.fixture
def editor():
    return staff_in("Editors")


@pytest.fixture
def publisher():
    return staff_in("Publishers")


def form_data(act=None, **overrides):
    data = {
        "actor": "",
        "topic": "",
        "kind": ActKind.SIGNATURE,
        "date": "2025-10-25",
        "place": "Hanoi",
        "depositary_reference": "",
        "text": "",
        "regarding": "",
        "source": "",
        "status": DRAFT,
        "correction_note": "",
    }
    if act is not None:
        data.update(
            actor=act.actor_id,
            topic=act.topic_id,
            kind=act.kind,
            date=act.date.isoformat(),
            source=act.source_id or "",
            status=act.status,
            text=act.text,
        )
    data.update(overrides)
    return data


def test_the_one_editorial_rule_speaks_of_acts_for_acts(editor):
    assert editorial.transition_error(editor, DRAFT, PUBLISHED, noun="act") == (
        "Only a Publisher can publish, unpublish or retract an act. Save it as a draft and ask "
        "a Publisher to review it."
    )
    assert "statement" in editorial.transition_error(editor, DRAFT, PUBLISHED)
    assert "A retraction is final: the act stays" in editorial.transition_error(
        staff_in("Publishers"), RETRACTED, PUBLISHED, noun="act"
    )


def test_an_editor_enters_a_draft_act_and_cannot_publish_it(client, editor):
    actor, topic = ActorFactory(kind="state"), TopicFactory()
    client.force_login(editor)
    response = client.post(admin_url("formalact", "add"), form_data(actor=actor.pk, topic=topic.pk))
    assert response.status_code == 302
    act = FormalAct.objects.get()
    assert act.status == DRAFT
    assert act.history.first().history_user == editor

    response = client.post(
        admin_url("formalact", "change", act.pk), form_data(act, status=PUBLISHED)
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["status"] == [editorial.only_publishers("act")]
    assert FormalAct.objects.get().status == DRAFT


def test_a_publisher_publishes_an_act_only_with_a_source(client, publisher):
    act = FormalActFactory(status=DRAFT, source=None)
    client.force_login(publisher)
    response = client.post(
        admin_url("formalact", "change", act.pk), form_data(act, status=PUBLISHED)
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["source"] == [
        "An act needs a source before it is published."
    ]
    source = SourceFactory()
    response = client.post(
        admin_url("formalact", "change", act.pk),
        form_data(act, status=PUBLISHED, source=source.pk),
    )
    assert response.status_code == 302
    act.refresh_from_db()
    assert act.status == PUBLISHED and act.first_published_at is not None


def test_the_publish_and_unpublish_actions_go_through_the_rules(client, publisher, editor):
    sourced = FormalActFactory(status=DRAFT)
    unsourced = FormalActFactory(status=DRAFT, source=None)
    client.force_login(publisher)
    client.post(
        admin_url("formalact"),
        {"action": "publish_acts", "_selected_action": [sourced.pk, unsourced.pk]},
    )
    assert FormalAct.objects.get(pk=sourced.pk).status == PUBLISHED
    assert FormalAct.objects.get(pk=unsourced.pk).status == DRAFT
    client.post(
        admin_url("formalact"), {"action": "unpublish_acts", "_selected_action": [sourced.pk]}
    )
    assert FormalAct.objects.get(pk=sourced.pk).status == DRAFT

    client.force_login(editor)
    response = client.post(
        admin_url("formalact"), {"action": "publish_acts", "_selected_action": [sourced.pk]}
    )
    assert FormalAct.objects.get(pk=sourced.pk).status == DRAFT
    assert response.status_code in (200, 302, 403)


def test_an_editor_cannot_change_a_published_act(client, editor):
    act = FormalActFactory()
    client.force_login(editor)
    response = client.post(admin_url("formalact", "change", act.pk), form_data(act, place="X"))
    assert response.status_code == 403
    assert FormalAct.objects.get().place == ""


def test_a_reservation_needs_its_text_and_the_database_says_so_too():
    act = FormalAct(
        actor=ActorFactory(),
        topic=TopicFactory(),
        kind=ActKind.RESERVATION,
        date=datetime.date(2025, 10, 25),
    )
    with pytest.raises(ValidationError) as error:
        act.full_clean()
    assert "text" in error.value.message_dict
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic(), writes.writing():
        writes.save(act)


def test_a_withdrawal_names_a_reservation_of_the_same_topic():
    reservation = FormalActFactory(kind=ActKind.RESERVATION)
    withdrawal = FormalAct(
        actor=reservation.actor,
        topic=TopicFactory(),
        kind=ActKind.RESERVATION_WITHDRAWAL,
        date=datetime.date(2025, 11, 1),
        regarding=reservation,
        source=reservation.source,
    )
    with pytest.raises(ValidationError) as error:
        withdrawal.full_clean()
    assert error.value.message_dict["regarding"] == ["Choose a reservation made on the same topic."]
    withdrawal.topic = reservation.topic
    withdrawal.full_clean()


def test_a_published_act_without_a_source_is_refused_by_the_database():
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        FormalActFactory(source=None)
