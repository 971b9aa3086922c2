"""manage.py restore FILE: load a `manage.py backup` file into a migrated database."""

import gzip
import zlib
from contextlib import contextmanager
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.base import DeserializationError
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from django.db.migrations.executor import MigrationExecutor

from positions import writes
from positions.backups import backed_up_models, count_rows_in_file

# Rows that `migrate` itself may create (the editor groups); a database holding only these is
# still "empty", and the backup's own copy of them replaces them.
CREATED_BY_MIGRATIONS = {Group}


@contextmanager
def history_recording_off():
    """The backup brings its own history; loading many-to-many rows must not add more."""
    previous = getattr(settings, "SIMPLE_HISTORY_ENABLED", True)
    settings.SIMPLE_HISTORY_ENABLED = False
    try:
        yield
    finally:
        settings.SIMPLE_HISTORY_ENABLED = previous


def one_line(error):
    """An error's message on one line (database errors add DETAIL and HINT lines)."""
    return " ".join(str(error).split()) or type(error).__name__


# What --force keeps: the rows `migrate` creates and backups refer to by natural key.
KEPT_ON_FORCE = {"contenttypes.contenttype", "auth.permission"}


class Command(BaseCommand):
    help = (
        "Restore a backup written by `manage.py backup` into an empty, migrated database "
        "(SQLite or PostgreSQL, whichever the backup came from). Refuses a database that "
        "already holds data unless --force, which first deletes everything in it."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="A file written by `manage.py backup` (.jsonl or .gz)")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Delete every row in the database first, then restore. Cannot be undone.",
        )
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, file, force, database, verbosity, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No backup file at {file}.")
        if not path.name.endswith((".jsonl", ".jsonl.gz")):
            raise CommandError("A backup file is named *.jsonl or *.jsonl.gz.")
        try:
            # The whole file is read (and decompressed) before anything is touched: a
            # truncated or corrupt file is refused here, with the database as it was.
            expected = self._read_counts(path)
        except (OSError, EOFError, zlib.error, ValueError) as error:
            raise CommandError(
                f"{file} is not a backup written by `manage.py backup`: {one_line(error)}"
            ) from error
        if not expected:
            raise CommandError(f"{file} holds no rows: refusing to restore an empty backup.")
        known = {model._meta.label_lower for model in backed_up_models()}
        unknown = sorted(set(expected) - known)
        if unknown:
            raise CommandError(
                f"{file} holds rows of models this version does not back up: "
                f"{', '.join(unknown)}. Restore it with the code version that wrote it."
            )

        self._refuse_unmigrated(database)
        held = self._rows_held(database)
        if held and not force:
            listing = ", ".join(f"{count:,} {label}" for label, count in held.items())
            raise CommandError(
                f"The database already holds data ({listing}). Restore only into an empty, "
                "migrated database, or pass --force to delete everything in it first."
            )

        say = self.stdout.write if verbosity >= 1 else (lambda *a, **k: None)
        say(f"Restoring {sum(expected.values()):,} rows from {file} ...")
        # All or nothing: if any row fails to load, the database is left as it was.
        try:
            with transaction.atomic(using=database), writes.writing():
                if held:
                    say("  --force: deleting everything in the database first")
                self._delete_all_rows(database)
                with history_recording_off():
                    call_command("loaddata", str(path.resolve()), database=database, verbosity=0)
                say("  rebuilding current positions")
                writes.rebuild_positions()  # When the write session ends, before it commits.
                restored = self._check_counts(database, expected)
        except (DeserializationError, DatabaseError) as error:
            raise CommandError(
                f"{file} could not be restored, nothing was changed: {one_line(error)}"
            ) from error
        for label, count in restored.items():
            say(f"  {label}: {count:,} rows")
        say(self.style.SUCCESS(f"Restored {sum(restored.values()):,} rows from {file}."))

    @staticmethod
    def _delete_all_rows(database):
        """Empty every table the backup fills, plus sessions and sign-in logs.

        Plain DELETEs in one transaction: foreign keys are checked at commit (Django makes them
        deferrable on PostgreSQL and SQLite), so the order does not matter, and unlike
        `flush` (TRUNCATE) this works inside a transaction that has already written.
        """
        models = [
            model
            for model in apps.get_models()
            if model._meta.managed
            and not model._meta.proxy
            and model._meta.label_lower not in KEPT_ON_FORCE
        ]
        tables = {model._meta.db_table for model in models}
        for model in models:
            for field in model._meta.local_many_to_many:
                if field.remote_field.through._meta.auto_created:
                    tables.add(field.remote_field.through._meta.db_table)
        connection = connections[database]
        with connection.cursor() as cursor:
            for table in sorted(tables):
                cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")  # noqa: S608

    @staticmethod
    def _read_counts(path):
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as lines:
            return count_rows_in_file(lines)

    @staticmethod
    def _refuse_unmigrated(database):
        executor = MigrationExecutor(connections[database])
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if plan:
            raise CommandError(
                f"The database has {len(plan)} unapplied migration(s): run "
                "`manage.py migrate` first, with the same code version as the backup."
            )

    @staticmethod
    def _rows_held(database):
        held = {}
        for model in backed_up_models():
            if model in CREATED_BY_MIGRATIONS:
                continue
            count = model._default_manager.using(database).count()
            if count:
                held[model._meta.label_lower] = count
        return held

    @staticmethod
    def _check_counts(database, expected):
        restored = {
            model._meta.label_lower: model._default_manager.using(database).count()
            for model in backed_up_models()
        }
        restored = {label: count for label, count in restored.items() if count or label in expected}
        if restored != dict(expected):
            missing = {
                label: (count, restored.get(label, 0))
                for label, count in expected.items()
                if restored.get(label, 0) != count
            }
            raise CommandError(f"Restored row counts differ from the backup: {missing}")
        return restored
