"""
Undoing an import (positions/exchange/batches.py): every confirmed import is recorded as a
batch; a Publisher can undo it while nothing it wrote changed since, and the undo puts every
table back exactly as it was.

The dump compares every model of the record (positions' models and the statement-condition
links), and the derived Position table without its ids (a refresh writes new rows). It
leaves out, on purpose, the history tables (the import and its undo each add rows there:
that is the audit trail, checked apart) and the batches themselves.
"""

import datetime
import io
import warnings

import pytest
from django.core.management import CommandError, call_command

from positions import stances, writes
from positions.exchange import TYPES, ImportContext, batches, import_bytes
from positions.models import (
    Actor,
    ActorIdentifier,
    ImportBatch,
    Membership,
    Position,
    Signatory,
    Stance,
    Statement,
)
from tests.admin_builders import staff_in
from tests.factories import (
    ActorFactory,
    ConditionFactory,
    MembershipFactory,
    QuestionFactory,
    SourceFactory,
    StatementFactory,
)

pytestmark = pytest.mark.django_db

STATEMENTS_HEADER = (
    "import_ref,question,date,stance,signatories,conditions,summary,attribution,source,status"
)


def csv(*lines):
    return ("\r\n".join(lines) + "\r\n").encode()


def dump():
    """Every row of the record as stored, by table; positions without their ids."""
    tables = {}
    for model in batches.record_models():
        names = [f.attname for f in model._meta.concrete_fields]
        tables[model._meta.db_table] = list(model.objects.order_by("pk").values_list(*names))
    names = [f.attname for f in Position._meta.concrete_fields if not f.primary_key]
    tables["positions_position"] = sorted(Position.objects.values_list(*names))
    return tables


@pytest.fixture
def strict():
    with warnings.catch_warnings():
        warnings.simplefilter("error", writes.UnrecordedWrite)
        yield


@pytest.fixture
def publisher():
    return staff_in("Publishers")


@pytest.fixture
def world():
    """A small record: actors with identifiers and memberships, statements with signatures
    and conditions, and the positions they decide."""
    question = QuestionFactory(topic__slug="uncc", slug="ratification")
    senate = ActorFactory(slug="senate", name="Senate", kind="legislative_group")
    wyden = ActorFactory(
        slug="wyden", name="Ron Wyden", kind="legislator", description="Senator from Oregon."
    )
    kaine = ActorFactory(slug="kaine", name="Tim Kaine", kind="legislator")
    with writes.writing():
        writes.save(ActorIdentifier(actor=wyden, scheme="bioguide", identifier="W000779"))
        writes.save(ActorIdentifier(actor=wyden, scheme="wikidata", identifier="Q1"))
    MembershipFactory(member=wyden, organization=senate, start_date=datetime.date(1996, 2, 6))
    MembershipFactory(member=kaine, organization=senate, start_date=datetime.date(2013, 1, 3))
    SourceFactory(url="https://example.org/letter")
    SourceFactory(url="https://example.org/later")
    ConditionFactory(slug="human-rights")
    ConditionFactory(slug="oversight")
    letter = StatementFactory(
        question=question,
        actors=[wyden, kaine],
        stance=Stance.CONDITIONAL,
        conditions=[],
        date=datetime.date(2024, 10, 1),
    )
    with writes.writing():
        letter.import_ref = "letter"
        letter.source = SourceFactory(url="https://example.org/first")
        writes.save(letter)
        letter.conditions.set(ConditionFactory.create_batch(1, slug="safeguards"))
    return question


ACTORS_FILE = csv(
    "slug,name,kind,parent,description,identifiers",
    # An update: new name, cleared description, one identifier gone and one added.
    "wyden,Ronald Wyden,legislator,senate,,bioguide:W000779|opensecrets:N00007724",
    "kaine,Tim Kaine,legislator,,,",  # unchanged
    "markey,Ed Markey,legislator,senate,Senator from Massachusetts.,bioguide:M000133",
    "markey-office,Office of Ed Markey,government,markey,,",
)

STATEMENTS_FILE = csv(
    STATEMENTS_HEADER,
    # An update: another stance and conditions; the lead moves from wyden to kaine.
    '"letter","uncc/ratification","2024-10-01","conditional","wyden|kaine*",'
    '"human-rights|oversight","They demand safeguards.","own_words",'
    '"https://example.org/first","published"',
    # New: a later statement by wyden (it becomes his position) and one by markey.
    '"later","uncc/ratification","2024-11-05","opposes","wyden*|markey",'
    '"","They oppose it.","own_words","https://example.org/later","published"',
)


def run(kind, data, user=None, file_name=None, **context):
    file_name = file_name or f"{kind}.csv"
    context = ImportContext(
        user=user, file_name=file_name, can_publish=True, blanks="clear", **context
    )
    report = import_bytes(TYPES[kind], data, file_name, context=context)
    assert report.ok, report.errors
    return report


def positions_on(question):
    return sorted(
        (p.actor.slug, p.stance, p.statement.import_ref)
        for p in Position.objects.filter(question=question).select_related("actor", "statement")
    )


def test_it_restores_every_table_exactly_after_an_import_of_actors_and_statements(
    world, strict, publisher
):
    before = dump()
    board = positions_on(world)
    actors = run("actors", ACTORS_FILE, user=publisher).batch
    statements = run("statements", STATEMENTS_FILE, user=publisher).batch
    assert dump() != before
    assert positions_on(world) != board

    batches.undo(statements, publisher)
    batches.undo(actors, publisher)

    assert dump() == before
    assert positions_on(world) == board
    assert stances.current_positions(world) is not None
    wyden = Actor.objects.get(slug="wyden")
    assert wyden.description == "Senator from Oregon."
    assert set(wyden.identifiers.values_list("scheme", "identifier")) == {
        ("bioguide", "W000779"),
        ("wikidata", "Q1"),
    }
    assert Membership.objects.count() == 2


def test_it_records_who_imported_what_and_how_many(world, publisher):
    report = run("actors", ACTORS_FILE, user=publisher, file_name="senators.csv")
    batch = ImportBatch.objects.get()
    assert report.batch == batch
    assert (batch.user, batch.file_name, batch.kind) == (publisher, "senators.csv", "actors")
    assert (batch.new_rows, batch.changed_rows, batch.unchanged_rows) == (2, 1, 1)
    assert batch.created_at is not None and not batch.is_undone
    assert batches.summary(batch) == [
        # (model, created, updated, deleted): 2 actors created and wyden updated;
        # markey's identifier and wyden's new one created, wyden's wikidata one removed.
        ("actor identifiers", 2, 0, 1),
        ("actors", 2, 1, 0),
    ]
    wyden = Actor.objects.get(slug="wyden")
    assert wyden.history.first().history_change_reason == (
        f"Imported from senators.csv (import #{batch.pk})"
    )


def test_it_records_an_unchanged_reimport_as_a_batch_that_wrote_nothing(world, publisher):
    run("actors", ACTORS_FILE, user=publisher)
    again = run("actors", ACTORS_FILE, user=publisher).batch
    assert (again.new_rows, again.changed_rows, again.unchanged_rows) == (0, 0, 4)
    assert not again.changes.exists()


def test_it_puts_history_on_record_as_an_undo(world, publisher):
    run("actors", ACTORS_FILE, user=publisher)
    batch = run("statements", STATEMENTS_FILE, user=publisher).batch
    batches.undo(batch, publisher)
    letter = Statement.objects.get(import_ref="letter")
    latest = letter.history.first()
    assert latest.history_change_reason == f"Undo of import #{batch.pk}"
    assert latest.history_user == publisher
    assert latest.stance == Stance.CONDITIONAL
    assert [c.condition.slug for c in latest.conditions.all()] == ["safeguards"]
    gone = Statement.history.filter(import_ref="later", history_type="-").get()
    assert gone.history_change_reason == f"Undo of import #{batch.pk}"


def test_it_refuses_and_changes_nothing_when_a_record_it_wrote_was_edited_since(world, publisher):
    batch = run("actors", ACTORS_FILE, user=publisher).batch
    markey = Actor.objects.get(slug="markey")
    with writes.writing():
        markey.description = "Edited by an editor after the import."
        writes.save(markey)
    edited = dump()

    with pytest.raises(batches.UndoRefused) as refused:
        batches.undo(batch, publisher)

    assert dump() == edited
    assert [(c.model, c.name, c.url) for c in refused.value.conflicts] == [
        ("actor", "Ed Markey", f"/admin/positions/actor/{markey.pk}/change/")
    ]
    assert "was edited after the import" in refused.value.conflicts[0].reason
    batch.refresh_from_db()
    assert not batch.is_undone


def test_it_refuses_when_a_record_now_refers_to_one_it_created(world, publisher):
    batch = run("actors", ACTORS_FILE, user=publisher).batch
    markey = Actor.objects.get(slug="markey")
    membership = MembershipFactory(member=markey, organization=Actor.objects.get(slug="senate"))
    with pytest.raises(batches.UndoRefused) as refused:
        batches.undo(batch, publisher)
    (conflict,) = refused.value.conflicts
    assert conflict.model == "membership"
    assert conflict.url == f"/admin/positions/membership/{membership.pk}/change/"
    assert "which the import created" in conflict.reason
    assert Actor.objects.filter(slug="markey").exists()


def test_it_refuses_when_a_record_it_created_was_deleted_since(world, publisher):
    batch = run("actors", ACTORS_FILE, user=publisher).batch
    office = Actor.objects.get(slug="markey-office")
    office_id = office.pk
    with writes.writing():
        writes.delete(office)
    with pytest.raises(batches.UndoRefused) as refused:
        batches.undo(batch, publisher)
    (conflict,) = refused.value.conflicts
    assert (conflict.name, conflict.url) == (
        "Office of Ed Markey",
        f"/admin/positions/actor/{office_id}/history/",
    )
    assert "deleted" in conflict.reason


def test_it_refuses_to_put_back_an_identifier_taken_since(world, publisher):
    batch = run("actors", ACTORS_FILE, user=publisher).batch
    with writes.writing():
        kaine = Actor.objects.get(slug="kaine")
        writes.save(ActorIdentifier(actor=kaine, scheme="wikidata", identifier="Q1"))
    edited = dump()
    with pytest.raises(batches.UndoRefused) as refused:
        batches.undo(batch, publisher)
    assert dump() == edited
    assert "cannot be put back" in refused.value.conflicts[0].reason


def test_it_cannot_undo_a_batch_twice(world, publisher):
    batch = run("actors", ACTORS_FILE, user=publisher).batch
    batches.undo(batch, publisher)
    undone = dump()
    with pytest.raises(batches.UndoRefused, match="already undone"):
        batches.undo(batch, publisher)
    assert dump() == undone
    batch.refresh_from_db()
    assert (batch.is_undone, batch.undone_by) == (True, publisher)


def test_only_publishers_may_undo(world, publisher):
    batch = run("actors", ACTORS_FILE, user=publisher).batch
    imported = dump()
    with pytest.raises(batches.UndoRefused, match="Only a Publisher"):
        batches.undo(batch, staff_in("Editors"))
    assert dump() == imported


def test_a_later_import_of_the_same_records_must_be_undone_first(world, publisher):
    first = run("actors", ACTORS_FILE, user=publisher).batch
    second = run(
        "actors", csv("slug,name,kind", "markey,Edward Markey,legislator"), user=publisher
    ).batch
    with pytest.raises(batches.UndoRefused):
        batches.undo(first, publisher)
    batches.undo(second, publisher)
    batches.undo(first, publisher)
    assert not Actor.objects.filter(slug="markey").exists()


def test_undoing_the_actors_before_their_statements_names_the_signatures(world, publisher):
    actors = run("actors", ACTORS_FILE, user=publisher).batch
    run("statements", STATEMENTS_FILE, user=publisher)
    with pytest.raises(batches.UndoRefused) as refused:
        batches.undo(actors, publisher)
    (conflict,) = refused.value.conflicts
    later = Statement.objects.get(import_ref="later")
    assert conflict.model == "signature"
    assert conflict.url == f"/admin/positions/statement/{later.pk}/change/"


def test_the_command_undoes_a_batch_and_says_so(world, publisher):
    batch = run("actors", ACTORS_FILE).batch
    out = io.StringIO()
    call_command("undo_import", str(batch.pk), stdout=out)
    assert f"Undid import #{batch.pk}" in out.getvalue()
    assert not Actor.objects.filter(slug="markey").exists()
    with pytest.raises(CommandError, match="already undone"):
        call_command("undo_import", str(batch.pk))
    with pytest.raises(CommandError, match="No import #999"):
        call_command("undo_import", "999")


def test_the_command_lists_what_changed_and_undoes_nothing(world):
    batch = run("actors", ACTORS_FILE).batch
    with writes.writing():
        markey = Actor.objects.get(slug="markey")
        markey.name = "Edward J. Markey"
        writes.save(markey)
    err = io.StringIO()
    with pytest.raises(CommandError, match="cannot be undone"):
        call_command("undo_import", str(batch.pk), stderr=err)
    assert "actor 'Edward J. Markey': was edited after the import." in err.getvalue()
    assert Actor.objects.filter(slug="markey").exists()


def test_signatures_swapped_lead_come_back_in_order(world, publisher):
    letter = Statement.objects.get(import_ref="letter")
    before = list(letter.signatures.values_list("actor__slug", "order", "is_lead"))
    run("actors", ACTORS_FILE, user=publisher)
    batch = run("statements", STATEMENTS_FILE, user=publisher).batch
    assert Signatory.objects.get(statement=letter, is_lead=True).actor.slug == "kaine"
    batches.undo(batch, publisher)
    assert list(letter.signatures.values_list("actor__slug", "order", "is_lead")) == before


def test_import_data_names_its_batch_and_undo_import_takes_it_back(world, tmp_path):
    before = dump()
    path = tmp_path / "senators.csv"
    path.write_bytes(ACTORS_FILE)
    out = io.StringIO()
    call_command("import_data", "actors", str(path), "--clear", "--no-progress", stdout=out)
    batch = ImportBatch.objects.get()
    assert f"recorded as import #{batch.pk}" in out.getvalue()
    assert batch.user is None, "the server's operator"
    call_command("undo_import", str(batch.pk), stdout=io.StringIO())
    assert dump() == before


def test_it_undoes_an_import_of_a_type_without_relations(world, publisher):
    before = dump()
    sources = csv(
        "url,title,publisher,kind,published_on",
        "https://example.org/letter,The senators' letter,Senate,letter,2024-11-01",
        "https://example.org/new,A new report,Example News,report,2024-12-01",
    )
    batch = run("sources", sources, user=publisher).batch
    assert (batch.new_rows, batch.changed_rows) == (1, 1)
    batches.undo(batch, publisher)
    assert dump() == before
