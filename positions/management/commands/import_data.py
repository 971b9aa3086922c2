"""
Import a CSV, XLSX or JSON file of one type, for files too large for the admin:

    manage.py import_data statements statements.csv [--dry-run] [--user NAME] [--max-bytes N]
    manage.py import_data all position-tracker.json   (every type, all or nothing)

(`import_statements FILE`, `import_actors FILE`, ... are the same command for one type.)
The whole file is checked first; one bad row means nothing is written. Re-importing the
same file changes nothing. Without --user, the import runs as the operator of the server,
who may publish; with --user it has that user's permissions and is recorded as theirs.
Files are limited to IMPORT_MAX_UPLOAD_BYTES, as in the admin, unless --max-bytes says more.
"""

import argparse
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from positions.exchange import (
    TYPES,
    ImportContext,
    ImportFileError,
    MissingPart,
    NoRows,
    Progress,
    read_table,
    run_import,
)

MAX_ERRORS_SHOWN = 200
MAX_CHANGES_SHOWN = 200
ALL = "all"


def positive_int(value):
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number <= 0:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of bytes above zero")
    return number


class Command(BaseCommand):
    help = "Import a CSV, XLSX or JSON file of one type (see docs/import-format.md)."
    kind = None  # set by the per-type commands

    def add_arguments(self, parser):
        if self.kind is None:
            parser.add_argument(
                "kind",
                choices=[*TYPES, ALL],
                help="The type of rows; 'all' reads every type from a whole-data-set JSON "
                "(/data/all.json) or a workbook with one sheet per type.",
            )
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
        parser.add_argument(
            "--max-bytes",
            type=positive_int,
            metavar="N",
            help="Accept a file of up to N bytes, for this import only (default: the admin's "
            "limit, IMPORT_MAX_UPLOAD_BYTES). The whole file is read into memory.",
        )
        blanks = parser.add_mutually_exclusive_group()
        blanks.add_argument(
            "--clear",
            dest="blanks",
            action="store_const",
            const="clear",
            help="Empty cells clear the stored values of existing records (the dry run lists "
            "them). Without --clear or --keep-blank, a file that would clear a value is refused.",
        )
        blanks.add_argument(
            "--keep-blank",
            dest="blanks",
            action="store_const",
            const="keep",
            help="Empty cells keep the stored values of existing records.",
        )
        parser.add_argument(
            "--duplicates",
            choices=("same", "new"),
            help="What a new actor row that looks like an existing actor is: 'same' (the row "
            "updates that actor, adding its identifiers) or 'new' (a new actor). Without it, "
            "such rows are refused; the dry run lists them.",
        )
        parser.add_argument(
            "--show",
            type=int,
            default=MAX_CHANGES_SHOWN,
            metavar="N",
            help=f"List at most N changed rows (default {MAX_CHANGES_SHOWN}).",
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
        limit = options["max_bytes"] or settings.IMPORT_MAX_UPLOAD_BYTES
        size = path.stat().st_size
        if size > limit:
            raise CommandError(
                f"{path.name} is {size:,} bytes; the largest file accepted is {limit:,} bytes. "
                f"Split it into several files, or pass --max-bytes {size} to accept it."
            )
        # Without --user the server's operator imports, and may publish.
        context = ImportContext(
            user=user,
            file_name=path.name,
            can_publish=user is None,
            blanks=options.get("blanks") or "",
            duplicates=options.get("duplicates") or "",
        )
        data = path.read_bytes()
        if kind != ALL:
            report = self.import_one(kind, data, path.name, context, options, options["dry_run"])
            if not report.ok:
                raise CommandError(f"{len(report.errors)} errors: nothing was imported.")
            return

        # Every type from one file, in import order, all or nothing: each type is written
        # (so the next can refer to it) inside one transaction, rolled back on an error
        # or for a dry run.
        with transaction.atomic():
            for each in TYPES:
                report = self.import_one(each, data, path.name, context, options, False)
                if report is not None and not report.ok:
                    transaction.set_rollback(True)
                    raise CommandError(
                        f"{len(report.errors)} errors in {each}: nothing was imported."
                    )
            if options["dry_run"]:
                transaction.set_rollback(True)
                self.stdout.write("Dry run: every change above was rolled back.")

    def import_one(self, kind, data, file_name, context, options, dry_run):
        stream = getattr(self.stderr, "_out", self.stderr)  # tqdm rewrites its own line
        progress = Progress(1, f"Reading {kind}", stream=stream, enabled=not options["no_progress"])
        try:
            table = read_table(
                data,
                file_name,
                kind=kind,
                part_required=self.several(options),
                max_bytes=options["max_bytes"],
            )
        except (MissingPart, NoRows) as error:
            if not self.several(options):
                raise CommandError(f"{file_name}: {error}") from None
            self.stderr.write(f"{kind}: nothing to import ({error})")
            return None
        except ImportFileError as error:
            raise CommandError(f"{file_name}: {error}") from None
        finally:
            progress.advance()
        if table.sheet:
            self.stderr.write(f"Reading sheet {table.sheet!r} of {file_name}.")
        progress.phase(f"Checking {kind}", len(table.rows))
        report = run_import(TYPES[kind], table, context=context, dry_run=dry_run, progress=progress)
        progress.close()
        if dry_run or options["dry_run"]:
            for line in describe_changes(report, options["show"]):
                self.stdout.write(line)
        for error in report.errors[:MAX_ERRORS_SHOWN]:
            self.stderr.write(self.style.ERROR(str(error)))
        if len(report.errors) > MAX_ERRORS_SHOWN:
            self.stderr.write(f"... and {len(report.errors) - MAX_ERRORS_SHOWN} more errors.")
        self.stdout.write(report.summary())
        if report.ok and (report.clearing or report.flagged) and (dry_run or options["dry_run"]):
            for line in pending_choices(report, context):
                self.stdout.write(line)
        return report

    def several(self, options):
        return (self.kind or options["kind"]) == ALL


def describe_changes(report, limit):
    """The dry run's diff, as the admin preview shows it: each changed field old -> new,
    clearings marked, likely duplicates with their candidates; unchanged rows counted."""
    changed = [p for p in report.plans if p.action == "update"]
    for plan in changed[:limit]:
        how = f" ({plan.matched_by})" if plan.matched_by else ""
        yield f"row {plan.number}: change {plan.key}{how}"
        for column, (old, new) in plan.changes.items():
            if column in plan.clears:
                yield f"    {column}: {old!r} -> CLEARED"
            else:
                yield f"    {column}: {old!r} -> {new!r}"
    if len(changed) > limit:
        yield f"... and {len(changed) - limit} more changed rows."
    for plan in report.flagged[:limit]:
        names = ", ".join(f"'{c.name}' ({c.slug})" for c in plan.candidates)
        yield f"row {plan.number}: new {plan.key} looks like the existing actor {names}"
    if report.skipped:
        yield f"{report.skipped} unchanged rows."


def pending_choices(report, context):
    if report.clearing and not context.blanks:
        yield (
            f"{len(report.clearing)} rows would clear stored values: import with --clear to "
            "clear them or --keep-blank to keep the current values."
        )
    if report.flagged:
        yield (
            f"{len(report.flagged)} rows look like existing actors: import with "
            "--duplicates=same (update those actors) or --duplicates=new (create new actors)."
        )
