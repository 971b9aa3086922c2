"""The import management commands: progress, dry run, summary, errors, attribution."""

import pytest
from django.core.management import CommandError, call_command

from positions.models import Statement, StatementStatus
from tests.factories import ActorFactory, QuestionFactory, SourceFactory, UserFactory

pytestmark = pytest.mark.django_db

CSV = (
    "import_ref,question,date,stance,signatories,summary,source,status\n"
    "s1,uncc/adoption,2024-11-01,supports,us-admin,Backs adoption.,https://e.org/1,published\n"
    "s2,uncc/adoption,2024-11-02,opposes,us-admin,Changed its mind.,https://e.org/1,published\n"
)


@pytest.fixture
def statements_file(tmp_path):
    QuestionFactory(topic__slug="uncc", slug="adoption")
    ActorFactory(slug="us-admin")
    SourceFactory(url="https://e.org/1")
    path = tmp_path / "statements.csv"
    path.write_text(CSV)
    return path


def run(*args):
    import io

    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_import_prints_progress_and_a_summary(statements_file):
    out, err = run("import_statements", str(statements_file))
    assert "statements: 2 created, 0 updated, 0 skipped, 0 errors" in out
    assert "Checking statements: [" in err and "2/2" in err
    assert Statement.objects.count() == 2
    out, _ = run("import_data", "statements", str(statements_file), "--no-progress")
    assert "0 created, 0 updated, 2 skipped, 0 errors" in out


def test_dry_run_writes_nothing(statements_file):
    out, _ = run("import_statements", str(statements_file), "--dry-run")
    assert "2 created" in out and "would write nothing" in out
    assert not Statement.objects.exists()


def test_errors_are_listed_and_the_command_fails_without_writing(statements_file):
    statements_file.write_text(CSV + "s3,uncc/adoption,someday,supports,nobody,X.,,draft\n")
    with pytest.raises(CommandError, match="2 errors: nothing was imported"):
        run("import_statements", str(statements_file))
    assert not Statement.objects.exists()


def test_user_option_records_the_user_and_applies_their_permissions(statements_file):
    editor = UserFactory(username="editor")
    with pytest.raises(CommandError):
        run("import_statements", str(statements_file), "--user", "editor")
    statements_file.write_text(CSV.replace("published", "draft"))
    run("import_statements", str(statements_file), "--user", "editor")
    statement = Statement.objects.get(import_ref="s1")
    assert statement.status == StatementStatus.DRAFT
    assert statement.created_by == editor
    assert statement.history.get().history_user == editor


def test_missing_file_and_unreadable_file_fail_clearly(tmp_path):
    with pytest.raises(CommandError, match="No file at"):
        run("import_actors", str(tmp_path / "nope.csv"))
    empty = tmp_path / "actors.csv"
    empty.write_bytes(b"")
    with pytest.raises(CommandError, match="actors.csv: The file is empty."):
        run("import_actors", str(empty))
