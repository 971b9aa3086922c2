"""
Email alerts end to end (alerts/): subscribe on a page, confirm by the mailed link, a change
written through the write path, one message per subscriber with a one-click unsubscribe that
works; digests; nothing for the unconfirmed, for drafts, or for edits that move no position.
"""

import datetime

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from alerts.models import Event, Notification, Subscription
from positions import writes
from positions.models import ConditionStatus, ConditionStatusChange, Stance, StatementStatus
from tests.alerts_helpers import (
    links_in,
    subscribe,
    subscribed_and_confirmed,
    tasks_at_once,  # noqa: F401 (a fixture)
)
from tests.factories import ActorFactory, ConditionFactory, QuestionFactory, StatementFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("tasks_at_once")]


@pytest.fixture
def board():
    """A question with one actor who supports it."""
    question = QuestionFactory(title="US Senate consent")
    actor = ActorFactory(name="Senator A")
    StatementFactory(question=question, actors=[actor], stance=Stance.SUPPORTS)
    return question, actor


def change_stance(on_commit, question, actor, stance=Stance.OPPOSES, **kwargs):
    with on_commit(execute=True):
        return StatementFactory(
            question=question,
            actors=[actor],
            stance=stance,
            date=datetime.date(2025, 1, 5),
            **kwargs,
        )


def test_it_subscribes_confirms_and_mails_one_alert_with_a_working_unsubscribe_link(
    client, django_capture_on_commit_callbacks, board
):
    question, actor = board
    response = subscribe(client, django_capture_on_commit_callbacks, question, "question")
    assert response.status_code == 200
    assert b"Check your inbox" in response.content
    assert b"reader@example.org" not in response.content, "the page never shows the address"
    (confirmation,) = mail.outbox
    assert confirmation.to == ["reader@example.org"]
    assert "US Senate consent" in confirmation.subject
    (confirm_path,) = links_in(confirmation)
    subscription = Subscription.objects.get()
    assert subscription.confirmed_at is None

    page = client.get(confirm_path)
    assert page.status_code == 200 and b"You are subscribed" in page.content
    assert b"reader@example.org" not in page.content
    subscription.refresh_from_db()
    assert subscription.confirmed_at is not None
    mail.outbox.clear()

    change_stance(django_capture_on_commit_callbacks, question, actor)
    assert len(mail.outbox) == 1, [m.subject for m in mail.outbox]
    (alert,) = mail.outbox
    assert alert.to == ["reader@example.org"]
    assert "Senator A: now opposes (was supports)" in alert.body
    assert "Senator A" in alert.subject
    (unsubscribe_path,) = links_in(alert)
    assert alert.extra_headers["List-Unsubscribe"] == f"<http://testserver{unsubscribe_path}>"
    assert alert.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    page = client.get(unsubscribe_path)
    assert page.status_code == 200 and b"You are unsubscribed" in page.content
    assert not Subscription.objects.exists(), "unsubscribing deletes the address"
    again = client.get(unsubscribe_path)
    assert again.status_code == 200 and b"already unsubscribed" in again.content

    change_stance(django_capture_on_commit_callbacks, question, actor, stance=Stance.SUPPORTS)
    assert mail.outbox == [alert], "nothing after unsubscribing"


def test_the_one_click_post_unsubscribes_without_a_csrf_token(
    django_capture_on_commit_callbacks, client, board
):
    from django.test import Client

    question, actor = board
    subscribed_and_confirmed(client, django_capture_on_commit_callbacks, question, "question")
    change_stance(django_capture_on_commit_callbacks, question, actor)
    (alert,) = mail.outbox
    url = alert.extra_headers["List-Unsubscribe"].strip("<>").removeprefix("http://testserver")
    mail_client = Client(enforce_csrf_checks=True)  # as a mail provider POSTs: no cookie, no token
    response = mail_client.post(url, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert not Subscription.objects.exists()


def test_an_unconfirmed_subscription_gets_nothing(
    client, django_capture_on_commit_callbacks, board
):
    question, actor = board
    subscribe(client, django_capture_on_commit_callbacks, question, "question")
    mail.outbox.clear()
    change_stance(django_capture_on_commit_callbacks, question, actor)
    assert mail.outbox == []
    assert not Event.objects.exists(), "nobody listens: nothing is recorded"


def test_a_draft_and_an_edit_that_moves_no_position_alert_nobody(
    client, django_capture_on_commit_callbacks, board
):
    question, actor = board
    subscribed_and_confirmed(client, django_capture_on_commit_callbacks, question, "question")
    subscribed_and_confirmed(
        client, django_capture_on_commit_callbacks, actor, "actor", email="other@example.org"
    )
    draft = change_stance(
        django_capture_on_commit_callbacks, question, actor, status=StatementStatus.DRAFT
    )
    assert mail.outbox == [], "a draft changes nothing readers see"
    deciding = actor.positions.get().statement
    with django_capture_on_commit_callbacks(execute=True), writes.writing():
        deciding.summary = "A better summary."
        writes.save(deciding)
        draft.stance = Stance.UNDECIDED
        writes.save(draft)
    assert mail.outbox == [], "edits that move no position"
    # A new statement with the same stance: news for the actor's followers, not a stance change.
    change_stance(django_capture_on_commit_callbacks, question, actor, stance=Stance.SUPPORTS)
    assert [m.to for m in mail.outbox] == [["other@example.org"]]
    assert "New statement by Senator A: supports" in mail.outbox[0].body
    assert not Event.objects.filter(kind="stance_changed").exists()


def test_a_new_statement_by_a_followed_actor_is_one_message_even_when_joint(
    client, django_capture_on_commit_callbacks
):
    question = QuestionFactory()
    senators = ActorFactory.create_batch(3)
    subscribed_and_confirmed(client, django_capture_on_commit_callbacks, question, "question")
    subscribed_and_confirmed(
        client, django_capture_on_commit_callbacks, senators[1], "actor", email="b@example.org"
    )
    with django_capture_on_commit_callbacks(execute=True):
        StatementFactory(question=question, actors=senators, stance=Stance.OPPOSES)
    by_reader = {m.to[0]: m for m in mail.outbox}
    assert len(mail.outbox) == 2 and set(by_reader) == {"reader@example.org", "b@example.org"}
    question_alert = by_reader["reader@example.org"]
    assert "3 changes" in question_alert.subject, "three positions, one message"
    assert question_alert.body.count("took a position: opposes") == 3


def test_a_condition_status_change_alerts_its_followers(client, django_capture_on_commit_callbacks):
    condition = ConditionFactory(text="Human-rights safeguards")
    StatementFactory(stance=Stance.CONDITIONAL, conditions=[condition])  # public: a page
    subscribed_and_confirmed(client, django_capture_on_commit_callbacks, condition, "condition")
    with django_capture_on_commit_callbacks(execute=True), writes.writing():
        writes.save(
            ConditionStatusChange(
                condition=condition, status=ConditionStatus.MET, date=datetime.date(2025, 2, 1)
            )
        )
    (alert,) = mail.outbox
    assert "“Human-rights safeguards”: now met (was open)" in alert.body


def test_a_digest_batches_several_changes_into_one_message(
    client, django_capture_on_commit_callbacks, board
):
    question, actor = board
    subscribed_and_confirmed(
        client, django_capture_on_commit_callbacks, question, "question", frequency="daily"
    )
    other = ActorFactory(name="Senator B")
    change_stance(django_capture_on_commit_callbacks, question, actor)
    change_stance(django_capture_on_commit_callbacks, question, other, stance=Stance.UNDECIDED)
    assert mail.outbox == [], "a digest reader gets nothing as it happens"
    assert Notification.objects.filter(sent_at__isnull=True).count() == 2

    call_command("send_digests", verbosity=0)
    (digest,) = mail.outbox
    assert digest.subject.startswith("Daily digest: 2 changes")
    assert "Senator A: now opposes (was supports)" in digest.body
    assert "Senator B took a position: undecided" in digest.body
    assert digest.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert links_in(digest)

    call_command("send_digests", verbosity=0)
    assert len(mail.outbox) == 1, "what a digest sent is not sent again"


def test_a_subscription_hears_only_changes_after_it_was_confirmed(
    client, django_capture_on_commit_callbacks, board
):
    question, actor = board
    subscribed_and_confirmed(client, django_capture_on_commit_callbacks, question, "question")
    Subscription.objects.update(confirmed_at=timezone.now() + datetime.timedelta(hours=1))
    change_stance(django_capture_on_commit_callbacks, question, actor)
    assert mail.outbox == []


def test_a_failed_send_is_tried_again_by_the_catch_up(
    client, django_capture_on_commit_callbacks, board, monkeypatch
):
    from django.core.mail import EmailMessage

    from alerts import delivery

    question, actor = board
    subscribed_and_confirmed(client, django_capture_on_commit_callbacks, question, "question")

    def refuse(self, fail_silently=False):
        raise ConnectionRefusedError("SMTP server down")

    with monkeypatch.context() as patched:
        patched.setattr(EmailMessage, "send", refuse)
        change_stance(django_capture_on_commit_callbacks, question, actor)
    notification = Notification.objects.get()
    assert notification.sent_at is None and "SMTP server down" in notification.last_error
    Notification.objects.update(created_at=timezone.now() - datetime.timedelta(minutes=5))
    delivery.catch_up()
    assert len(mail.outbox) == 1
