"""
The write path's extension point (positions/writes.py → alerts/outbox.py): events are
recorded in the write's own transaction, only when someone listens, never for a rollback, a
rebuild, a draft or an edit that moves no position; delivery is queued on commit and run by
the real worker command. The cost a write pays is pinned.
"""

import datetime

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tasks_db.management.commands import db_worker

from alerts.models import Event, EventKind, Subscription, Webhook
from positions import writes
from positions.models import Stance, StatementStatus
from tests.factories import ActorFactory, QuestionFactory, StatementFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def board(settings):
    settings.SITE_URL = "http://testserver"
    question = QuestionFactory(title="US Senate consent")
    actor = ActorFactory(name="Senator A")
    StatementFactory(question=question, actors=[actor], stance=Stance.SUPPORTS)
    return question, actor


def confirmed_subscriber(**target):
    from django.utils import timezone

    return Subscription.objects.create(
        email="reader@example.org", confirmed_at=timezone.now(), **target
    )


def new_statement(question, actor, stance=Stance.OPPOSES, **kwargs):
    return StatementFactory(
        question=question, actors=[actor], stance=stance, date=datetime.date(2025, 1, 5), **kwargs
    )


def test_a_stance_change_is_recorded_in_its_transaction_and_queued_on_commit(
    board, django_capture_on_commit_callbacks, settings
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    from django_tasks import task_backends

    question, actor = board
    confirmed_subscriber(question=question)
    with django_capture_on_commit_callbacks() as callbacks:
        new_statement(question, actor)
        kinds = sorted(Event.objects.values_list("kind", flat=True))
        assert kinds == [EventKind.STANCE_CHANGED, EventKind.STATEMENT_PUBLISHED]
        assert task_backends["default"].results == [], "nothing is queued before the commit"
    event = Event.objects.get(kind=EventKind.STANCE_CHANGED)
    assert (event.question, event.actor) == (question, actor)
    assert event.data["from"] == "supports" and event.data["to"] == "opposes"
    assert len({e.batch for e in Event.objects.all()}) == 1, "one write session, one batch"
    for callback in callbacks:
        callback()
    (queued,) = task_backends["default"].results
    assert queued.task.name == "dispatch" and queued.args == [str(event.batch)]


def test_a_rolled_back_write_records_nothing(board):
    question, actor = board
    confirmed_subscriber(question=question)
    with pytest.raises(RuntimeError), writes.writing():
        new_statement(question, actor)
        raise RuntimeError("the editor's save failed")
    assert not Event.objects.exists()


def test_a_rebuild_of_every_position_is_not_news(board):
    """A rebuild (refresh_positions, a restore, generated data) re-derives the record."""
    Webhook.objects.create(name="All", url="https://hooks.example.org/x")
    call_command("refresh_positions", verbosity=0)
    assert not Event.objects.exists()


def test_retracting_the_deciding_statement_is_a_stance_change_to_none(board):
    question, actor = board
    confirmed_subscriber(question=question)
    deciding = actor.positions.get().statement
    with writes.writing():
        deciding.correction_note = "Misattributed."
        deciding.mark_status(StatementStatus.RETRACTED)
        writes.save(deciding)
    event = Event.objects.get()
    assert (event.kind, event.data["from"], event.data["to"]) == (
        EventKind.STANCE_CHANGED,
        "supports",
        None,
    )


def test_publishing_a_draft_is_a_new_statement_and_a_stance_change(board):
    question, actor = board
    confirmed_subscriber(actor=actor)
    draft = new_statement(question, actor, status=StatementStatus.DRAFT)
    assert not Event.objects.exists()
    with writes.writing():
        draft.mark_status(StatementStatus.PUBLISHED)
        writes.save(draft)
    assert sorted(Event.objects.values_list("kind", flat=True)) == [
        EventKind.STANCE_CHANGED,
        EventKind.STATEMENT_PUBLISHED,
    ]
    Event.objects.all().delete()
    with writes.writing():  # unpublished and published again: not new
        draft.mark_status(StatementStatus.DRAFT)
        writes.save(draft)
        draft.mark_status(StatementStatus.PUBLISHED)
        writes.save(draft)
    assert not Event.objects.filter(kind=EventKind.STATEMENT_PUBLISHED).exists()


def test_the_write_path_pays_one_query_when_nobody_listens_and_a_few_when_someone_does(board):
    question, actor = board
    deciding = actor.positions.get().statement

    def flip(stance):
        with CaptureQueriesContext(connection) as queries, writes.writing():
            deciding.stance = stance
            writes.save(deciding)
        return [q["sql"] for q in queries]

    nobody = flip(Stance.OPPOSES)
    confirmed_subscriber(question=question)
    someone = flip(Stance.UNDECIDED)
    # With a listener, the session also reads: the positions before the refresh, the
    # statements first published in it; and writes the batch's events (one insert).
    assert len(someone) - len(nobody) == 3, "\n".join(someone)
    assert sum("alerts_subscription" in sql for sql in nobody) == 1, "only `listening`"


def test_the_database_worker_delivers_the_alert(board, settings, monkeypatch, client):
    # The worker closes connections it finds inside a transaction: the test's own is one.
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }
    question, actor = board
    confirmed_subscriber(question=question)
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        new_statement(question, actor)
    assert mail.outbox == [], "the write only queued the delivery"
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    (alert,) = mail.outbox
    assert "Senator A: now opposes (was supports)" in alert.body
