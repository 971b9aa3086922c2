"""
Benchmark of the statement import (not a test: timings depend on the machine).

    manage.py bench_import [--rows 20000] [--no-write] [--output BENCHMARKS.md]
    manage.py bench_import --type actors [--rows 20000]

With `--type actors`: N actor rows with identifiers (Wikidata and Bioguide), imported,
then the same file imported again (every row unchanged), against a plain `bulk_create` of
the same actors and identifiers.

Builds a CSV of N statement rows (1-3 signatories, conditions on conditional stances,
sources, all published), then, in the same run and the same database:

1. imports it through the real path (`read_table` + `run_import`: parsing, validation,
   all-or-nothing transaction, history records for statements, signatories and conditions);
2. inserts the same rows with plain `bulk_create` (statements, signatories, condition
   links; no validation, no history), the floor any import could reach.

Reports rows per second, lookup queries (SELECTs) per row, write queries, and the ratio of
the two timings, against the targets (at most one lookup per 20 rows; within 5x of
bulk_create). Everything is rolled back at the end. The figures go into BENCHMARKS.md (or
--output) between the `bench_import` markers unless --no-write.
"""

import csv
import datetime
import gc
import io
import os
import platform
import random
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench import report as report_module
from bench.report import IMPORT_END as END
from bench.report import IMPORT_START as START
from positions.exchange import TYPES, ImportContext, read_table, run_import
from positions.models import (
    Actor,
    ActorIdentifier,
    ActorKind,
    Condition,
    Question,
    Signatory,
    Source,
    SourceKind,
    Stance,
    Statement,
    StatementStatus,
    Topic,
)

LOOKUPS_PER_ROW_TARGET = 1 / 20
RATIO_TARGET = 5.0


class Rollback(Exception):
    pass


class Command(BaseCommand):
    help = "Benchmark importing statement rows against a plain bulk_create (rolled back)."

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=20_000)
        parser.add_argument(
            "--type",
            choices=("statements", "actors"),
            default="statements",
            help="The rows to import: statements (default) or actors with identifiers.",
        )
        parser.add_argument("--seed", type=int, default=4)
        parser.add_argument(
            "--repeat",
            type=int,
            default=1,
            help="Measure each side this many times, alternating, and keep the fastest "
            "(steadier figures on a busy machine).",
        )
        parser.add_argument("--no-write", action="store_true", help="Do not update BENCHMARKS.md.")
        parser.add_argument(
            "--output",
            default=str(Path(settings.BASE_DIR) / "BENCHMARKS.md"),
            help="The results file whose import section is updated.",
        )

    def handle(self, *args, **options):
        if options["type"] == "actors":
            return self.handle_actors(options)
        rows = options["rows"]
        figures = {}
        try:
            with transaction.atomic():
                refs = self.reference_data()
                data = self.build_csv(rows, refs, random.Random(options["seed"]))
                for _ in range(max(options["repeat"], 1)):
                    for name, measure in (
                        ("import", lambda: self.measure_import(data)),
                        ("bulk", lambda: self.measure_bulk_create(data, refs)),
                    ):
                        result = measure()
                        if name not in figures or result["seconds"] < figures[name]["seconds"]:
                            figures[name] = result
                raise Rollback
        except Rollback:
            pass
        report = self.format(rows, figures, options["repeat"])
        self.stdout.write(report)
        if not options["no_write"]:
            path = Path(options["output"])
            write_between_markers(path, report)
            self.stderr.write(f"Figures written to {path}.")

    def handle_actors(self, options):
        rows = options["rows"]
        figures = {}
        try:
            with transaction.atomic():
                Actor.objects.bulk_create(
                    Actor(
                        slug=f"bench-body-{i}", name=f"Body {i}", kind=ActorKind.LEGISLATIVE_GROUP
                    )
                    for i in range(10)
                )
                data = self.build_actors_csv(rows)
                for _ in range(max(options["repeat"], 1)):
                    for name, measure in (
                        ("import", lambda: self.measure_actor_import(data)),
                        ("bulk", lambda: self.measure_actor_bulk_create(data)),
                    ):
                        result = measure()
                        if name not in figures or result["seconds"] < figures[name]["seconds"]:
                            figures[name] = result
                raise Rollback
        except Rollback:
            pass
        report = self.format_actors(rows, figures, options["repeat"])
        self.stdout.write(report)
        if not options["no_write"]:
            path = Path(options["output"])
            write_between_markers(path, report)
            self.stderr.write(f"Figures written to {path}.")

    def build_actors_csv(self, rows):
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(TYPES["actors"].names)
        for i in range(rows):
            values = {
                "slug": f"bench-person-{i}",
                "name": f"Person {i} Lastname",
                "kind": ActorKind.LEGISLATOR,
                "country": "US",
                "parent": f"bench-body-{i % 10}",
                "aliases": f"P. {i}",
                "description": f"Benchmark legislator {i}.",
                "website": f"https://example.org/people/{i}",
                "identifiers": f"wikidata:Q{i + 1}|bioguide:B{i:06d}",
            }
            writer.writerow([values[c] for c in TYPES["actors"].names])
        return out.getvalue().encode()

    def measure_actor_import(self, data):
        sid = transaction.savepoint()
        result = {}
        for phase in ("seconds", "reimport"):
            context = ImportContext(file_name="bench.csv", can_publish=True)
            # Each phase starts from a collected heap: the garbage of what ran before is
            # not charged to it (as `timeit` does).
            gc.collect()
            with CaptureQueriesContext(connection) as queries:
                started, cpu_started = time.perf_counter(), time.process_time()
                table = read_table(data, "bench.csv", kind="actors", max_bytes=len(data) + 1)
                report = run_import(TYPES["actors"], table, context=context)
                result[phase] = time.perf_counter() - started
                result[f"{phase}_cpu"] = time.process_time() - cpu_started
            assert report.ok, [str(e) for e in report.errors[:5]]
            expected = report.created if phase == "seconds" else report.skipped
            assert expected == len(table.rows), report.summary()
            # The ids a COPY reserves (`SELECT nextval(...)`) are part of writing, not lookups.
            result[f"{phase}_lookups"] = sum(
                1
                for q in queries.captured_queries
                if q["sql"].lstrip().upper().startswith("SELECT")
                and not q["sql"].lstrip().upper().startswith("SELECT NEXTVAL")
            )
            del table, report  # the next phase's heap holds only what it makes
        transaction.savepoint_rollback(sid)
        return result

    def measure_actor_bulk_create(self, data):
        table = read_table(data, "bench.csv", kind="actors", max_bytes=len(data) + 1)
        parents = {a.slug: a.pk for a in Actor.objects.filter(slug__startswith="bench-body-")}
        sid = transaction.savepoint()
        gc.collect()
        with CaptureQueriesContext(connection) as queries:
            started, cpu_started = time.perf_counter(), time.process_time()
            actors = Actor.objects.bulk_create(
                [
                    Actor(
                        slug=row["slug"],
                        name=row["name"],
                        kind=row["kind"],
                        country=row["country"],
                        parent_id=parents[row["parent"]],
                        aliases=row["aliases"],
                        description=row["description"],
                        website=row["website"],
                    )
                    for row in table.rows
                ],
                batch_size=500,
            )
            ActorIdentifier.objects.bulk_create(
                [
                    ActorIdentifier(actor=actor, scheme=scheme, identifier=identifier)
                    for actor, row in zip(actors, table.rows, strict=True)
                    for scheme, _, identifier in (
                        i.partition(":") for i in row["identifiers"].split("|")
                    )
                ],
                batch_size=500,
            )
            elapsed = time.perf_counter() - started
            cpu = time.process_time() - cpu_started
        transaction.savepoint_rollback(sid)
        return {"seconds": elapsed, "cpu": cpu, "writes": len(queries.captured_queries)}

    def format_actors(self, rows, figures, repeat):
        imp, bulk = figures["import"], figures["bulk"]
        lines = [
            f"### bench_import actors on {connection.vendor}: {rows:,} actor rows with identifiers",
            "",
            f"- Date: {timezone.now():%Y-%m-%d %H:%M} UTC",
            f"- Machine: {os.cpu_count()} cores, {platform.machine()}, "
            f"Python {platform.python_version()}, {connection.vendor} {database_version()}",
            f"- Command: `python manage.py bench_import --type actors --rows {rows} "
            f"--repeat {repeat}` (fastest of {repeat}; everything rolled back)",
            "",
            "| measure | import | re-import (unchanged) | plain bulk_create |",
            "| --- | --- | --- | --- |",
            f"| time (wall clock) | {imp['seconds']:.2f} s | {imp['reimport']:.2f} s "
            f"| {bulk['seconds']:.2f} s |",
            f"| CPU time of this process | {imp['seconds_cpu']:.2f} s "
            f"| {imp['reimport_cpu']:.2f} s "
            f"| {bulk['cpu']:.2f} s |",
            f"| rows per second | {rows / imp['seconds']:,.0f} | {rows / imp['reimport']:,.0f} "
            f"| {rows / bulk['seconds']:,.0f} |",
            f"| lookup queries (SELECT) | {imp['seconds_lookups']} "
            f"| {imp['reimport_lookups']} | 0 |",
            "",
            "- Ratio to bulk_create (wall clock): import "
            f"**{imp['seconds'] / bulk['seconds']:.2f}x**, "
            f"re-import **{imp['reimport'] / bulk['seconds']:.2f}x**.",
            f"- Re-import is **{imp['seconds'] / imp['reimport']:.1f}x** faster than the import "
            "(target at least 5x); target at least 2,000 actor rows per second: "
            f"**{'met' if rows / imp['seconds'] >= 2000 else 'NOT met'}**.",
            "- In CPU time of this process (less sensitive to other load on the machine; it "
            "leaves out the database server's own work): import "
            f"{imp['seconds_cpu'] / bulk['cpu']:.2f}x bulk_create, "
            f"{rows / imp['seconds_cpu']:,.0f} rows per second; re-import "
            f"{imp['seconds_cpu'] / imp['reimport_cpu']:.1f}x faster than the import.",
        ]
        return "\n".join(lines) + "\n"

    # --- data ------------------------------------------------------------------------------

    def reference_data(self):
        topic = Topic.objects.create(slug="bench-topic", title="Benchmark topic")
        questions = [
            Question.objects.create(topic=topic, slug=f"q{i}", title=f"Question {i}")
            for i in range(3)
        ]
        actors = Actor.objects.bulk_create(
            Actor(slug=f"bench-actor-{i}", name=f"Actor {i}", kind=ActorKind.NGO)
            for i in range(300)
        )
        sources = Source.objects.bulk_create(
            Source(
                url=f"https://bench.example.org/{i}", title=f"Source {i}", kind=SourceKind.REPORT
            )
            for i in range(1000)
        )
        conditions = Condition.objects.bulk_create(
            Condition(slug=f"bench-condition-{i}", text=f"Condition {i}") for i in range(10)
        )
        return {
            "questions": {f"{q.topic.slug}/{q.slug}": q.pk for q in questions},
            "actors": {a.slug: a.pk for a in actors},
            "sources": {s.url: s.pk for s in sources},
            "conditions": {c.slug: c.pk for c in conditions},
        }

    def build_csv(self, rows, refs, rng):
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(TYPES["statements"].names)
        stances = list(Stance.values)
        start = datetime.date(2020, 1, 1)
        for i in range(rows):
            stance = stances[i % len(stances)]
            conditions = (
                rng.sample(list(refs["conditions"]), k=rng.randint(1, 2))
                if stance == Stance.CONDITIONAL
                else []
            )
            values = {
                "import_ref": f"bench-{i}",
                "question": rng.choice(list(refs["questions"])),
                "date": (start + datetime.timedelta(days=i % 1500)).isoformat(),
                "date_precision": "day",
                "stance": stance,
                "signatories": "|".join(rng.sample(list(refs["actors"]), k=rng.randint(1, 3))),
                "conditions": "|".join(conditions),
                "summary": f"Benchmark statement {i}, in a sentence of ordinary length.",
                "quote": "",
                "quote_locator": "",
                "attribution": "own_words",
                "source": rng.choice(list(refs["sources"])),
                "status": StatementStatus.PUBLISHED,
                "correction_note": "",
            }
            writer.writerow([values[c] for c in TYPES["statements"].names])
        return out.getvalue().encode()

    # --- measurements --------------------------------------------------------------------

    def measure_import(self, data):
        sid = transaction.savepoint()
        context = ImportContext(file_name="bench.csv", can_publish=True)
        with CaptureQueriesContext(connection) as queries:
            started, cpu_started = time.perf_counter(), time.process_time()
            table = read_table(data, "bench.csv", kind="statements")
            report = run_import(TYPES["statements"], table, context=context)
            elapsed = time.perf_counter() - started
            cpu = time.process_time() - cpu_started
        assert report.ok and report.created == len(table.rows), report.summary()
        history = Statement.history.filter(
            history_change_reason__startswith="Imported from bench.csv"
        ).count()
        transaction.savepoint_rollback(sid)
        sql = [q["sql"].lstrip().upper() for q in queries.captured_queries]
        return {
            "seconds": elapsed,
            "cpu": cpu,
            "lookups": sum(1 for q in sql if q.startswith("SELECT")),
            "writes": sum(1 for q in sql if not q.startswith(("SELECT", "SAVEPOINT", "RELEASE"))),
            "history": history,
        }

    def measure_bulk_create(self, data, refs):
        """The same rows, already parsed into ids, with plain bulk_create and nothing else."""
        table = read_table(data, "bench.csv", kind="statements")
        sid = transaction.savepoint()
        now = timezone.now()
        with CaptureQueriesContext(connection) as queries:
            started, cpu_started = time.perf_counter(), time.process_time()
            statements = Statement.objects.bulk_create(
                [
                    Statement(
                        import_ref=row["import_ref"],
                        question_id=refs["questions"][row["question"]],
                        date=datetime.date.fromisoformat(row["date"]),
                        stance=row["stance"],
                        summary=row["summary"],
                        source_id=refs["sources"][row["source"]],
                        status=row["status"],
                        first_published_at=now,
                    )
                    for row in table.rows
                ],
                batch_size=500,
            )
            Signatory.objects.bulk_create(
                [
                    Signatory(
                        statement=statement,
                        actor_id=refs["actors"][slug],
                        order=order,
                        is_lead=order == 0,
                    )
                    for statement, row in zip(statements, table.rows, strict=True)
                    for order, slug in enumerate(row["signatories"].split("|"))
                ],
                batch_size=500,
            )
            through = Statement.conditions.through
            through.objects.bulk_create(
                [
                    through(statement=statement, condition_id=refs["conditions"][slug])
                    for statement, row in zip(statements, table.rows, strict=True)
                    for slug in filter(None, row["conditions"].split("|"))
                ],
                batch_size=500,
            )
            elapsed = time.perf_counter() - started
            cpu = time.process_time() - cpu_started
        transaction.savepoint_rollback(sid)
        return {"seconds": elapsed, "cpu": cpu, "writes": len(queries.captured_queries)}

    # --- report ----------------------------------------------------------------------------

    def format(self, rows, figures, repeat):
        imp, bulk = figures["import"], figures["bulk"]
        ratio = imp["seconds"] / bulk["seconds"]
        per_row = imp["lookups"] / rows
        lookups_ok = per_row <= LOOKUPS_PER_ROW_TARGET
        ratio_ok = ratio <= RATIO_TARGET
        version = database_version()
        lines = [
            f"### bench_import on {connection.vendor}: {rows:,} statement rows",
            "",
            f"- Date: {timezone.now():%Y-%m-%d %H:%M} UTC",
            f"- Machine: {os.cpu_count()} cores, {platform.machine()}, "
            f"Python {platform.python_version()}, {connection.vendor} {version}",
            f"- Command: `python manage.py bench_import --rows {rows} --repeat {repeat}` "
            f"(fastest of {repeat} alternating runs of each side; everything rolled back)",
            "",
            "| measure | import (real path, with history) | plain bulk_create |",
            "| --- | --- | --- |",
            f"| time (wall clock) | {imp['seconds']:.2f} s | {bulk['seconds']:.2f} s |",
            f"| CPU time of this process | {imp['cpu']:.2f} s | {bulk['cpu']:.2f} s |",
            f"| rows per second | {rows / imp['seconds']:,.0f} | {rows / bulk['seconds']:,.0f} |",
            f"| lookup queries (SELECT) | {imp['lookups']} ({per_row:.4f} per row) | 0 |",
            f"| write queries | {imp['writes']} | {bulk['writes']} |",
            f"| statement history records | {imp['history']:,} | 0 |",
            "",
            f"- Lookups: {imp['lookups']} for {rows:,} rows = one per "
            f"{rows / max(imp['lookups'], 1):,.0f} rows; target at most one per 20: "
            f"**{'met' if lookups_ok else 'NOT met'}**.",
            f"- Ratio to bulk_create (wall clock): **{ratio:.2f}x**; target within 5x: "
            f"**{'met' if ratio_ok else 'NOT met'}**. In CPU time of this process: "
            f"{imp['cpu'] / bulk['cpu']:.2f}x (less sensitive to other load on the machine; "
            "it leaves out the database server's own work on PostgreSQL).",
        ]
        return "\n".join(lines) + "\n"


def database_version():
    if connection.vendor == "sqlite":
        return connection.Database.sqlite_version
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version" if connection.vendor == "postgresql" else "SELECT 1")
        return cursor.fetchone()[0]


def write_between_markers(path, report):
    """Put `report` between the `bench_import` markers (bench.report's shared rule)."""
    report_module.write_between_markers(path, report, START, END)
