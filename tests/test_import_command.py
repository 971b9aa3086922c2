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
    assert "statements: 2 new, 0 changed, 0 unchanged, 0 errors" in out
    # One bar per phase, each rewritten in place (carriage returns, not a line per step).
    for phase in ("Reading statements", "Checking statements", "Writing statements"):
        assert phase in err
    assert "2/2" in err and err.count("\n") <= 4
    assert Statement.objects.count() == 2
    out, _ = run("import_data", "statements", str(statements_file), "--no-progress")
    assert "0 new, 0 changed, 2 unchanged, 0 errors" in out


def test_dry_run_writes_nothing(statements_file):
    out, _ = run("import_statements", str(statements_file), "--dry-run")
    assert "2 new" in out and "would write nothing" in out
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


def test_a_file_over_the_upload_limit_needs_max_bytes_and_imports_with_it(
    statements_file, settings
):
    """The command line shares the admin's limit by default; --max-bytes lifts it for one
    import, as the admin's message says."""
    settings.IMPORT_MAX_UPLOAD_BYTES = 100
    size = statements_file.stat().st_size
    with pytest.raises(CommandError, match=f"pass --max-bytes {size} to accept it") as error:
        run("import_statements", str(statements_file))
    assert f"is {size:,} bytes; the largest file accepted is 100 bytes" in str(error.value)
    assert not Statement.objects.exists()

    with pytest.raises(CommandError, match="largest file accepted is 150 bytes"):
        run("import_data", "statements", str(statements_file), "--max-bytes", "150")
    out, _ = run("import_data", "statements", str(statements_file), "--max-bytes", str(size))
    assert "statements: 2 new" in out
    assert Statement.objects.count() == 2


@pytest.mark.parametrize("value", ["0", "-5", "ten"])
def test_max_bytes_must_be_a_number_above_zero(statements_file, value):
    with pytest.raises(CommandError, match="is not a number of bytes above zero"):
        run("import_statements", str(statements_file), f"--max-bytes={value}")


@pytest.fixture
def whole_data_set(tmp_path, client, settings):
    """The public /data/all.json of a small record, saved to a file, then the record gone."""
    import json

    from positions.models import Actor, Question, Source, Topic

    settings.SECURE_SSL_REDIRECT = False
    QuestionFactory(topic__slug="uncc", slug="adoption")
    ActorFactory(slug="us-admin")
    SourceFactory(url="https://e.org/1")
    path = tmp_path / "statements.csv"
    path.write_text(CSV)
    run("import_statements", str(path), "--no-progress")
    response = client.get("/data/all.json")
    data = json.loads(b"".join(response.streaming_content))
    Statement.objects.all().delete()
    for model in (Source, Question, Topic, Actor):
        model.objects.all().delete()
    return tmp_path, data


def test_import_all_reads_every_type_from_the_whole_data_set(whole_data_set):
    import json

    tmp_path, data = whole_data_set
    path = tmp_path / "all.json"
    path.write_text(json.dumps(data))
    out, err = run("import_data", "all", str(path), "--dry-run", "--no-progress")
    assert "statements: 2 new" in out and "rolled back" in out
    assert "conditions: nothing to import" in err
    assert not Statement.objects.exists()
    run("import_data", "all", str(path), "--no-progress")
    assert Statement.objects.count() == 2


def test_import_all_is_all_or_nothing_across_types(whole_data_set):
    import json

    from positions.models import Actor

    tmp_path, data = whole_data_set
    data["statements"][1]["stance"] = "maybe"
    path = tmp_path / "all.json"
    path.write_text(json.dumps(data))
    with pytest.raises(CommandError, match="1 errors in statements: nothing was imported"):
        run("import_data", "all", str(path), "--no-progress")
    assert not Actor.objects.exists(), "the actors imported before the error are rolled back"


def test_import_all_from_a_workbook_with_one_sheet_per_type(whole_data_set):
    import openpyxl

    tmp_path, data = whole_data_set
    book = openpyxl.Workbook()
    book.active.title = "About"
    for kind, rows in data.items():
        if not rows:
            continue
        sheet = book.create_sheet(kind)
        sheet.append(list(rows[0]))
        for row in rows:
            sheet.append(["|".join(v) if isinstance(v, list) else v for v in row.values()])
    path = tmp_path / "all.xlsx"
    book.save(path)
    out, _ = run("import_data", "all", str(path), "--no-progress")
    assert "statements: 2 new" in out
    assert Statement.objects.count() == 2


def test_import_all_takes_max_bytes_too(whole_data_set, settings):
    import json

    tmp_path, data = whole_data_set
    path = tmp_path / "all.json"
    path.write_text(json.dumps(data))
    settings.IMPORT_MAX_UPLOAD_BYTES = 100
    with pytest.raises(CommandError, match="--max-bytes"):
        run("import_data", "all", str(path), "--no-progress")
    run("import_data", "all", str(path), "--no-progress", "--max-bytes", "10000000")
    assert Statement.objects.count() == 2
