"""
Bulk data and the stampede, measured: `manage.py bench_bulk` (bench settings; PostgreSQL
for the baselines).

- Writing the bulk files (`positions/bulkdata.py`): MB/s per file, and statements.csv
  against `psql \\copy` of the same columns and joins to a file, run right before it
  (the baseline: the database's own speed, with no Python).
- Downloading under the documented gunicorn settings (2 workers, 30 s timeout): the whole
  statements.csv from its file, checked complete, MB/s; and the largest question's
  statements.csv, streamed live (no file), against `psql \\copy` of those rows.
- The stampede: after a write (the data version bumped), 20 concurrent requests for the
  largest board on 2 workers, counted by their `X-Page-Cache` answer (computed / waited /
  hit): one computation is the target.
- The hit rate under edits: readers request a mix of pages (boards of several topics, actor
  pages, topic pages, the home page) while an editor re-saves a statement of one topic once
  a second through the write path; the share of answers served from the cache, of the pages
  computed the share of their fragments found stored (`X-Fragment-Cache`), and p50/p95
  per page kind, with scoped versions and then with every write bumping every page (the
  global invalidation they replace).

The figures go into BENCHMARKS.md between the `bench_bulk` markers (--no-write: not).
"""

import concurrent.futures
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.models import Count

from bench.load import Server, http_get, server_env
from bench.numbers import percentile
from bench.report import BULK_END, BULK_START, write_between_markers
from positions import bulkdata, caching
from positions.exchange import tables
from positions.models import (
    Actor,
    Condition,
    Position,
    Question,
    Signatory,
    Source,
    Statement,
    Topic,
)

START, END = BULK_START, BULK_END


def statements_copy_sql(question_id=None):
    """The statements download's columns and joins in SQL, for `psql \\copy`."""
    s, q, t = Statement._meta.db_table, Question._meta.db_table, Topic._meta.db_table
    src, sig, act = Source._meta.db_table, Signatory._meta.db_table, Actor._meta.db_table
    through = Statement.conditions.through._meta.db_table
    cond = Condition._meta.db_table
    where = "s.status IN ('published', 'retracted')"
    if question_id:
        where += f" AND s.question_id = {int(question_id)}"
    # Table names from the models and an int: nothing from outside goes into this SQL.
    return (
        "SELECT coalesce(nullif(s.import_ref, ''), 'pt-' || s.id), t.slug || '/' || q.slug, "  # noqa: S608
        "s.date, s.date_precision, s.stance, "
        f"(SELECT string_agg(a.slug, '|' ORDER BY g.\"order\", g.id) FROM {sig} g "
        f"JOIN {act} a ON a.id = g.actor_id WHERE g.statement_id = s.id), "
        f"(SELECT string_agg(c.slug, '|' ORDER BY c.slug) FROM {through} sc "
        f"JOIN {cond} c ON c.id = sc.condition_id WHERE sc.statement_id = s.id), "
        "s.summary, s.quote, s.quote_locator, s.attribution, "
        "coalesce(nullif(src.url, ''), src.title), s.status, s.correction_note "
        f"FROM {s} s JOIN {q} q ON q.id = s.question_id JOIN {t} t ON t.id = q.topic_id "
        f"LEFT JOIN {src} src ON src.id = s.source_id WHERE {where} ORDER BY s.date, s.id"
    )


def export_copy_sql(kind):
    """The export's own SELECT (`positions.exchange.tables`) with its parameters inlined."""
    sql, params = tables.select_sql(kind)
    with connection.cursor() as cursor:
        return cursor.cursor.mogrify(sql, params)


def psql_copy(sql, target):
    """Seconds and bytes of `psql \\copy (sql) TO target CSV HEADER`."""
    params = connection.get_connection_params()
    env = {**os.environ, "PGPASSWORD": str(params.get("password") or "")}
    command = [
        shutil.which("psql") or "psql",
        "-h",
        str(params.get("host") or "127.0.0.1"),
        "-p",
        str(params.get("port") or 5432),
        "-U",
        str(params.get("user") or "postgres"),
        "-d",
        str(params.get("dbname")),
        "-c",
        f"\\copy ({sql}) TO '{target}' WITH (FORMAT csv, HEADER)",
    ]
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, capture_output=True)  # noqa: S603
    return time.perf_counter() - started, Path(target).stat().st_size


def mbps(size, seconds):
    return size / seconds / 1e6 if seconds else 0.0


class Command(BaseCommand):
    help = __doc__.strip().splitlines()[0]

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8115)
        parser.add_argument("--concurrent", type=int, default=20)
        parser.add_argument("--no-write", action="store_true")
        parser.add_argument("--output", default=str(Path(settings.BASE_DIR) / "BENCHMARKS.md"))

    def log(self, text):
        self.stdout.write(text)
        self.stdout.flush()

    def handle(self, *args, **options):
        if not Statement.objects.exists():
            raise CommandError("No statements: run generate_data first.")
        call_command("collectstatic", interactive=False, verbosity=0)  # gunicorn serves pages
        postgres = connection.vendor == "postgresql"
        lines = [f"### bench_bulk on {connection.vendor}: {time.strftime('%Y-%m-%d %H:%M UTC')}"]
        lines.append("")
        statements = Statement.objects.count()
        lines.append(f"{statements:,} statements; load average {os.getloadavg()[0]:.2f} at start.")
        lines.append("")

        scratch = Path(tempfile.mkdtemp(prefix="bench-bulk-"))
        try:
            baseline, copies = None, {}
            if postgres:
                self.log("psql \\copy of the statements' columns ...")
                seconds, size = psql_copy(statements_copy_sql(), scratch / "copy.csv")
                baseline = mbps(size, seconds)
                self.log(f"  {size / 1e6:.1f} MB in {seconds:.1f} s: {baseline:.2f} MB/s")
                self.log("psql \\copy of each export's own SELECT ...")
                for kind in tables.TABLES:
                    copies[kind] = psql_copy(export_copy_sql(kind), scratch / f"{kind}.csv")
                    self.log(f"  {kind:<12} {mbps(copies[kind][1], copies[kind][0]):6.2f} MB/s")
            self.log(f"Writing the bulk files to {bulkdata.directory()} ...")
            manifest = bulkdata.write_files(
                lambda name, entry, s: self.log(
                    f"  {name:<18} {entry['size'] / 1e6:8.1f} MB {s:7.1f} s "
                    f"{mbps(entry['size'], s):6.2f} MB/s"
                )
            )
            lines += [
                "| file | MB | gzip MB | seconds | MB/s | vs psql \\copy of the statements' "
                "columns | vs psql \\copy of the export's SELECT |",
                "|---|---|---|---|---|---|---|",
            ]
            for name, entry in manifest["files"].items():
                rate = mbps(entry["size"], entry["seconds"])
                ratio = f"{rate / baseline:.2f}" if baseline and name == "statements.csv" else ""
                lines.append(
                    f"| {name} | {entry['size'] / 1e6:.1f} | {entry['gzip_size'] / 1e6:.1f} | "
                    f"{entry['seconds']:.1f} | {rate:.2f} | {ratio} | "
                    f"{self.copy_ratio(name, entry, copies)} |"
                )
            if baseline:
                lines.append("")
                lines.append(
                    f"psql `\\copy` of the statements' columns: {baseline:.2f} MB/s (baseline, "
                    "same run, right before). The export's SELECT is the one the CSV files are "
                    "written with (joins, lists, the formula guard): a CSV file's ratio is the "
                    "cost of the bytes' way through Python (gzip and SHA-256 included); a JSON "
                    "file is set against the time psql takes for the same rows as CSV (all.json: "
                    "every type's)."
                )
            lines.append("")
            lines += self.downloads(options, scratch, postgres)
            lines.append("")
            lines += self.stampede(options)
            lines.append("")
            lines += self.hit_rate(options)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        report = "\n".join(lines) + "\n"
        self.log(report)
        if not options["no_write"]:
            write_between_markers(Path(options["output"]), report, START, END)

    def copy_ratio(self, name, entry, copies):
        """Against psql's time for the same rows: the file's seconds / psql's seconds."""
        kind, fmt = name.rsplit(".", 1)
        if kind == "all":
            kinds = list(copies)
        elif kind in copies:
            kinds = [kind]
        else:
            return ""
        psql_seconds = sum(copies[k][0] for k in kinds)
        if fmt == "csv":  # same bytes: the ratio of the rates
            return (
                f"{mbps(entry['size'], entry['seconds']) / mbps(copies[kind][1], psql_seconds):.2f}"
            )
        return f"{psql_seconds / entry['seconds']:.2f} (time)" if entry["seconds"] else ""

    def downloads(self, options, scratch, postgres):
        question = (
            Question.objects.annotate(n=Count("statements")).order_by("-n").select_related("topic")
        ).first()
        env = server_env()
        env["BULK_DATA_DIR"] = str(bulkdata.directory())
        lines = [
            "| download (gunicorn, 2 workers, --timeout 30) | MB | seconds | MB/s "
            "| vs psql \\copy |"
        ]
        lines.append("|---|---|---|---|---|")
        with Server(options["port"], 2, env, timeout=30):
            status, body, headers, seconds = http_get(options["port"], "/data/statements.csv")
            whole = (bulkdata.directory() / "statements.csv").stat().st_size
            complete = status == 200 and len(body) == whole
            lines.append(
                f"| /data/statements.csv (the file){'' if complete else ' INCOMPLETE'} | "
                f"{len(body) / 1e6:.1f} | {seconds:.1f} | {mbps(len(body), seconds):.2f} | |"
            )
            path = f"/topics/{question.topic.slug}/{question.slug}/statements.csv"
            status, body, headers, seconds = http_get(options["port"], path)
            rate, ratio = mbps(len(body), seconds), ""
            if postgres:
                copy_s, copy_size = psql_copy(
                    statements_copy_sql(question.pk), scratch / "question.csv"
                )
                ratio = f"{rate / mbps(copy_size, copy_s):.2f}"
            lines.append(
                f"| {path} (streamed live, {question.n:,} statements) | {len(body) / 1e6:.1f} | "
                f"{seconds:.1f} | {rate:.2f} | {ratio} |"
            )
        return lines

    def stampede(self, options):
        largest = (
            Position.objects.values("question_id").annotate(n=Count("pk")).order_by("-n").first()
        )
        question = Question.objects.select_related("topic").get(pk=largest["question_id"])
        question.n = largest["n"]
        path = question.get_absolute_url()
        count = options["concurrent"]
        with Server(options["port"], 2, server_env()):
            http_get(options["port"], path)  # warm the processes
            caching.bump_data_version()  # a write: every page cold
            with concurrent.futures.ThreadPoolExecutor(count) as pool:
                answers = list(pool.map(lambda _: http_get(options["port"], path), range(count)))
        kinds = {}
        for status, _body, headers, _seconds in answers:
            if status != 200:
                raise CommandError(f"{path} answered HTTP {status} under gunicorn.")
            how = headers.get("X-Page-Cache", "none")
            kinds[how] = kinds.get(how, 0) + 1
        times = sorted(a[3] for a in answers)
        return [
            f"Stampede: after a write, {count} concurrent requests for the largest board "
            f"({question.n:,} actors) on 2 gunicorn workers: "
            + ", ".join(f"{n} {how}" for how, n in sorted(kinds.items()))
            + f"; p50 {times[len(times) // 2] * 1000:.0f} ms, max {times[-1] * 1000:.0f} ms."
        ]

    def hit_rate(self, options, seconds=20, threads=4):
        """Readers over a mix of pages while an editor writes once a second to one topic."""
        topics = list(Topic.objects.order_by("pk")[:4])
        mix = []
        for topic in topics:
            mix.append(("topic", topic.get_absolute_url()))
            for question in topic.questions.order_by("display_order", "pk")[:2]:
                mix.append(("board", question.get_absolute_url()))
        for actor in Actor.objects.order_by("pk")[:8]:
            mix.append(("actor", actor.get_absolute_url()))
        mix.append(("home", "/"))
        edited = (
            Statement.objects.published().filter(question__topic=topics[0]).order_by("pk").first()
        )
        lines = [
            f"Hit rate under edits: {threads} reader threads over {len(mix)} pages for "
            f"{seconds} s on 2 gunicorn workers; an editor re-saves a statement of "
            f"“{topics[0].title}” once a second.",
            "",
            "| invalidation | page kind | requests | from the cache | computed | fragments "
            "reused when computed | p50 ms | p95 ms |",
            "|---|---|---|---|---|---|---|---|",
        ]
        with Server(options["port"], 2, server_env()):
            for mode in ("scoped", "global"):
                answers = self.readers_while_editing(options, mix, edited, mode, seconds, threads)
                for kind in ("board", "topic", "actor", "home"):
                    rows = [a for a in answers if a[0] == kind]
                    if not rows:
                        continue
                    cached = sum(1 for a in rows if a[1] in ("hit", "waited"))
                    # A computed page says how many of its fragments it found stored.
                    reused = [a[3] for a in rows if a[1] == "computed" and a[3]]
                    pieces = sum(total for _hits, total in reused)
                    share = f"{100 * sum(h for h, _t in reused) / pieces:.0f}%" if pieces else "-"
                    times = [a[2] * 1000 for a in rows]
                    lines.append(
                        f"| {mode} | {kind} | {len(rows)} | {100 * cached / len(rows):.0f}% | "
                        f"{len(rows) - cached} | {share} | "
                        f"{percentile(times, 0.5):.0f} | {percentile(times, 0.95):.0f} |"
                    )
        return lines

    def readers_while_editing(self, options, mix, statement, mode, seconds, threads):
        import threading

        from positions import writes

        for _kind, path in mix:  # warm: every page computed once
            http_get(options["port"], path)
        answers, lock, stop = [], threading.Lock(), threading.Event()

        def reader(offset):
            index = offset
            while not stop.is_set():
                kind, path = mix[index % len(mix)]
                index += 1
                status, _body, headers, elapsed = http_get(options["port"], path)
                fragments = headers.get("X-Fragment-Cache", "")
                hits_and_pieces = tuple(map(int, fragments.split("/"))) if fragments else None
                with lock:
                    answers.append(
                        (kind, headers.get("X-Page-Cache", "none"), elapsed, hits_and_pieces)
                    )

        pool = [threading.Thread(target=reader, args=(n * 3,)) for n in range(threads)]
        for thread in pool:
            thread.start()
        deadline = time.monotonic() + seconds
        edits = 0
        while time.monotonic() < deadline:
            with writes.writing():
                statement.summary = f"{statement.summary.split(' [')[0]} [edit {edits}]"
                writes.save(statement)
            if mode == "global":
                caching.bump_data_version()
            edits += 1
            time.sleep(1)
        stop.set()
        for thread in pool:
            thread.join()
        return answers
