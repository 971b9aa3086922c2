"""
What makes a large actor import fast must not change what it writes or checks: new records
and their history rows in bulk (COPY on PostgreSQL) are the records and history records
simple-history's own bulk helper writes; a database refusal is still Django's
IntegrityError; a re-import reads only the file's actors and identifiers, two queries a
batch of rows, whatever else the database holds; a row that writes nothing is not
validated again, a row that writes is.
"""

import pytest
from django.db import IntegrityError, transaction
from simple_history.utils import bulk_create_with_history

from positions import writes
from positions.exchange import TYPES, ImportContext, import_bytes
from positions.exchange.bulk import create_with_history
from positions.exchange.planners import ActorPlanner
from positions.models import Actor, ActorIdentifier, ActorKind
from tests.factories import ActorFactory, UserFactory

pytestmark = pytest.mark.django_db

HEADER = "slug,name,kind,country,parent,aliases,description,website,identifiers"
# History fields that differ between any two writes of the same values.
PER_WRITE = {"id", "history_id", "history_date", "slug", "name", "created_at", "updated_at"}


def actors(prefix, count, parent=None):
    return [
        Actor(
            slug=f"{prefix}-{i}",
            name=f"{prefix} {i}",
            kind=ActorKind.LEGISLATOR,
            country="US",
            parent=parent,
            aliases=f"P. {i}\nPerson {i}",
            description=f"Person {i}.",
            website=f"https://example.org/{i}",
        )
        for i in range(count)
    ]


def test_new_records_get_their_ids_and_one_history_record_each():
    user = UserFactory()
    body = ActorFactory(slug="senate", kind=ActorKind.LEGISLATIVE_GROUP)
    new = actors("p", 3, parent=body)
    with writes.writing():
        create_with_history(new, Actor, user=user, reason="Imported from a.csv")
    assert all(a.pk for a in new)
    for actor in new:
        stored = Actor.objects.get(pk=actor.pk)
        assert (stored.slug, stored.name, stored.country.code, stored.parent_id) == (
            actor.slug,
            actor.name,
            "US",
            body.pk,
        )
        assert stored.created_at == actor.created_at and stored.created_at is not None
        (record,) = Actor.history.filter(id=actor.pk)
        assert record.history_type == "+" and record.history_user == user
        assert record.history_change_reason == "Imported from a.csv"
        assert (record.slug, record.aliases, record.parent_id, record.created_at) == (
            stored.slug,
            stored.aliases,
            body.pk,
            stored.created_at,
        )
    # The instances are saved ones: their identifiers can point at them.
    with writes.writing():
        create_with_history(
            [ActorIdentifier(actor=new[0], scheme="wikidata", identifier="Q1")], ActorIdentifier
        )
    assert new[0].identifiers.get().identifier == "Q1"
    assert ActorIdentifier.history.get(identifier="Q1").actor_id == new[0].pk


def test_the_history_records_are_those_simple_history_writes():
    """The PostgreSQL COPY path and simple-history's bulk helper, side by side."""
    user = UserFactory()
    with writes.writing():
        ours = create_with_history(actors("ours", 2), Actor, user=user, reason="Imported")
        theirs = bulk_create_with_history(
            actors("theirs", 2), Actor, default_user=user, default_change_reason="Imported"
        )

    def history_of(records):
        return [
            {k: v for k, v in row.items() if k not in PER_WRITE}
            for row in Actor.history.filter(id__in=[r.pk for r in records])
            .order_by("slug")
            .values()
        ]

    assert history_of(ours) == history_of(theirs) and len(history_of(ours)) == 2


def test_a_record_taken_meanwhile_is_refused_as_an_integrity_error():
    ActorFactory(slug="taken-0")
    with pytest.raises(IntegrityError), transaction.atomic(), writes.writing():
        create_with_history(actors("taken", 2), Actor)
    assert Actor.objects.filter(slug__startswith="taken").count() == 1
    assert not Actor.history.filter(slug="taken-1").exists()


def actor_lines(count):
    return [
        f"p-{i},Person {i},legislator,US,senate,P. {i},Person {i}.,https://example.org/{i},"
        f"wikidata:Q{i + 1}|bioguide:P{i:06d}"
        for i in range(count)
    ]


def run(lines, dry_run=False):
    data = ("\r\n".join([HEADER, *lines]) + "\r\n").encode()
    context = ImportContext(file_name="a.csv", can_publish=True)
    return import_bytes(TYPES["actors"], data, "a.csv", context=context, dry_run=dry_run)


@pytest.mark.parametrize(
    ("rows", "batch_size", "batches"), [(10, 900, 1), (300, 900, 1), (300, 100, 4)]
)
def test_a_re_import_reads_only_the_files_actors_in_two_queries_a_batch(
    django_assert_num_queries, monkeypatch, rows, batch_size, batches
):
    ActorFactory(slug="senate", kind=ActorKind.LEGISLATIVE_GROUP)
    assert run(actor_lines(rows)).created == rows
    others = ActorFactory.create_batch(5)  # actors the file does not name are not read
    monkeypatch.setattr(ActorPlanner, "batch_size", batch_size)
    # A batch of the file's slugs (its rows' and parents': 301 slugs make 4 batches of 100),
    # then a batch of those actors' identifiers (300 actors: 3 batches). Every identifier
    # the file names is its own actor's: no query looks for other owners, and no row
    # matches nothing, so the duplicate check reads nothing.
    identifier_batches = -(-rows // batch_size)
    with django_assert_num_queries(batches + identifier_batches) as queries:
        report = run(actor_lines(rows), dry_run=True)
    assert report.ok and report.skipped == rows
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert all(other.slug not in sql for other in others)


def test_a_row_that_writes_nothing_is_not_validated_again_and_a_changed_one_is():
    # Stored before the slug rule (written around the forms): valid for the database.
    with writes.writing():
        Actor.objects.create(slug="Old Slug", name="Old", kind=ActorKind.NGO)
    same = run(["Old Slug,Old,ngo,,,,,,"])
    assert same.ok and same.skipped == 1
    changed = run(["Old Slug,Old,ngo,,,,Now described.,,"])
    assert not changed.ok
    assert [(e.row, e.column) for e in changed.errors] == [(2, "slug")]


def test_a_choice_is_checked_for_every_row_not_only_the_first():
    report = run(["a,A,ngo,US,,,,,", "b,B,ngo,XX,,,,,", "c,C,ngo,XX,,,,,", "d,D,ngo,US,,,,,"])
    assert [(e.row, e.column) for e in report.errors] == [(3, "country"), (4, "country")]


def test_a_website_longer_than_the_field_is_refused_with_its_row():
    long_site = "https://example.org/" + "a" * 500
    report = run([f"a,A,ngo,,,,,{long_site},"])
    assert [(e.row, e.column) for e in report.errors] == [(2, "website")]
    assert "at most 500 characters" in report.errors[0].message


def test_what_the_file_does_not_name_is_read_where_the_rows_need_it():
    """Only the file's actors are read, and their ancestors: a loop through stored actors
    the file does not name is refused, an old parent is shown by its slug, and an
    identifier of an actor outside the file is still named as its, or matches it."""
    with writes.writing():
        top = Actor.objects.create(slug="top", name="Top", kind=ActorKind.NGO)
        middle = Actor.objects.create(slug="middle", name="Middle", kind=ActorKind.NGO, parent=top)
        Actor.objects.create(slug="bottom", name="Bottom", kind=ActorKind.NGO, parent=middle)
        holder = Actor.objects.create(slug="holder", name="Holder", kind=ActorKind.NGO)
        ActorIdentifier.objects.create(actor=holder, scheme="wikidata", identifier="Q7")
    loop = run(["top,Top,ngo,,bottom,,,,"])
    assert [(e.row, e.column, e.message) for e in loop.errors] == [
        (2, "parent", "The parent chain loops back to this actor.")
    ]
    moved = run(["bottom,Bottom,ngo,,top,,,,"], dry_run=True)
    assert moved.ok and moved.plans[0].changes["parent"] == ("middle", "top")
    taken = run(["top,Top,ngo,,,,,,wikidata:Q7"])
    assert [e.message for e in taken.errors] == ["wikidata:Q7 already belongs to actor 'holder'."]
    matched = run(["new-one,Holder,ngo,,,,,,wikidata:Q7"], dry_run=True)
    assert [(p.key, p.action, p.matched_by) for p in matched.plans] == [
        ("holder", "skip", "matched by wikidata:Q7")
    ]
