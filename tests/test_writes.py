"""
The write path (positions/writes.py): every writer of the app goes through it, positions and
the page cache follow once per write session, and only when something that decides them
changed. The guard repairs (and warns of) a write that bypasses it.
"""

import warnings

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from positions import caching, stances, writes
from positions.models import Actor, Position, Signatory, Stance, Statement, StatementStatus
from tests.admin_builders import admin_url, staff_in, statement_form_data
from tests.factories import ActorFactory, QuestionFactory, SourceFactory, StatementFactory

PUBLISHED = StatementStatus.PUBLISHED


@pytest.fixture
def publisher(db):
    return staff_in("Publishers")


def positions_equal_the_record():
    """The Position table as `stances` computes it from the record, for every question."""
    kept = set(Position.objects.values_list("question_id", "actor_id", "statement_id", "stance"))
    with writes.writing():
        writes.rebuild_positions()
    rebuilt = set(Position.objects.values_list("question_id", "actor_id", "statement_id", "stance"))
    return kept == rebuilt


@pytest.fixture
def strict():
    """A write outside the write path fails the test instead of being repaired."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", writes.UnrecordedWrite)
        yield


def refreshes_during(action):
    """How many times `action` refreshed positions (each refresh locks its actors once)."""
    calls = []
    original = stances.refresh_positions

    def counting(actor_ids=None, progress=None, **kwargs):
        calls.append(actor_ids)
        return original(actor_ids, progress, **kwargs)

    stances.refresh_positions = counting
    try:
        action()
    finally:
        stances.refresh_positions = original
    return calls


# --- Sessions ---------------------------------------------------------------------------------


def test_a_session_refreshes_once_for_everything_it_wrote(db, strict):
    question = QuestionFactory()
    actors = ActorFactory.create_batch(3)

    def write():
        with writes.writing():
            for actor in actors:
                statement = Statement(
                    question=question,
                    date="2024-10-01",
                    stance=Stance.OPPOSES,
                    summary="Opposes.",
                    source=SourceFactory(),
                    status=PUBLISHED,
                )
                writes.save(statement)
                writes.save(Signatory(statement=statement, actor=actor, is_lead=True))

    calls = refreshes_during(write)
    assert len(calls) == 1
    assert set(calls[0]) == {a.pk for a in actors}
    assert Position.objects.filter(question=question, stance=Stance.OPPOSES).count() == 3


def test_a_nested_session_belongs_to_the_outer_one(db, strict):
    statement = StatementFactory(stance=Stance.SUPPORTS)
    with writes.writing() as outer:
        with writes.writing() as inner:
            statement.stance = Stance.OPPOSES
            writes.save(statement)
        assert inner is outer
        assert Position.objects.get().stance == Stance.SUPPORTS, "not before the outer ends"
    assert Position.objects.get().stance == Stance.OPPOSES


def test_a_session_that_fails_writes_nothing_and_bumps_nothing(db, strict):
    statement = StatementFactory(stance=Stance.SUPPORTS)
    version = caching.data_version()
    with pytest.raises(RuntimeError), writes.writing():
        statement.stance = Stance.OPPOSES
        writes.save(statement)
        raise RuntimeError("the editor's connection dropped")
    assert Statement.objects.get().stance == Stance.SUPPORTS
    assert Position.objects.get().stance == Stance.SUPPORTS
    assert caching.data_version() == version


def test_a_summary_edit_refreshes_no_position_but_makes_pages_stale(db, strict):
    statement = StatementFactory()
    board = caching.question_scope(statement.question.topic.slug, statement.question.slug)
    version, site, everything = (
        caching.scope_version(board),
        caching.scope_version(caching.SITE),
        caching.data_version(),
    )

    def edit():
        with writes.writing():
            statement.summary = "A clearer summary."
            writes.save(statement)

    assert refreshes_during(edit) == []
    # The board's pages and the site's lists go stale; pages elsewhere keep theirs.
    assert caching.scope_version(board) != version
    assert caching.scope_version(caching.SITE) != site
    assert caching.data_version() == everything


def test_recording_outside_a_session_is_refused(db):
    with pytest.raises(RuntimeError, match="writing"):
        writes.statements_changed([1])


def test_the_guard_repairs_and_reports_a_write_that_bypassed_the_path(db):
    statement = StatementFactory(stance=Stance.SUPPORTS)
    version = caching.data_version()
    statement.stance = Stance.OPPOSES
    with pytest.warns(writes.UnrecordedWrite, match="Statement"):
        statement.save()
    assert Position.objects.get().stance == Stance.OPPOSES
    assert caching.data_version() != version
    with pytest.warns(writes.UnrecordedWrite, match="deleted"):
        statement.delete()
    assert not Position.objects.exists()


# --- Every writer of the app goes through it ----------------------------------------------


def test_the_admin_add_change_action_revert_and_delete_go_through_the_path(
    client, publisher, strict, django_user_model
):
    client.force_login(publisher)
    question, source = QuestionFactory(), SourceFactory()
    actors = ActorFactory.create_batch(3)
    data = statement_form_data(
        signatories=actors,
        question=question.pk,
        source=source.pk,
        summary="First.",
        status=PUBLISHED,
    )
    assert client.post(admin_url("statement", "add"), data).status_code == 302
    statement = Statement.objects.get()
    assert Position.objects.filter(statement=statement).count() == 3

    data = statement_form_data(statement, stance=Stance.OPPOSES)
    assert client.post(admin_url("statement", "change", statement.pk), data).status_code == 302
    assert set(Position.objects.values_list("stance", flat=True)) == {Stance.OPPOSES}

    first_version = statement.history.order_by("history_id").first()
    revert = admin_url("statement", "simple_history", statement.pk, first_version.history_id)
    data = statement_form_data(statement, stance=Stance.SUPPORTS)
    assert client.post(revert, data).status_code == 302
    assert set(Position.objects.values_list("stance", flat=True)) == {Stance.SUPPORTS}

    action = {"action": "unpublish_statements", "_selected_action": [statement.pk]}
    assert client.post(admin_url("statement"), action).status_code == 302
    assert not Position.objects.exists()

    actor = actors[0]
    data = {
        "name": "Renamed",
        "slug": actor.slug,
        "kind": actor.kind,
        "country": "",
        "parent": "",
        "aliases": "",
        "description": "",
        "website": "",
        "identifiers-TOTAL_FORMS": "0",
        "identifiers-INITIAL_FORMS": "0",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
    }
    assert client.post(admin_url("actor", "change", actor.pk), data).status_code == 302
    assert Actor.objects.get(pk=actor.pk).name == "Renamed"

    superuser = django_user_model.objects.create_superuser("root", password="x")
    client.force_login(superuser)
    other = StatementFactory()
    response = client.post(admin_url("statement", "delete", other.pk), {"post": "yes"})
    assert response.status_code == 302
    assert positions_equal_the_record()


def test_merging_actors_in_the_admin_goes_through_the_path(client, publisher, strict):
    keep, duplicate, cosigner = ActorFactory.create_batch(3)
    StatementFactory(actors=[duplicate, cosigner, keep])
    StatementFactory(actors=[duplicate], stance=Stance.OPPOSES)
    client.force_login(publisher)
    merge = admin_url("actor", "merge", duplicate.pk)
    assert client.post(merge, {"keep": keep.pk}).status_code == 302
    assert not Actor.objects.filter(pk=duplicate.pk).exists()
    assert set(Position.objects.values_list("actor_id", flat=True)) == {keep.pk, cosigner.pk}
    assert positions_equal_the_record()


def test_imports_restores_and_commands_go_through_the_path(db, strict, tmp_path, publisher):
    call_command("load_demo", verbosity=0)
    assert Position.objects.exists()
    assert positions_equal_the_record()

    call_command("refresh_positions", verbosity=0)
    backup = tmp_path / "backup.jsonl.gz"
    call_command("backup", str(backup), verbosity=0)
    call_command("restore", str(backup), force=True, verbosity=0)
    assert positions_equal_the_record()

    exported = tmp_path / "statements.csv"
    call_command("import_data", "statements", str(_demo_statements_csv(exported)), verbosity=0)
    assert positions_equal_the_record()


def _demo_statements_csv(path):
    """The demo's statements as the export writes them, with every stance turned around."""
    from django.test import Client

    response = Client().get("/data/statements.csv")
    body = b"".join(response.streaming_content).decode()
    flipped = body.replace(",supports,", ",opposes,")
    path.write_text(flipped)
    return path


# --- Query counts -------------------------------------------------------------------------------


def test_creating_a_statement_of_three_signatories_in_the_admin_is_pinned(client, publisher):
    client.force_login(publisher)
    question, source = QuestionFactory(), SourceFactory()
    actors = ActorFactory.create_batch(3)
    data = statement_form_data(
        signatories=actors, question=question.pk, source=source.pk, summary="A.", status=PUBLISHED
    )
    ContentType.objects.clear_cache()  # The admin log looks its content type up once.
    with CaptureQueriesContext(connection) as queries:
        assert client.post(admin_url("statement", "add"), data).status_code == 302
    # Was 75, with a refresh of positions per signatory (signals).
    assert len(queries) == ADD_QUERIES, "\n".join(q["sql"] for q in queries)
    assert Position.objects.filter(question=question).count() == 3


def test_resaving_only_the_summary_in_the_admin_is_pinned(client, publisher):
    client.force_login(publisher)
    statement = StatementFactory(actors=ActorFactory.create_batch(3))
    data = statement_form_data(statement, summary="Only the summary changes.")
    ContentType.objects.clear_cache()
    with CaptureQueriesContext(connection) as queries:
        url = admin_url("statement", "change", statement.pk)
        assert client.post(url, data).status_code == 302
    # Was 59, with a refresh for a save that moves no position.
    assert len(queries) == RESAVE_QUERIES, "\n".join(q["sql"] for q in queries)


# Each includes the two queries of the pages' scopes (writes.Changes.page_scopes: the
# questions and the actors whose pages show the statement) and one of the alerts' outbox
# (`alerts.outbox.listening`: does anyone follow what this write moves?); nobody does here,
# so the session says no more. Two more keep the actors only drafts name
# (`HiddenActor.refresh`: its rows of the actors refreshed, deleted and recomputed), and
# three the question's tallies by day (`stances.refresh_stance_counts`: the questions
# written on, their rows out and back in). A re-save in the admin has one more: its form
# writes the statement's conditions, so the positions it decides say again whether it names
# one (`stances.refresh_names_conditions`; a new statement's positions are computed anew).
# Two more keep the sources no public statement cites when a statement is new or its status
# may have changed (`HiddenSource.refresh`: the rows of the sources the statements cite,
# deleted and recomputed; a third inserts any hidden); a re-save of the summary has none.
# Two more keep the numbers of statements by status and stance with the tallies by day
# (`StatementCount.refresh`: the question's rows out, and counted back in), likewise.
ADD_QUERIES = 53
RESAVE_QUERIES = 39


def test_writing_a_statement_of_three_signatories_is_pinned(db, strict):
    question, source = QuestionFactory(), SourceFactory()
    actors = ActorFactory.create_batch(3)
    with CaptureQueriesContext(connection) as queries, writes.writing():
        statement = Statement(
            question=question,
            date="2024-10-01",
            stance=Stance.SUPPORTS,
            summary="A.",
            source=source,
            status=PUBLISHED,
        )
        writes.save(statement)
        for order, actor in enumerate(actors):
            writes.save(Signatory(statement=statement, actor=actor, order=order))
    # Was 37: a refresh of positions for every signature saved, each locking its actors.
    assert len(queries) == ORM_ADD_QUERIES, "\n".join(q["sql"] for q in queries)


def test_resaving_a_summary_is_pinned(db, strict):
    statement = StatementFactory(actors=ActorFactory.create_batch(3))
    with CaptureQueriesContext(connection) as queries, writes.writing():
        statement.summary = "Only the summary changes."
        writes.save(statement)
    # Was 11: a save refreshed its actors' positions whatever it changed.
    assert len(queries) == ORM_RESAVE_QUERIES, "\n".join(q["sql"] for q in queries)


# The scopes, the outbox, `HiddenActor`, `HiddenSource`, the day tallies and the numbers of
# statements, as above.
ORM_ADD_QUERIES = 31
ORM_RESAVE_QUERIES = 9
