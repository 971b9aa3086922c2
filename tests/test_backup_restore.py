"""No data lost: `manage.py backup` then `manage.py restore` gives back identical data."""

import datetime
import gzip
import json
import os
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import dj_database_url
import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Group, Permission, User
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from positions.backups import backed_up_models
from positions.models import (
    Actor,
    ActorIdentifier,
    Signatory,
    Stance,
    Statement,
    StatementStatus,
)
from tests.factories import (
    ActorFactory,
    ConditionFactory,
    QuestionFactory,
    SourceFactory,
    StatementFactory,
    UserFactory,
)

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.django_db


def build_record():
    """A small but complete record: every model, history, users, groups and the admin log."""
    editor = UserFactory(username="ed", is_staff=True, first_name="Édith")
    editor.set_password("a long and unusual passphrase")
    editor.save()
    group = Group.objects.create(name="Fact checkers")
    group.permissions.set(Permission.objects.filter(codename__in=["view_actor", "view_source"]))
    editor.groups.add(group)
    editor.user_permissions.add(Permission.objects.get(codename="publish_statement"))
    UserFactory(username="root", is_staff=True, is_superuser=True)

    government = ActorFactory(name="US administration", slug="us-administration", kind="state")
    doj = ActorFactory(name="Department of Justice", slug="doj", parent=government, country="US")
    ActorIdentifier.objects.create(actor=government, scheme="wikidata", identifier="Q11268")
    senators = [ActorFactory(name=f"Senator {n} — «ünïcode»") for n in range(3)]
    question = QuestionFactory(title="US Senate consent to ratification")
    safeguards = ConditionFactory(text="Human-rights safeguards in place")
    source = SourceFactory(title="Letter of six senators", archive_url="https://archive.example/1")

    StatementFactory(question=question, actors=senators, source=source, stance=Stance.OPPOSES)
    conditional = StatementFactory(
        question=question,
        actors=[government, doj],
        stance=Stance.CONDITIONAL,
        conditions=[safeguards],
        quote="“We will not ratify without safeguards.”",
        quote_locator="p. 2",
    )
    conditional.mark_status(StatementStatus.RETRACTED, user=editor, note="Wrong date.")
    conditional._history_user = editor
    conditional.save()
    StatementFactory(question=question, status=StatementStatus.DRAFT, source=None)
    LogEntry.objects.log_actions(
        user_id=editor.pk, queryset=[conditional], action_flag=CHANGE, change_message="Retracted"
    )
    return conditional


def read_backup(path):
    """Rows per model, keyed by primary key, with many-to-many lists in a stable order."""
    opener = gzip.open if str(path).endswith(".gz") else open
    rows = {}
    with opener(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            fields = {
                name: sorted(value, key=json.dumps) if isinstance(value, list) else value
                for name, value in row["fields"].items()
            }
            rows.setdefault(row["model"], {})[json.dumps(row["pk"])] = fields
    return rows


def run_manage(*args, database_url, check=True):
    env = {**os.environ, "DATABASE_URL": database_url}
    result = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


class FreshPostgresDatabase:
    """An empty PostgreSQL database next to the test database, dropped afterwards."""

    def __init__(self):
        settings = connection.settings_dict
        self.name = f"{settings['NAME']}_restore_{uuid.uuid4().hex[:8]}"
        self.params = {
            "host": settings["HOST"] or None,
            "port": settings["PORT"] or None,
            "user": settings["USER"] or None,
            "password": settings["PASSWORD"] or None,
            "dbname": "postgres",
            "autocommit": True,
        }
        parts = dj_database_url.parse(os.environ["DATABASE_URL"])
        self.url = (
            f"postgres://{parts['USER']}:{parts['PASSWORD']}@{parts['HOST']}:"
            f"{parts['PORT'] or 5432}/{self.name}"
        )

    def __enter__(self):
        import psycopg

        with psycopg.connect(**self.params) as admin:
            admin.execute(f'CREATE DATABASE "{self.name}"')
        return self

    def __exit__(self, *exc):
        import psycopg

        with psycopg.connect(**self.params) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def restore_into_fresh_database(backup, database_url, tmp_path, name):
    """migrate, restore and back up again in a fresh database, as an operator would."""
    run_manage("migrate", "--no-input", "-v0", database_url=database_url)
    restored = run_manage("restore", str(backup), database_url=database_url)
    assert "Restored" in restored.stdout
    second = tmp_path / f"{name}.jsonl.gz"
    run_manage("backup", str(second), database_url=database_url)
    return second


def test_backup_then_restore_into_a_fresh_database_gives_identical_data(tmp_path):
    build_record()
    first = tmp_path / "first.jsonl.gz"
    call_command("backup", str(first), verbosity=0)
    original = read_backup(first)

    # The backup is complete: every kind of row is there, history and admin log included.
    assert len(original["positions.statement"]) == 3
    assert len(original["positions.signatory"]) == 6
    assert len(original["positions.historicalstatement"]) >= 5
    assert len(original["admin.logentry"]) == 1
    assert {g["name"] for g in original["auth.group"].values()} >= {"Fact checkers"}
    assert not any(label.startswith(("contenttypes.", "sessions.", "axes.")) for label in original)

    # SQLite → SQLite, or PostgreSQL → SQLite → PostgreSQL: identical data at every step.
    sqlite_copy = restore_into_fresh_database(
        first, f"sqlite:///{tmp_path / 'fresh.sqlite3'}", tmp_path, "from-sqlite"
    )
    assert read_backup(sqlite_copy) == original
    if connection.vendor == "postgresql":
        with FreshPostgresDatabase() as fresh:
            postgres_copy = restore_into_fresh_database(
                sqlite_copy, fresh.url, tmp_path, "from-postgres"
            )
        assert read_backup(postgres_copy) == original


def test_restore_keeps_ids_timestamps_to_the_microsecond_and_history_users(tmp_path):
    statement = build_record()
    moment = datetime.datetime(2024, 10, 1, 12, 30, 45, 123456, tzinfo=datetime.UTC)
    Statement.objects.filter(pk=statement.pk).update(first_published_at=moment)
    backup = tmp_path / "backup.jsonl"
    call_command("backup", str(backup), verbosity=0)

    Signatory.objects.all().delete()
    call_command("restore", str(backup), "--force", verbosity=0)

    restored = Statement.objects.get(pk=statement.pk)
    assert restored.first_published_at == moment
    assert restored.correction_note == "Wrong date."
    assert restored.history.first().history_user.username == "ed"
    assert list(restored.conditions.values_list("text", flat=True)) == [
        "Human-rights safeguards in place"
    ]
    assert Signatory.objects.count() == 6


def test_restore_refuses_a_database_that_already_holds_data(tmp_path):
    build_record()
    backup = tmp_path / "backup.jsonl"
    call_command("backup", str(backup), verbosity=0)
    Actor.objects.filter(slug="doj").update(name="Changed after the backup")

    with pytest.raises(CommandError, match="already holds data .*pass --force"):
        call_command("restore", str(backup), verbosity=0)
    assert Actor.objects.get(slug="doj").name == "Changed after the backup"


def test_restore_with_force_replaces_everything_with_the_backup(tmp_path):
    build_record()
    backup = tmp_path / "backup.jsonl"
    call_command("backup", str(backup), verbosity=0)
    before = read_backup(backup)
    Actor.objects.filter(slug="doj").update(name="Changed after the backup")
    ActorFactory(slug="added-after-the-backup")

    call_command("restore", str(backup), "--force", verbosity=0)

    after = tmp_path / "after.jsonl"
    call_command("backup", str(after), verbosity=0)
    assert read_backup(after) == before
    assert not Actor.objects.filter(slug="added-after-the-backup").exists()


def test_a_broken_backup_changes_nothing(tmp_path):
    build_record()
    backup = tmp_path / "backup.jsonl"
    call_command("backup", str(backup), verbosity=0)
    lines = backup.read_text(encoding="utf-8").splitlines()
    # A statement whose question does not exist: the load fails part-way through.
    broken = [json.loads(line) for line in lines]
    for row in broken:
        if row["model"] == "positions.statement":
            row["fields"]["question"] = 999_999
    backup.write_text("\n".join(json.dumps(row) for row in broken) + "\n", encoding="utf-8")
    Actor.objects.filter(slug="doj").update(name="Still here")
    statements = Statement.objects.count()

    with pytest.raises(CommandError, match="could not be restored, nothing was changed") as error:
        call_command("restore", str(backup), "--force", verbosity=0)
    assert "\n" not in str(error.value)
    assert Actor.objects.get(slug="doj").name == "Still here"
    assert Statement.objects.count() == statements


def truncated(data):
    return data[: len(data) // 2]


def corrupted(data):
    middle = len(data) // 2
    return data[:middle] + bytes(b ^ 0xFF for b in data[middle : middle + 64]) + data[middle + 64 :]


def gzipped_text(text):
    return lambda data: gzip.compress(text.encode())


@pytest.mark.parametrize(
    ("name", "damage", "message"),
    [
        ("truncated.jsonl.gz", truncated, "Compressed file ended before the end-of-stream"),
        ("corrupt.jsonl.gz", corrupted, "is not a backup written by `manage.py backup`"),
        ("plain.jsonl.gz", lambda data: gzip.decompress(data), "Not a gzipped file"),
        ("text.jsonl.gz", gzipped_text("id,name\n1,Cisco\n"), "line 1 is not JSON"),
        ("list.jsonl.gz", gzipped_text('[1, 2]\n{"model": "x"}\n'), "line 1 is not a row"),
        ("unknown.jsonl.gz", gzipped_text('{"model": "nope.nothing"}\n'), "nope.nothing"),
        ("cut-line.jsonl", lambda data: truncated(gzip.decompress(data)), "is not JSON"),
    ],
)
def test_a_truncated_or_corrupt_backup_gives_one_line_and_changes_nothing(
    tmp_path, name, damage, message
):
    """Even with --force: the file is refused before anything in the database is touched."""
    build_record()
    good = tmp_path / "good.jsonl.gz"
    call_command("backup", str(good), verbosity=0)
    before = read_backup(good)
    broken = tmp_path / name
    broken.write_bytes(damage(good.read_bytes()))

    with pytest.raises(CommandError, match=message) as error:
        call_command("restore", str(broken), "--force", verbosity=0)
    assert "\n" not in str(error.value)
    assert "Traceback" not in str(error.value)

    after = tmp_path / "after.jsonl.gz"
    call_command("backup", str(after), verbosity=0)
    assert read_backup(after) == before


@pytest.mark.parametrize("name", ["backup.jsonl", "backup.jsonl.gz"])
def test_the_backup_file_is_readable_by_its_owner_only(tmp_path, name):
    """It holds password hashes and drafts: mode 0600, even over an existing, open file."""
    ActorFactory()
    path = tmp_path / name
    path.write_bytes(b"an older file anyone could read")
    path.chmod(0o644)
    call_command("backup", str(path), verbosity=0)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "positions.actor" in read_backup(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [("", "holds no rows"), ("not json\n", "is not a backup")],
)
def test_restore_refuses_files_that_are_not_backups(tmp_path, content, message):
    path = tmp_path / "backup.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CommandError, match=message):
        call_command("restore", str(path), verbosity=0)


def test_backup_and_restore_want_jsonl_file_names(tmp_path):
    with pytest.raises(CommandError, match=r"\*.jsonl or \*.jsonl.gz"):
        call_command("backup", str(tmp_path / "backup.json"), verbosity=0)
    (tmp_path / "backup.sql").write_text("{}", encoding="utf-8")
    with pytest.raises(CommandError, match="named"):
        call_command("restore", str(tmp_path / "backup.sql"), verbosity=0)


def test_restore_refuses_an_unmigrated_database(tmp_path):
    backup = tmp_path / "backup.jsonl"
    ActorFactory()
    call_command("backup", str(backup), verbosity=0)
    result = run_manage(
        "restore",
        str(backup),
        database_url=f"sqlite:///{tmp_path / 'unmigrated.sqlite3'}",
        check=False,
    )
    assert result.returncode != 0
    assert "unapplied migration(s): run `manage.py migrate` first" in result.stderr


def test_backup_reports_progress_per_model(tmp_path, capsys):
    build_record()
    call_command("backup", str(tmp_path / "backup.jsonl"))
    out = capsys.readouterr().out
    assert "positions.statement: 3 rows" in out
    assert "Backed up " in out


def test_the_backup_makes_as_many_queries_for_ten_statements_as_for_one(tmp_path):
    """History users, content types and many-to-many lists are joined, not fetched per row."""

    def queries_of_backup():
        with CaptureQueriesContext(connection) as queries:
            call_command("backup", str(tmp_path / "backup.jsonl"), verbosity=0)
        return len(queries)

    build_record()
    few = queries_of_backup()
    user = User.objects.get(username="ed")
    for _ in range(10):
        statement = StatementFactory(conditions=[ConditionFactory()])
        statement._history_user = user
        statement.save()
    LogEntry.objects.log_actions(
        user_id=user.pk, queryset=Statement.objects.all(), action_flag=CHANGE
    )
    assert queries_of_backup() == few


def test_every_model_with_a_table_is_backed_up_or_deliberately_left_out():
    """A new model (or a new app) lands in backups unless it is added to the exclusions."""
    labels = {model._meta.label_lower for model in backed_up_models()}
    assert {"positions.statement", "positions.historicalstatement", "auth.user"} <= labels
    assert "admin.logentry" in labels
    assert ContentType._meta.label_lower not in labels
    assert "sessions.session" not in labels
