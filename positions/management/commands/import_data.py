"""
Import a CSV, XLSX or JSON file of one type, for files too large for the admin:

    manage.py import_data statements statements.csv [--dry-run] [--user NAME]

(`import_statements FILE`, `import_actors FILE`, ... are the same command for one type.)
The whole file is checked first; one bad row means nothing is written. Re-importing the
same file changes nothing. Without --user, the import runs as the operator of the server,
who may publish; with --user it has that user's permissions and is recorded as theirs.
"""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from positions.importing import (
    ImportContext,
    ImportFileError,
    Progress,
    read_table,
    run_import,
)
from positions.resources import RESOURCES

MAX_ERRORS_SHOWN = 200


class Command(BaseCommand):
    help = "Import a CSV, XLSX or JSON file of one type (see docs/import-format.md)."
    kind = None  # set by the per-type commands

    def add_arguments(self, parser):
        if self.kind is None:
            parser.add_argument("kind", choices=list(RESOURCES), help="The type of rows.")
        parser.add_argument("file", help="A .csv, .xlsx or .json file.")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Check every row and report what would change, without writing anything.",
        )
        parser.add_argument(
            "--user",
            help="Record the changes as this user's and apply their permissions "
            "(an editor's import cannot publish).",
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, **options):
        kind = self.kind or options["kind"]
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No file at {path}.")
        user = None
        if options["user"]:
            try:
                user = get_user_model().objects.get_by_natural_key(options["user"])
            except get_user_model().DoesNotExist:
                raise CommandError(f"No user named {options['user']!r}.") from None

        try:
            table = read_table(path.read_bytes(), path.name, kind=kind)
        except ImportFileError as error:
            raise CommandError(f"{path.name}: {error}") from None
        if table.sheet:
            self.stderr.write(f"Reading sheet {table.sheet!r} of {path.name}.")
        progress = Progress(
            len(table.rows),
            f"Checking {kind}",
            stream=self.stderr,
            enabled=not options["no_progress"],
        )
        # Without --user the server's operator imports, and may publish.
        context = ImportContext(user=user, file_name=path.name, can_publish=user is None)
        report = run_import(
            RESOURCES[kind](),
            table,
            context=context,
            dry_run=options["dry_run"],
            progress=progress,
        )
        for error in report.errors[:MAX_ERRORS_SHOWN]:
            self.stderr.write(self.style.ERROR(str(error)))
        if len(report.errors) > MAX_ERRORS_SHOWN:
            self.stderr.write(f"... and {len(report.errors) - MAX_ERRORS_SHOWN} more errors.")
        self.stdout.write(report.summary())
        if not report.ok:
            raise CommandError(f"{len(report.errors)} errors: nothing was imported.")
