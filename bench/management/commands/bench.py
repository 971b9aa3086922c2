"""
Measure every public page and the main admin pages against a baseline, write BENCHMARKS.md.

    make bench                          # on bench.sqlite3, or $DATABASE_URL; Redis for the cache
    DJANGO_SETTINGS_MODULE=bench.settings DEBUG=0 SECURE_SSL_REDIRECT=0 \
        CACHE_URL=redis://127.0.0.1:6379/0 manage.py bench --generate     # what it runs

The baseline is `/healthz`, a bare Django view served through the same middleware and the
same gunicorn server as the pages. Machines are noisy, so every figure is a median (p50) or
a 95th percentile of repeated requests, given as a ratio to the baseline measured in the same
run (for each page, right before it, as the machine's speed drifts); absolute times are listed
only beside their ratio.

What one run measures:
- every page named in positions/urls.py (found by name, so new pages are measured as they
  land) and the admin statement list, search and change page: p50/p95 latency over HTTP
  with the page cache cold (data version bumped before each request) and warm, response
  bytes, and queries (cold, warm, and a conditional GET answered 304);
- where a cold page's time goes in process: SQL, template, the rest (bench/breakdown.py);
- the position query (`stances.current_positions`) for the largest question;
- EXPLAIN (ANALYZE) of the pages' queries on PostgreSQL, flagging sequential scans;
- throughput under gunicorn with 2 workers and a loopback load generator, cold and warm;
- the import figures of `bench_import`, run in a process of its own.

Requests go only to 127.0.0.1, in bounded numbers and time. The pieces: bench/pages.py
(which pages, on which records), bench/queries.py, bench/breakdown.py and bench/load.py (the
measurements), bench/report.py (BENCHMARKS.md).
"""

import re
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings

from bench import report
from bench.breakdown import measure_breakdown
from bench.load import load_mix, measure_latency, measure_throughput, server_env
from bench.pages import admin_pages, discover_pages, pick_samples
from bench.queries import explain_hot_queries, measure_position_query, measure_queries
from positions import bulkdata
from positions.models import Statement


class Command(BaseCommand):
    help = __doc__.strip().splitlines()[0]

    def add_arguments(self, parser):
        parser.add_argument(
            "--generate",
            action="store_true",
            help="Generate the data set first (generate_data at the database's default "
            "scale) when the database has no statements.",
        )
        parser.add_argument("--scale", help="Preset for --generate (full, small, tiny).")
        parser.add_argument("--requests", type=int, default=25, help="Per page and cache state.")
        parser.add_argument("--admin-requests", type=int, default=10)
        parser.add_argument(
            "--page-seconds", type=float, default=30, help="At most, per page and cache state."
        )
        parser.add_argument("--port", type=int, default=8105)
        parser.add_argument("--threads", type=int, default=4, help="Load generator threads.")
        parser.add_argument("--load-seconds", type=float, default=20)
        parser.add_argument("--load-requests", type=int, default=4000)
        parser.add_argument(
            "--output",
            default=str(settings.BASE_DIR / "BENCHMARKS.md"),
            help="The results file (bench_import writes its figures there too).",
        )
        parser.add_argument(
            "--no-http",
            action="store_true",
            help="Skip the server measurements (latency, throughput): queries and bytes only.",
        )
        parser.add_argument("--no-import", action="store_true", help="Do not run bench_import.")
        parser.add_argument(
            "--pages", help="Measure only the pages whose label matches this regular expression."
        )

    def handle(self, *args, **options):
        self.options = options
        self.verbosity = options["verbosity"]
        self.started = time.monotonic()
        self.check_setup()
        if options["generate"] and not Statement.objects.exists():
            generate = ["generate_data"] + (
                ["--scale", options["scale"]] if options["scale"] else []
            )
            self.log(f"Generating the data set: {' '.join(generate)}")
            call_command(*generate, verbosity=self.verbosity)
        if not Statement.objects.exists():
            raise CommandError("The database has no statements: run with --generate.")
        with override_settings(SECURE_SSL_REDIRECT=False, ALLOWED_HOSTS=["127.0.0.1"]):
            results = self.measure()
        results["import"] = self.run_bench_import()
        results["import_section"] = report.import_section(options["output"])
        results["bulk_section"] = report.bulk_section(options["output"])
        Path(options["output"]).write_text(report.report(results))
        self.log(f"Wrote {options['output']} in {time.monotonic() - self.started:.0f} s.")

    def check_setup(self):
        if settings.DEBUG:
            raise CommandError("Run the benchmark with DEBUG=0, as in production (make bench).")
        backend = settings.CACHES["default"]["BACKEND"]
        if not self.options["no_http"] and ("locmem" in backend or "dummy" in backend):
            raise CommandError(
                "The server measurements need the cache the server uses, to empty it between "
                "cold requests: set CACHE_URL (e.g. redis://127.0.0.1:6379/0), or --no-http."
            )

    def measure(self):
        """Every measurement but the import's, in order: what the report is made of."""
        results = {"machine": report.machine(), "data": report.data_set()}
        samples = pick_samples(self.log)
        pages, results["unmeasured"] = discover_pages(samples, self.log)
        pages += admin_pages(samples, self.log)
        if self.options["pages"]:
            pages = [p for p in pages if re.search(self.options["pages"], p.label)]
        # With DEBUG off, pages need collected static files (a manifest of hashed names).
        self.log("collectstatic")
        call_command("collectstatic", interactive=False, verbosity=0)
        # The whole-data-set downloads are files written after changes (positions/bulkdata.py),
        # measured as readers get them: a database nobody wrote to since it was made has none.
        if bulkdata.manifest() is None:
            self.log("Writing the bulk data files (there are none yet)")
            bulkdata.write_files()
        pages, session_cookie = measure_queries(pages, self.log)
        measure_breakdown(pages, self.log)
        results["pages"] = pages
        results["positions"] = measure_position_query(samples["largest"], self.log)
        if not self.options["no_http"]:
            results["baseline"] = measure_latency(pages, self.options, session_cookie, self.log)
            paths = load_mix(pages, samples["actors_per_question"])
            results["throughput"] = measure_throughput(paths, self.options, self.log)
        results["explain"] = explain_hot_queries(pages, samples["largest"], self.log)
        return results

    def log(self, message):
        if self.verbosity:
            self.stdout.write(f"[{time.monotonic() - self.started:6.0f} s] {message}")
            self.stdout.flush()

    def run_bench_import(self):
        """`bench_import` in a process of its own, writing its figures into the output."""
        if self.options["no_import"]:
            return "Not run this time (--no-import); figures below are from its last run."
        self.log("bench_import")
        command = [sys.executable, "manage.py", "bench_import", "--output", self.options["output"]]
        try:
            completed = subprocess.run(  # noqa: S603
                command,
                cwd=settings.BASE_DIR,
                env=server_env(settings_module="bench.settings"),
                capture_output=True,
                text=True,
                timeout=1800,
            )
        except subprocess.TimeoutExpired:
            return "`bench_import` did not finish within 30 minutes."
        if completed.returncode:
            tail = (completed.stderr or completed.stdout).strip().splitlines()[-5:]
            return "`bench_import` failed:\n\n```\n" + "\n".join(tail) + "\n```"
        return "Run as part of this benchmark (`manage.py bench_import`)."
