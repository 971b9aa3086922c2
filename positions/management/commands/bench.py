"""
Measure every public page and the main admin pages against a baseline, write BENCHMARKS.md.

    DEBUG=0 SECURE_SSL_REDIRECT=0 CACHE_URL=redis://127.0.0.1:6379/0 manage.py bench --generate
    make bench                                  # the same, on bench.sqlite3 or $DATABASE_URL

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
- the position query (`stances.current_positions`) for the largest question;
- EXPLAIN (ANALYZE) of the pages' queries on PostgreSQL, flagging sequential scans;
- throughput under gunicorn with 2 workers and a loopback load generator, cold and warm;
- the import figures of `bench_import`, if that command exists (its section is kept).

Requests go only to 127.0.0.1, in bounded numbers and time.
"""

import http.client
import os
import platform
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from unittest import mock
from urllib.parse import urlencode

import django
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandError
from django.core.signals import request_finished
from django.db import close_old_connections, connection
from django.db.models import Count
from django.template.backends.django import Template as DjangoTemplate
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import NoReverseMatch, URLPattern, URLResolver, resolve, reverse
from django.utils import timezone

from positions import stances
from positions.caching import bump_data_version
from positions.models import (
    Actor,
    Condition,
    Question,
    Signatory,
    Source,
    Statement,
    StatementStatus,
    Topic,
)

IMPORT_START = "<!-- bench_import:start -->"
IMPORT_END = "<!-- bench_import:end -->"
# Tables big enough that a sequential scan on them is a bug at scale.
BIG_TABLE_ROWS = 50_000
BENCH_USER = "bench-admin"
# Values for URL parameters that no sample record provides (downloads: format, data set).
DEFAULT_PARAMS = {"fmt": "csv", "kind": "statements", "section": "statements"}
# Downloads stream: only their first megabyte is read, and timed.
STREAM_LIMIT = 1_000_000
# The throughput mix: boards of at most this many actors, pages of at most this size.
MIX_MAX_ACTORS = 1000
MIX_MAX_BYTES = 1_000_000
BASELINE_PATH = "/healthz"
# Baseline requests measured right before each page, for that page's ratios.
LOCAL_BASELINE = 15
# Cold requests per page for the in-process breakdown of their time.
BREAKDOWN_REQUESTS = 7


def percentile(values, share):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def ms(seconds):
    return f"{seconds * 1000:.1f} ms"


def ratio(value, baseline):
    if not baseline or value != value:  # NaN
        return "n/a"
    return f"{value / baseline:.1f}x"


# --- HTTP against a real server ------------------------------------------------------


def http_get(port, path, headers=None, timeout=120, max_bytes=None):
    """
    One GET over a fresh loopback connection: (status, body bytes, headers, seconds). With
    `max_bytes`, stops reading there (a download is timed to its first megabyte).
    """
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Host": "127.0.0.1", **(headers or {})})
        response = conn.getresponse()
        body = response.read(max_bytes) if max_bytes else response.read()
        elapsed = time.perf_counter() - started
        return response.status, body, dict(response.getheaders()), elapsed
    finally:
        conn.close()


class Server:
    """gunicorn on a loopback port, started and stopped by its process id."""

    def __init__(self, port, workers, env):
        self.port, self.workers, self.env = port, workers, env
        self.process = None

    def __enter__(self):
        gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent))
        command = [gunicorn] if gunicorn else [sys.executable, "-m", "gunicorn"]
        command += [
            "tracker.wsgi",
            "--workers",
            str(self.workers),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--timeout",
            "300",
            "--log-level",
            "warning",
        ]
        self.process = subprocess.Popen(  # noqa: S603
            command, cwd=settings.BASE_DIR, env=self.env, stdout=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise CommandError(f"gunicorn exited with code {self.process.returncode}.")
            try:
                if http_get(self.port, "/healthz", timeout=2)[0] == 200:
                    return self
            except OSError:
                time.sleep(0.2)
        self.__exit__()
        raise CommandError(f"gunicorn did not answer on port {self.port} within 60 s.")

    def __exit__(self, *exc):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def load(port, paths, threads, max_requests, max_seconds, loop):
    """
    Request `paths` from `threads` threads; each path once unless `loop`, then round and
    round. Stops at `max_requests` or `max_seconds`. Returns (requests, errors, seconds,
    latencies).
    """
    lock = threading.Lock()
    state = {"next": 0, "errors": Counter(), "latencies": []}
    deadline = time.monotonic() + max_seconds

    def take():
        with lock:
            index = state["next"]
            if index >= max_requests or (not loop and index >= len(paths)):
                return None
            if time.monotonic() > deadline:
                return None
            state["next"] += 1
            return paths[index % len(paths)]

    def worker():
        while (path := take()) is not None:
            try:
                status, _, _, elapsed = http_get(port, path, timeout=60)
            except OSError as error:
                with lock:
                    state["errors"][type(error).__name__] += 1
                continue
            with lock:
                state["latencies"].append(elapsed)
                if status != 200:
                    state["errors"][f"HTTP {status}"] += 1

    started = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return state["next"], state["errors"], time.perf_counter() - started, state["latencies"]


# --- The pages -------------------------------------------------------------------------


class Page:
    def __init__(self, label, path, admin=False, target=None):
        self.label, self.path, self.admin, self.target = label, path, admin, target
        self.queries = {}
        self.bytes = 0
        self.status = None
        self.latency = {}
        self.baseline = None
        self.sql = []
        self.streaming = False
        self.breakdown = None


def positions_url_names():
    """Every named page of positions/urls.py, with its parameter names, in file order."""
    from positions import urls

    names = []

    def walk(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns)
            elif isinstance(pattern, URLPattern) and pattern.name:
                # path() patterns list their converters; re_path() ones their named groups.
                params = (
                    pattern.pattern.converters or getattr(pattern.pattern, "regex", None).groupindex
                )
                names.append((pattern.name, tuple(params)))

    walk(urls.urlpatterns)
    return names


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
        parser.add_argument("--output", default=str(settings.BASE_DIR / "BENCHMARKS.md"))
        parser.add_argument(
            "--no-http",
            action="store_true",
            help="Skip the server measurements (latency, throughput): queries and bytes only.",
        )
        parser.add_argument("--no-import", action="store_true", help="Do not run bench_import.")
        parser.add_argument(
            "--pages", help="Measure only the pages whose label matches this regular expression."
        )

    # --- run ----------------------------------------------------------------------------

    def handle(self, *args, **options):
        self.options = options
        self.verbosity = options["verbosity"]
        self.started = time.monotonic()
        self.http = not options["no_http"]
        if settings.DEBUG:
            raise CommandError("Run the benchmark with DEBUG=0, as in production (make bench).")
        if self.http and not self.cache_is_shared():
            raise CommandError(
                "The server measurements need the cache the server uses, to empty it between "
                "cold requests: set CACHE_URL (e.g. redis://127.0.0.1:6379/0), or --no-http."
            )
        if options["generate"] and not Statement.objects.exists():
            generate = ["generate_data"] + (
                ["--scale", options["scale"]] if options["scale"] else []
            )
            self.log(f"Generating the data set: {' '.join(generate)}")
            call_command(*generate, verbosity=self.verbosity)
        if not Statement.objects.exists():
            raise CommandError("The database has no statements: run with --generate.")

        with override_settings(SECURE_SSL_REDIRECT=False, ALLOWED_HOSTS=["127.0.0.1"]):
            self.results = {"machine": self.machine(), "data": self.data_set()}
            self.samples = self.pick_samples()
            self.pages = self.discover_pages() + self.admin_pages()
            if options["pages"]:
                self.pages = [p for p in self.pages if re.search(options["pages"], p.label)]
            self.ensure_static_files()
            self.measure_queries()
            self.measure_breakdown()
            self.results["positions"] = self.measure_position_query()
            if self.http:
                self.measure_http()
            self.results["explain"] = self.explain_hot_queries()
        self.results["import"] = self.run_bench_import()
        Path(self.options["output"]).write_text(self.report())
        self.log(f"Wrote {self.options['output']} in {time.monotonic() - self.started:.0f} s.")

    def log(self, message):
        if self.verbosity:
            self.stdout.write(f"[{time.monotonic() - self.started:6.0f} s] {message}")
            self.stdout.flush()

    def cache_is_shared(self):
        backend = settings.CACHES["default"]["BACKEND"]
        return "locmem" not in backend and "dummy" not in backend

    # --- context ------------------------------------------------------------------------

    def machine(self):
        memory = ""
        try:
            with open("/proc/meminfo") as meminfo:
                kib = int(meminfo.readline().split()[1])
                memory = f"{kib / 1024 / 1024:.1f} GiB"
        except (OSError, ValueError, IndexError):
            pass
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SHOW server_version")
                database = f"PostgreSQL {cursor.fetchone()[0]}"
                tuning = []
                for name in ("shared_buffers", "work_mem", "random_page_cost", "jit"):
                    cursor.execute(f"SHOW {name}")
                    tuning.append(f"{name}={cursor.fetchone()[0]}")
                database += f" ({', '.join(tuning)})"
            elif connection.vendor == "sqlite":
                cursor.execute("select sqlite_version()")
                database = f"SQLite {cursor.fetchone()[0]}"
            else:
                database = connection.vendor
        return {
            "date": timezone.now().strftime("%Y-%m-%d %H:%M UTC"),
            "cores": os.cpu_count(),
            "memory": memory,
            "cpu": self.cpu_model(),
            "python": platform.python_version(),
            "django": django.get_version(),
            "database": database,
            "cache": settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1],
            "platform": platform.platform(),
        }

    def cpu_model(self):
        try:
            for line in Path("/proc/cpuinfo").read_text().splitlines():
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
        except OSError:
            pass
        return platform.processor()

    def data_set(self):
        counts = {
            "actors": Actor.objects.count(),
            "topics": Topic.objects.count(),
            "questions": Question.objects.count(),
            "sources": Source.objects.count(),
            "conditions": Condition.objects.count(),
            "statements": Statement.objects.count(),
            "signatories": Signatory.objects.count(),
        }
        by_status = dict(
            Statement.objects.values_list("status").annotate(n=Count("id")).order_by("status")
        )
        counts["statements by status"] = ", ".join(f"{k} {v:,}" for k, v in by_status.items())
        return counts

    def pick_samples(self):
        """The records the pages are measured on: the heaviest ones, and a typical board."""
        self.log("Picking samples")
        actors_per_question = list(
            Signatory.objects.filter(statement__status=StatementStatus.PUBLISHED)
            .values_list("statement__question_id")
            .annotate(n=Count("actor_id", distinct=True))
            .order_by("-n", "statement__question_id")
        )
        largest_id, largest_n = actors_per_question[0]
        typical_id, typical_n = min(
            actors_per_question, key=lambda row: (abs(row[1] - 200), row[0])
        )
        largest = Question.objects.select_related("topic").get(pk=largest_id)
        typical = Question.objects.select_related("topic").get(pk=typical_id)
        busiest_actor_id = (
            Signatory.objects.values_list("actor_id")
            .annotate(n=Count("id"))
            .order_by("-n", "actor_id")
            .first()[0]
        )
        statement = (
            Statement.objects.published()
            .filter(question=typical, signatures__isnull=False)
            .order_by("-date", "-pk")
            .first()
        )
        condition = (
            Condition.objects.filter(statements__question=largest).order_by("pk").first()
            or Condition.objects.order_by("pk").first()
        )
        samples = {
            "actors_per_question": actors_per_question,
            "largest": largest,
            "largest_actors": largest_n,
            "typical": typical,
            "typical_actors": typical_n,
            "actor": Actor.objects.get(pk=busiest_actor_id),
            "topic": largest.topic,
            "statement": statement,
            "source": statement.source if statement else Source.objects.first(),
            "condition": condition,
        }
        self.log(
            f"largest question {largest.pk} ({largest_n} actors), typical {typical.pk} "
            f"({typical_n} actors), actor {busiest_actor_id}"
        )
        return samples

    def discover_pages(self):
        """
        One page per URL name of positions/urls.py. Parameters come from the samples'
        `get_absolute_url()`: a name whose parameters match a sample's URL takes them,
        preferring the sample whose page name it contains (`feed_actor` -> actor).
        """
        s = self.samples
        objects = {
            "question": [
                (f"largest, {s['largest_actors']} actors", s["largest"]),
                (f"{s['typical_actors']} actors", s["typical"]),
            ],
            "topic": [("", s["topic"])],
            "actor": [("", s["actor"])],
            "statement": [("", s["statement"])],
            "source": [("", s["source"])],
            "condition": [("", s["condition"])],
        }
        candidates = []  # (url name, kwargs, variant label)
        for _, variants in objects.items():
            for variant, obj in variants:
                if obj is None:
                    continue
                try:
                    match = resolve(obj.get_absolute_url())
                except (NoReverseMatch, AttributeError, Exception):  # noqa: BLE001, S112
                    continue
                candidates.append((match.url_name, match.kwargs, variant))

        pages, self.unmeasured = [], []
        for name, params in positions_url_names():
            fixed = {p: DEFAULT_PARAMS[p] for p in params if p in DEFAULT_PARAMS}
            rest = set(params) - set(fixed)
            if not rest:
                pages.append(Page(name, reverse(f"positions:{name}", kwargs=fixed)))
                continue
            matching = [c for c in candidates if set(c[1]) == rest]
            matching.sort(key=lambda c: (c[0] not in name, -len(c[0])))
            if not matching:
                self.log(f"  {name}: no sample fits its parameters {params}; not measured")
                self.unmeasured.append((name, params))
                continue
            family = matching[0][0]
            for url_name, kwargs, variant in matching:
                if url_name != family:
                    continue
                kwargs = {**kwargs, **fixed}
                label = f"{name} ({variant})" if variant else name
                target = None
                if name == "question" and "largest" not in variant:
                    target = 10
                if name == "actor":
                    target = 6
                pages.append(
                    Page(label, reverse(f"positions:{name}", kwargs=kwargs), target=target)
                )
        return pages

    def admin_pages(self):
        statement = self.samples["statement"]
        try:
            changelist = reverse("admin:positions_statement_changelist")
        except NoReverseMatch:
            self.log("  Statement is not in the admin: no admin pages measured")
            return []
        # What editors search for most: an actor's statements, by the actor's name.
        term = self.samples["actor"].name
        pages = [
            Page("admin statement list", changelist, admin=True, target=150),
            Page(
                f"admin search ({term!r})",
                f"{changelist}?{urlencode({'q': term})}",
                admin=True,
                target=150,
            ),
        ]
        if statement:
            pages.append(
                Page(
                    "admin statement change",
                    reverse("admin:positions_statement_change", args=[statement.pk]),
                    admin=True,
                )
            )
        return pages

    # --- in-process measurements ---------------------------------------------------------

    def admin_client(self):
        user, _ = get_user_model().objects.get_or_create(
            username=BENCH_USER, defaults={"is_staff": True, "is_superuser": True}
        )
        if not (user.is_staff and user.is_superuser):
            raise CommandError(f"The user {BENCH_USER!r} exists and is not a superuser.")
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(user)
        return client

    def measure_queries(self):
        """Queries per page: cold (cache emptied), warm, and a conditional GET (304)."""
        self.log("Counting queries")
        anonymous, admin = Client(HTTP_HOST="127.0.0.1"), self.admin_client()
        self.session_cookie = admin.cookies[settings.SESSION_COOKIE_NAME].value
        kept = []
        for page in self.pages:
            client = admin if page.admin else anonymous
            bump_data_version()
            with CaptureQueriesContext(connection) as cold:
                response = client.get(page.path)
            page.status = response.status_code
            if response.status_code != 200:
                self.log(f"  {page.label}: HTTP {response.status_code}, not measured")
                continue
            if response.streaming:
                page.streaming, page.bytes = True, 0
                for chunk in response.streaming_content:
                    page.bytes += len(chunk)
                    if page.bytes >= STREAM_LIMIT:
                        break
                # Closing sends request_finished, which would close the database connection
                # (and end a test's transaction): the test client keeps it open, so do we.
                request_finished.disconnect(close_old_connections)
                try:
                    response.close()
                finally:
                    request_finished.connect(close_old_connections)
            else:
                page.bytes = len(response.content)
            page.queries["cold"] = len(cold)
            page.sql = [q["sql"] for q in cold.captured_queries]
            with CaptureQueriesContext(connection) as warm:
                client.get(page.path)
            page.queries["warm"] = len(warm)
            etag = response.get("ETag")
            if etag:
                with CaptureQueriesContext(connection) as revalidated:
                    again = client.get(page.path, HTTP_IF_NONE_MATCH=etag)
                page.queries["304"] = (
                    len(revalidated) if again.status_code == 304 else f"HTTP {again.status_code}"
                )
            kept.append(page)
            self.log(f"  {page.label}: {page.bytes:,} bytes, queries {page.queries}")
        self.pages = kept

    def measure_breakdown(self):
        """
        Where a cold page's time goes, in this process (no server, no network): its SQL
        (execute and fetch), the rendering of its template, and the rest (view code, model
        instances, the page cache, middleware). Medians of each over a few cold requests.
        """
        self.log("Cold pages in process: SQL, templates, the rest")
        sql_time, render_time = [0.0], [0.0]

        def timed_execute(execute, sql, params, many, context):
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                sql_time[0] += time.perf_counter() - started

        page_render = DjangoTemplate.render

        def timed_render(template, *args, **kwargs):
            # Less the queries run while rendering (querysets evaluated by the template).
            started, sql_before = time.perf_counter(), sql_time[0]
            try:
                return page_render(template, *args, **kwargs)
            finally:
                elapsed = time.perf_counter() - started
                render_time[0] += elapsed - (sql_time[0] - sql_before)

        client = Client(HTTP_HOST="127.0.0.1")
        for page in self.pages:
            if page.admin or page.streaming:
                continue
            samples = []
            with (
                connection.execute_wrapper(timed_execute),
                # The backend's render is the page's own template, includes and tags within.
                mock.patch.object(DjangoTemplate, "render", timed_render),
            ):
                client.get(page.path)  # Code and templates loaded, connection open.
                for _ in range(BREAKDOWN_REQUESTS):
                    bump_data_version()
                    sql_time[0] = render_time[0] = 0.0
                    started = time.perf_counter()
                    client.get(page.path)
                    samples.append((time.perf_counter() - started, sql_time[0], render_time[0]))
            total, sql, render = (
                statistics.median(column) for column in zip(*samples, strict=True)
            )
            page.breakdown = {"total": total, "sql": sql, "render": render}

    def measure_position_query(self):
        """
        `current_positions` for the largest question: each actor's stance and deciding
        statement (the ORM call, and its SQL alone), and the same rows loaded as objects
        with their actor, statement and source, as a download reads them.
        """
        question = self.samples["largest"]
        self.log(f"Position query for question {question.pk}")

        def positions():
            return stances.current_positions(question).values_list(
                "actor_id", "position_stance", "statement_id", "position_date"
            )

        orm, sql_only, objects = [], [], []
        sql, params = positions().query.sql_with_params()
        for _ in range(7):
            started = time.perf_counter()
            rows = len(list(positions()))
            orm.append(time.perf_counter() - started)
            with connection.cursor() as cursor:
                started = time.perf_counter()
                cursor.execute(sql, params)
                cursor.fetchall()
                sql_only.append(time.perf_counter() - started)
            started = time.perf_counter()
            list(stances.current_positions(question))
            objects.append(time.perf_counter() - started)
        return {
            "question": question,
            "rows": rows,
            "orm_p50": statistics.median(orm),
            "sql_p50": statistics.median(sql_only),
            "objects_p50": statistics.median(objects),
        }

    def ensure_static_files(self):
        """With DEBUG off, pages need collected static files (a manifest of hashed names)."""
        self.log("collectstatic")
        call_command("collectstatic", interactive=False, verbosity=0)

    # --- server measurements -----------------------------------------------------------

    def server_env(self):
        env = dict(os.environ)
        env.update(
            DEBUG="0",
            SECRET_KEY=settings.SECRET_KEY,
            SECURE_SSL_REDIRECT="0",
            ALLOWED_HOSTS="127.0.0.1",
            PYTHONUNBUFFERED="1",
        )
        return env

    def timed(self, port, path, count, cold, cookie=None, max_bytes=None):
        headers = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}"} if cookie else {}
        times, deadline = [], time.monotonic() + self.options["page_seconds"]
        # Untimed: templates and code get loaded, and the server finishes what it was doing.
        http_get(port, path, headers, max_bytes=max_bytes)
        for _ in range(count):
            if cold:
                bump_data_version()
            status, _, _, elapsed = http_get(port, path, headers, max_bytes=max_bytes)
            if status != 200:
                raise CommandError(f"{path} answered HTTP {status} under gunicorn.")
            times.append(elapsed)
            if time.monotonic() > deadline and len(times) >= 3:
                break
        return {"p50": statistics.median(times), "p95": percentile(times, 0.95), "n": len(times)}

    def measure_http(self):
        port = self.options["port"]
        self.log(f"Latency under gunicorn (1 worker) on 127.0.0.1:{port}")
        with Server(port, 1, self.server_env()):
            count = self.options["requests"]
            self.baseline = self.timed(port, BASELINE_PATH, count * 4, cold=False)
            self.log(f"  baseline /healthz p50 {ms(self.baseline['p50'])}")
            for page in self.pages:
                # The page's ratios are to a baseline measured right before it: the machine's
                # speed drifts during a run (other tenants of the host).
                page.baseline = self.timed(port, BASELINE_PATH, LOCAL_BASELINE, cold=False)
                cookie = self.session_cookie if page.admin else None
                n = self.options["admin_requests"] if page.admin else count
                if page.streaming:
                    # Never cached: one measure, of the first megabyte.
                    page.latency["cold"] = self.timed(
                        port, page.path, 3, cold=True, max_bytes=STREAM_LIMIT
                    )
                    continue
                page.latency["cold"] = self.timed(port, page.path, n, cold=True, cookie=cookie)
                if not page.admin:
                    page.latency["warm"] = self.timed(port, page.path, n, cold=False)
                self.log(
                    f"  {page.label}: cold p50 {ms(page.latency['cold']['p50'])}"
                    + (
                        f", warm {ms(page.latency['warm']['p50'])}"
                        if "warm" in page.latency
                        else ""
                    )
                )
        self.results["throughput"] = self.measure_throughput(port)

    def load_mix(self):
        """
        Distinct public URLs as readers spread over them: the measured pages, and boards,
        actors and statements picked by a fixed seed. Pages over `MIX_MAX_BYTES` (a board of
        thousands, the sitemap) are measured above, not mixed in: a few of them would make
        the run measure bandwidth.
        """
        rng = random.Random(6)  # noqa: S311
        boards = [q for q, n in self.samples["actors_per_question"] if n <= MIX_MAX_ACTORS]
        questions = Question.objects.select_related("topic").in_bulk(
            rng.sample(boards, min(30, len(boards)))
        )
        actor_ids = list(Actor.objects.values_list("pk", flat=True))
        actors = Actor.objects.in_bulk(rng.sample(actor_ids, min(30, len(actor_ids))))
        statement_ids = list(Statement.objects.public().values_list("pk", flat=True)[:20000])
        statements = Statement.objects.in_bulk(
            rng.sample(statement_ids, min(20, len(statement_ids)))
        )
        paths = [
            p.path
            for p in self.pages
            if not p.admin and not p.streaming and p.bytes <= MIX_MAX_BYTES
        ]
        for group in (questions, actors, statements):
            paths += [obj.get_absolute_url() for obj in group.values()]
        return list(dict.fromkeys(paths))

    def measure_throughput(self, port):
        threads = self.options["threads"]
        seconds, requests = self.options["load_seconds"], self.options["load_requests"]
        paths = self.load_mix()
        self.log(f"Throughput under gunicorn (2 workers), {threads} threads, {len(paths)} URLs")
        results = {"threads": threads, "urls": len(paths)}
        with Server(port, 2, self.server_env()):
            load(port, ["/healthz"], threads, 200, 10, loop=True)  # Both workers are up.
            runs = {
                "baseline (/healthz)": (["/healthz"], True, requests, seconds),
                # Each URL once after a write: every page is computed. This run also fills
                # the cache for the next one; it may take longer than the others.
                "cold (each URL once, cache emptied)": (paths, False, len(paths), 300),
                "warm (cache filled)": (paths, True, requests, seconds),
            }
            for label, (run_paths, loop, count, limit) in runs.items():
                if label.startswith("cold"):
                    bump_data_version()
                done, errors, elapsed, latencies = load(
                    port, run_paths, threads, count, limit, loop
                )
                results[label] = {
                    "requests": done,
                    "errors": sum(errors.values()),
                    "error_kinds": dict(errors),
                    "per_second": done / elapsed if elapsed else 0,
                    "p50": statistics.median(latencies) if latencies else float("nan"),
                    "p95": percentile(latencies, 0.95),
                }
                self.log(
                    f"  {label}: {done} requests, {results[label]['per_second']:.0f}/s, "
                    f"{sum(errors.values())} errors"
                )
        return results

    # --- EXPLAIN -------------------------------------------------------------------------

    def explain_hot_queries(self):
        """EXPLAIN (ANALYZE) of each distinct query the measured pages made (PostgreSQL)."""
        if connection.vendor != "postgresql":
            return []
        self.log("EXPLAIN ANALYZE of the pages' queries")
        big_tables = self.big_tables()
        seen, plans = set(), []
        for page in self.pages:
            for sql in page.sql:
                shape = re.sub(r"\d+", "N", sql)
                if not sql.lstrip().upper().startswith("SELECT") or shape in seen:
                    continue
                if "django_session" in sql or "auth_user" in sql:
                    continue
                seen.add(shape)
                with connection.cursor() as cursor:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                    plan = "\n".join(row[0] for row in cursor.fetchall())
                match = re.search(r"Execution Time: ([\d.]+) ms", plan)
                seq_scans = sorted(
                    {t for t in re.findall(r"Seq Scan on (\w+)", plan) if t in big_tables}
                )
                plans.append(
                    {
                        "page": page.label,
                        "sql": sql,
                        "plan": plan,
                        "ms": float(match.group(1)) if match else float("nan"),
                        "seq_scans": seq_scans,
                    }
                )
        # The position query itself, as the board runs it.
        queryset = stances.current_positions(self.samples["largest"])
        with connection.cursor() as cursor:
            sql, params = queryset.query.sql_with_params()
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        match = re.search(r"Execution Time: ([\d.]+) ms", plan)
        plans.append(
            {
                "page": "current_positions(largest question)",
                "sql": str(queryset.query),
                "plan": plan,
                "ms": float(match.group(1)) if match else float("nan"),
                "seq_scans": sorted(
                    {t for t in re.findall(r"Seq Scan on (\w+)", plan) if t in big_tables}
                ),
            }
        )
        return plans

    def big_tables(self):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT relname FROM pg_class WHERE relkind = 'r' AND reltuples >= %s",
                [BIG_TABLE_ROWS],
            )
            return {row[0] for row in cursor.fetchall()}

    # --- import ------------------------------------------------------------------------

    def run_bench_import(self):
        if "bench_import" not in get_commands():
            return "The `bench_import` command does not exist yet: no import figures."
        if self.options["no_import"]:
            return "Not run this time (--no-import); figures below are from its last run."
        self.log("bench_import")
        try:
            completed = subprocess.run(  # noqa: S603
                [sys.executable, "manage.py", "bench_import"],
                cwd=settings.BASE_DIR,
                env=self.server_env(),
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

    def import_section(self):
        """
        The bench_import section as that command last wrote it: in the results file, or in
        the project's BENCHMARKS.md (where bench_import writes) when the results go elsewhere.
        """
        for path in (Path(self.options["output"]), Path(settings.BASE_DIR) / "BENCHMARKS.md"):
            text = path.read_text() if path.exists() else ""
            start, end = text.find(IMPORT_START), text.find(IMPORT_END)
            if start != -1 and end > start:
                return text[start : end + len(IMPORT_END)]
        return f"{IMPORT_START}\n_No import figures yet._\n{IMPORT_END}"

    # --- the results file ----------------------------------------------------------------

    def report(self):
        r, m = self.results, self.results["machine"]
        lines = [
            "# Benchmarks",
            "",
            "Written by `make bench` (`manage.py bench`); see the docstring of "
            "`positions/management/commands/bench.py` for what it measures. Machines are "
            "noisy: read the ratios to the baseline (`/healthz`, a bare Django view through "
            "the same middleware and gunicorn), not the absolute times.",
            "",
            "## Machine",
            "",
            f"- date: {m['date']}",
            f"- cores: {m['cores']} ({m['cpu']}); memory: {m['memory']}",
            f"- Python {m['python']}, Django {m['django']}, {m['database']}, cache: {m['cache']}",
            f"- platform: {m['platform']}",
            "",
            "## Data set",
            "",
            "| records | count |",
            "| --- | --- |",
        ]
        for key, value in r["data"].items():
            lines.append(
                f"| {key} | {value:,} |" if isinstance(value, int) else f"| {key} | {value} |"
            )
        lines += ["", *self.targets_section(), *self.pages_section(), *self.breakdown_section()]
        lines += [*self.position_section(), *self.throughput_section(), *self.explain_section()]
        lines += ["## Import", "", r["import"], "", self.import_section(), ""]
        return "\n".join(lines)

    def targets_section(self):
        base = getattr(self, "baseline", None)
        rows = []

        def add(target, measured, met):
            verdict = "met" if met else "**not met**"
            rows.append(f"| {target} | {measured} | {verdict} |")

        public = [p for p in self.pages if not p.admin and not p.streaming]
        worst = max((p.queries.get("cold", 0) for p in public), default=0)
        add("Public pages: at most 6 queries", f"at most {worst} (cold)", worst <= 6)
        not_modified = [p.queries.get("304") for p in public]
        answered = [q for q in not_modified if isinstance(q, int)]
        add(
            "Conditional GET: 304 with at most 1 query",
            f"{len(answered)}/{len(public)} pages answer 304, "
            f"at most {max(answered, default=0)} queries",
            answered and len(answered) == len(public) and max(answered) <= 1,
        )
        if base:
            for page in self.pages:
                if page.target and "cold" in page.latency:
                    value = page.latency["cold"]["p50"] / page.baseline["p50"]
                    add(
                        f"{page.label}: cold p50 at most {page.target}x baseline",
                        f"{value:.1f}x ({ms(page.latency['cold']['p50'])})",
                        value <= page.target,
                    )
            throughput = self.results.get("throughput", {})
            baseline_rate = throughput.get("baseline (/healthz)", {}).get("per_second")
            warm = throughput.get("warm (cache filled)", {})
            if baseline_rate and warm:
                share = warm["per_second"] / baseline_rate
                add(
                    "Warm pages: at least half the baseline's throughput",
                    f"{share:.2f} of baseline ({warm['per_second']:.0f}/s vs "
                    f"{baseline_rate:.0f}/s)",
                    share >= 0.5,
                )
            errors = sum(v.get("errors", 0) for v in throughput.values() if isinstance(v, dict))
            add("Throughput runs: zero errors", f"{errors} errors", errors == 0)
            position = self.results["positions"]
            value = position["orm_p50"] / base["p50"]
            add(
                f"Position query, {position['rows']:,} actors: at most 40x baseline",
                f"{value:.1f}x ({ms(position['orm_p50'])}; SQL alone "
                f"{position['sql_p50'] / base['p50']:.1f}x)",
                value <= 40,
            )
        plans = self.results.get("explain", [])
        if plans:
            scans = sorted({t for plan in plans for t in plan["seq_scans"]})
            add(
                f"No sequential scan on a table of {BIG_TABLE_ROWS:,}+ rows",
                ", ".join(scans) if scans else f"none in {len(plans)} plans",
                not scans,
            )
        header = ["## Targets (issue 6)", "", "| target | measured | |", "| --- | --- | --- |"]
        return [*header, *rows, ""]

    def pages_section(self):
        base = getattr(self, "baseline", None)
        lines = ["## Pages", ""]
        if base:
            lines += [
                f"Baseline `/healthz`: p50 {ms(base['p50'])}, p95 {ms(base['p95'])} "
                f"({base['n']} requests, one gunicorn worker, a new connection each), at the "
                f"start. Each page's ratios are to {LOCAL_BASELINE} baseline requests made right "
                "before it (its baseline column), as the machine's speed drifts during a run. "
                "Cold: the data version is bumped before each request, so the page is "
                "computed; warm: served from the cache.",
                "",
                "| page | baseline p50 | cold p50 | cold p95 | warm p50 | warm p95 | bytes | "
                "queries cold / warm / 304 |",
                "| --- | --- | --- | --- | --- | --- | --- | --- |",
            ]
        else:
            lines += ["| page | bytes | queries cold / warm / 304 |", "| --- | --- | --- |"]
        for page in self.pages:
            queries = " / ".join(str(page.queries.get(k, "-")) for k in ("cold", "warm", "304"))
            if not base:
                lines.append(f"| {page.label} | {page.bytes:,} | {queries} |")
                continue
            cells = [ms(page.baseline["p50"])]
            for state in ("cold", "warm"):
                for stat in ("p50", "p95"):
                    value = page.latency.get(state, {}).get(stat)
                    local = page.baseline[stat]
                    cells.append(f"{ratio(value, local)} ({ms(value)})" if value else "-")
            lines.append(f"| {page.label} | {' | '.join(cells)} | {page.bytes:,} | {queries} |")
        lines += [
            "",
            "Paths: " + ", ".join(f"`{p.path}`" for p in self.pages),
            "",
        ]
        downloads = [p.label for p in self.pages if p.streaming]
        if downloads:
            lines += [
                f"Streamed downloads ({', '.join(downloads)}): never cached; their bytes and "
                f"times are those of the first {STREAM_LIMIT // 1_000_000} MB only, and they "
                "are left out of the query target (they read in chunks as they stream).",
                "",
            ]
        if getattr(self, "unmeasured", None):
            names = ", ".join(f"{n} ({', '.join(p)})" for n, p in self.unmeasured)
            lines += [f"Not measured (no sample record fits their parameters): {names}.", ""]
        return lines

    def breakdown_section(self):
        pages = [p for p in self.pages if p.breakdown]
        if not pages:
            return []
        base = getattr(self, "baseline", None)
        lines = [
            "## Where a cold page's time goes",
            "",
            f"Each public page computed {BREAKDOWN_REQUESTS} times in the bench process (the "
            "data version bumped before each request; no server, no network): the medians of "
            "the whole request, of its SQL (execute and fetch, wherever it runs), and of the "
            "rendering of its template (less the queries it runs); the rest is view code, "
            "model instances, the page cache and middleware. "
            + ("Ratios are to the server's baseline above." if base else ""),
            "",
            "| page | whole request | SQL | template | the rest |",
            "| --- | --- | --- | --- | --- |",
        ]
        for page in pages:
            b = page.breakdown
            rest = max(0.0, b["total"] - b["sql"] - b["render"])
            cells = [
                f"{ratio(value, base['p50'])} ({ms(value)})" if base else ms(value)
                for value in (b["total"], b["sql"], b["render"], rest)
            ]
            lines.append(f"| {page.label} | {' | '.join(cells)} |")
        return [*lines, ""]

    def position_section(self):
        position = self.results["positions"]
        base = getattr(self, "baseline", None)
        lines = [
            "## Position query",
            "",
            f"`stances.current_positions()` for the largest question ({position['question']}, "
            f"{position['rows']:,} actors with a position), median of 7, in the bench process:",
            "",
            "- the position query, each actor's stance and deciding statement through the ORM "
            f"(the target): {ms(position['orm_p50'])}"
            + (f", {ratio(position['orm_p50'], base['p50'])} the baseline" if base else ""),
            f"- its SQL alone (execute and fetch): {ms(position['sql_p50'])}"
            + (f", {ratio(position['sql_p50'], base['p50'])} the baseline" if base else ""),
            "- the same rows loaded as objects with their actor, statement and source (what a "
            f"board download reads): {ms(position['objects_p50'])}"
            + (f", {ratio(position['objects_p50'], base['p50'])} the baseline" if base else ""),
            "",
        ]
        return lines

    def throughput_section(self):
        throughput = self.results.get("throughput")
        if not throughput:
            return []
        base = throughput["baseline (/healthz)"]["per_second"]
        lines = [
            "## Throughput",
            "",
            f"gunicorn, 2 sync workers; load generator: {throughput['threads']} threads in "
            f"the bench process (on the same cores), a new loopback connection per request, "
            f"a mix of {throughput['urls']} distinct public URLs: the measured pages of at "
            f"most {MIX_MAX_BYTES // 1000:,} kB, and boards (of at most {MIX_MAX_ACTORS:,} "
            "actors), actors and statements picked by a fixed seed. Cold: each URL once "
            "right after a write (the run that fills the cache); warm and baseline: round "
            f"and round, bounded by {self.options['load_requests']} requests or "
            f"{self.options['load_seconds']:.0f} s.",
            "",
            "| run | requests | errors | requests/s | ratio to baseline | p50 | p95 |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for label, row in throughput.items():
            if not isinstance(row, dict):
                continue
            lines.append(
                f"| {label} | {row['requests']} | {row['errors']} "
                f"{row['error_kinds'] or ''} | {row['per_second']:.0f} | "
                f"{row['per_second'] / base:.2f} | {ms(row['p50'])} | {ms(row['p95'])} |"
            )
        return [*lines, ""]

    def explain_section(self):
        plans = self.results.get("explain", [])
        if not plans:
            return [
                "## EXPLAIN",
                "",
                "Query plans are recorded on PostgreSQL only (this run: "
                f"{self.results['machine']['database']}).",
                "",
            ]
        lines = [
            "## EXPLAIN (ANALYZE) of the pages' queries",
            "",
            f"Every distinct query of the measured pages (cold), run once more under EXPLAIN "
            f"(ANALYZE, BUFFERS). Tables of {BIG_TABLE_ROWS:,}+ rows scanned sequentially "
            "are listed; the plans of the slowest queries and of any such scan follow.",
            "",
            "| page | execution | sequential scans of big tables | query |",
            "| --- | --- | --- | --- |",
        ]
        for plan in sorted(plans, key=lambda p: -p["ms"]):
            query = plan["sql"][:90].replace("|", "\\|").replace("`", "'")
            lines.append(
                f"| {plan['page']} | {plan['ms']:.1f} ms | "
                f"{', '.join(plan['seq_scans']) or 'none'} | `{query}...` |"
            )
        lines.append("")
        shown = sorted(plans, key=lambda p: (not p["seq_scans"], -p["ms"]))[:8]
        for plan in shown:
            lines += [
                f"### {plan['page']} ({plan['ms']:.1f} ms)",
                "",
                "```sql",
                plan["sql"],
                "```",
                "",
                "```",
                plan["plan"],
                "```",
                "",
            ]
        return lines
