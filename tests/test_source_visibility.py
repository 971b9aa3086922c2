"""
A source no public statement cites is public nowhere (its title alone could reveal draft
work): `HiddenSource`, kept by the write path, must equal the rule
(`Source.objects.cited_by_no_public_statement`) after every kind of write that can move a
source in or out of sight, and the sources page must count and list exactly the others.
"""

import io

import pytest
from django.core.management import call_command

from positions import writes
from positions.models import HiddenSource, ImportBatch, Source, Statement, StatementStatus
from tests.admin_builders import admin_url, statement_form_data
from tests.builders import build_record
from tests.factories import SourceFactory, StatementFactory, UserFactory

pytestmark = pytest.mark.django_db


def hidden():
    return set(HiddenSource.objects.values_list("source_id", flat=True))


def assert_hidden_is_the_rule():
    rule = set(Source.objects.cited_by_no_public_statement().values_list("pk", flat=True))
    assert hidden() == rule


def listed(client):
    response = client.get("/sources/")
    assert response.status_code == 200
    page = response.context["page_obj"]
    return page.paginator.count, {source.pk for source in page.object_list}


@pytest.fixture
def record():
    return build_record()


def test_a_source_only_drafts_cite_is_hidden_until_one_is_published(client, record):
    source = SourceFactory(title="Leaked draft memo")
    assert source.pk in hidden()  # cited by nothing yet
    draft = StatementFactory(question=record.ratification, source=source, status="draft")
    assert source.pk in hidden() and client.get(source.get_absolute_url()).status_code == 404
    count, shown = listed(client)
    assert source.pk not in shown and count == Source.objects.count() - len(hidden())
    assert "Leaked draft memo" not in client.get("/sources/").content.decode()

    draft.status = StatementStatus.PUBLISHED
    with writes.writing():
        writes.save(draft)
    assert source.pk not in hidden()
    assert client.get(source.get_absolute_url()).status_code == 200
    assert listed(client)[0] == count + 1
    assert_hidden_is_the_rule()

    draft.status = StatementStatus.DRAFT
    with writes.writing():
        writes.save(draft)
    assert source.pk in hidden()
    assert_hidden_is_the_rule()


def test_moving_the_only_public_statement_to_another_source_hides_the_first(client, record):
    first, second = SourceFactory(title="First"), SourceFactory(title="Second")
    statement = StatementFactory(question=record.ratification, source=first)
    assert first.pk not in hidden() and second.pk in hidden()
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    data = statement_form_data(statement, source=second.pk)
    response = client.post(admin_url("statement", "change", statement.pk), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert first.pk in hidden() and second.pk not in hidden()
    assert_hidden_is_the_rule()


def test_deleting_the_statements_that_cite_a_source_hides_it(record):
    source = SourceFactory()
    statements = [StatementFactory(question=record.adoption, source=source) for _ in range(2)]
    with writes.writing():
        writes.delete(statements[0])
    assert source.pk not in hidden()
    with writes.writing():
        writes.delete(statements[1])
    assert source.pk in hidden()
    assert_hidden_is_the_rule()


def import_statement(r, tmp_path, source):
    path = tmp_path / "statements.csv"
    path.write_text(
        "import_ref,question,date,stance,signatories,summary,source,status\n"
        f"visibility-1,{r.topic.slug}/{r.adoption.slug},2024-11-03,opposes,cisco,"
        f"Cisco opposes adoption.,{source.url},published\n"
    )
    call_command("import_data", "statements", str(path), "--no-progress", stdout=io.StringIO())
    return ImportBatch.objects.latest("pk")


def test_an_import_that_moves_a_statement_to_another_source_and_its_undo(record, tmp_path):
    first = SourceFactory(url="https://example.org/first")
    second = SourceFactory(url="https://example.org/second")
    import_statement(record, tmp_path, first)
    assert first.pk not in hidden() and second.pk in hidden()
    batch = import_statement(record, tmp_path, second)
    assert Statement.objects.get(import_ref="visibility-1").source_id == second.pk
    assert first.pk in hidden() and second.pk not in hidden()
    assert_hidden_is_the_rule()

    call_command("undo_import", str(batch.pk), stdout=io.StringIO())
    assert first.pk not in hidden() and second.pk in hidden()
    assert_hidden_is_the_rule()


def test_a_write_behind_the_write_paths_back_is_repaired(record):
    first, second = SourceFactory(), SourceFactory()
    statement = StatementFactory(question=record.adoption, source=first)
    statement.source = second  # the source it leaves is not known to the guard
    with pytest.warns(writes.UnrecordedWrite):
        statement.save()
    assert first.pk in hidden() and second.pk not in hidden()
    assert_hidden_is_the_rule()


def test_a_rebuild_recomputes_every_source(record):
    HiddenSource.objects.all().delete()
    HiddenSource.objects.create(source=Source.objects.public().first())
    with writes.writing():
        writes.rebuild_positions()
    assert_hidden_is_the_rule()
