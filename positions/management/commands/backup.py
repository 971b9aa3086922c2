"""manage.py backup FILE: write the whole database to a JSON Lines file (see docs/operations.md)."""

import gzip
import sys

from django.core import serializers
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from positions.backups import (
    backed_up_models,
    create_private_file,
    rows_to_back_up,
    serialize_options,
)


class Command(BaseCommand):
    help = (
        "Back up the whole database (records, history, users, admin log) to a JSON Lines file "
        "that `manage.py restore` loads into SQLite or PostgreSQL. A name ending in .gz is "
        "compressed; '-' writes to standard output. The file holds password hashes: keep it safe."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Where to write, e.g. backups/tracker-2026-11-22.jsonl.gz")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, file, database, verbosity, **options):
        # Progress goes to stderr when the backup itself goes to stdout.
        progress = self.stderr if file == "-" else self.stdout
        if file != "-" and not file.endswith((".jsonl", ".jsonl.gz")):
            raise CommandError("Name the backup file *.jsonl or *.jsonl.gz (compressed).")
        if file == "-":
            stream = sys.stdout
        else:
            opener = gzip.open if file.endswith(".gz") else open
            try:
                create_private_file(file)  # mode 0600: it holds password hashes and drafts
                stream = opener(file, "wt", encoding="utf-8")
            except OSError as error:
                raise CommandError(f"Cannot write the backup to {file}: {error}") from error

        total = 0
        connection = connections[database]
        try:
            # One snapshot: a repeatable-read transaction on PostgreSQL, so rows written during
            # the backup cannot leave a statement without its signatories. (SQLite readers see
            # one snapshot per transaction anyway.)
            snapshot = connection.vendor == "postgresql" and not connection.in_atomic_block
            with transaction.atomic(using=database):
                if snapshot:
                    with connection.cursor() as cursor:
                        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                for model in backed_up_models():
                    rows = rows_to_back_up(model, database).iterator(chunk_size=2000)
                    counter = _CountingIterator(rows)
                    serializers.serialize("jsonl", counter, stream=stream, **serialize_options())
                    total += counter.count
                    if verbosity >= 1:
                        progress.write(f"  {model._meta.label_lower}: {counter.count:,} rows")
        finally:
            if stream is not sys.stdout:
                stream.close()
        if verbosity >= 1:
            where = "standard output" if file == "-" else file
            progress.write(self.style.SUCCESS(f"Backed up {total:,} rows to {where}."))


class _CountingIterator:
    def __init__(self, iterator):
        self.iterator, self.count = iterator, 0

    def __iter__(self):
        for item in self.iterator:
            self.count += 1
            yield item
