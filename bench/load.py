"""
Measurements over HTTP against a real server: gunicorn on a loopback port, latency per page
(cold and warm) and throughput under a loopback load generator. Requests go only to
127.0.0.1, in bounded numbers and time.
"""

import http.client
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.core.management.base import CommandError
from django.urls import reverse

from positions.caching import bump_data_version
from positions.models import Actor, Question, Statement

from .numbers import ms, percentile

BASELINE_PATH = "/healthz"
# The second baseline (issue 16): a rendered page that runs no query, computed each time.
# `/healthz` swells more than rendered pages when the machine is loaded.
RENDERED_BASELINE_NAME = "positions:methodology"
# Baseline requests measured right before each page, for that page's ratios.
LOCAL_BASELINE = 15
# Downloads stream: only their first megabyte is read, and timed.
STREAM_LIMIT = 1_000_000
# The throughput mix: boards of at most this many actors, pages of at most this size.
MIX_MAX_ACTORS = 1000
MIX_MAX_BYTES = 1_000_000


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


def server_env(settings_module="tracker.settings"):
    """
    The environment of the processes the benchmark starts. The server runs the production
    settings (the bench app is not installed in it), as production serves the pages.
    """
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE=settings_module,
        DEBUG="0",
        SECRET_KEY=settings.SECRET_KEY,
        SECURE_SSL_REDIRECT="0",
        ALLOWED_HOSTS="127.0.0.1",
        PYTHONUNBUFFERED="1",
    )
    return env


class Server:
    """gunicorn on a loopback port, started and stopped by its process id."""

    def __init__(self, port, workers, env, timeout=300):
        self.port, self.workers, self.env, self.timeout = port, workers, env, timeout
        self.process = None

    def __enter__(self):
        gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent))
        command = [gunicorn] if gunicorn else [sys.executable, "-m", "gunicorn"]
        command += ["tracker.wsgi", "--workers", str(self.workers)]
        command += ["--bind", f"127.0.0.1:{self.port}", "--timeout", str(self.timeout)]
        command += ["--log-level", "warning"]
        self.process = subprocess.Popen(  # noqa: S603
            command, cwd=settings.BASE_DIR, env=self.env, stdout=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise CommandError(f"gunicorn exited with code {self.process.returncode}.")
            try:
                if http_get(self.port, BASELINE_PATH, timeout=2)[0] == 200:
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


def timed(port, path, count, *, cold, max_seconds, cookie=None, max_bytes=None, flush=False):
    """
    p50, p95 and number of `count` GETs of `path` (fewer past `max_seconds`). `cold`: the
    data version is bumped before each, so the page is computed, from the fragments still
    current (as after an edit elsewhere); `flush`: the whole cache is emptied before each,
    so the page and every fragment of it are computed.
    """
    headers = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}"} if cookie else {}
    times, deadline = [], time.monotonic() + max_seconds
    # Untimed: templates and code get loaded, and the server finishes what it was doing.
    http_get(port, path, headers, max_bytes=max_bytes)
    for _ in range(count):
        if flush:
            cache.clear()  # The cache is the server's: nothing of the page is left.
        elif cold:
            bump_data_version()  # The cache is the server's: the page gets computed.
        status, _, _, elapsed = http_get(port, path, headers, max_bytes=max_bytes)
        if status != 200:
            raise CommandError(f"{path} answered HTTP {status} under gunicorn.")
        times.append(elapsed)
        if time.monotonic() > deadline and len(times) >= 3:
            break
    return {"p50": statistics.median(times), "p95": percentile(times, 0.95), "n": len(times)}


def measure_latency(pages, options, session_cookie, log):
    """
    Each page's latency under gunicorn (1 worker), cold after an edit elsewhere, cold with
    an empty cache where it has a target for it, and warm, with the two baselines measured
    right before it. Returns the `/healthz` baseline measured at the start.
    """
    port, count = options["port"], options["requests"]
    max_seconds = options["page_seconds"]
    rendered = reverse(RENDERED_BASELINE_NAME)
    log(f"Latency under gunicorn (1 worker) on 127.0.0.1:{port}")
    with Server(port, 1, server_env()):
        baseline = timed(port, BASELINE_PATH, count * 4, cold=False, max_seconds=max_seconds)
        log(f"  baseline /healthz p50 {ms(baseline['p50'])}")
        for page in pages:
            # The page's ratios are to baselines measured right before it: the machine's
            # speed drifts during a run (other tenants of the host).
            page.baseline = timed(
                port, BASELINE_PATH, LOCAL_BASELINE, cold=False, max_seconds=max_seconds
            )
            page.rendered_baseline = timed(
                port, rendered, LOCAL_BASELINE, cold=True, max_seconds=max_seconds
            )
            if page.streaming:
                # Never cached: one measure, of the first megabyte.
                page.latency["cold"] = timed(
                    port, page.path, 3, cold=True, max_seconds=max_seconds, max_bytes=STREAM_LIMIT
                )
                continue
            n = options["admin_requests"] if page.admin else count
            cookie = session_cookie if page.admin else None
            page.latency["cold"] = timed(
                port, page.path, n, cold=True, max_seconds=max_seconds, cookie=cookie
            )
            if page.measure_empty:
                page.latency["empty"] = timed(
                    port, page.path, n, cold=True, flush=True, max_seconds=max_seconds
                )
            if not page.admin:
                page.latency["warm"] = timed(
                    port, page.path, n, cold=False, max_seconds=max_seconds
                )
            warm = f", warm {ms(page.latency['warm']['p50'])}" if "warm" in page.latency else ""
            log(f"  {page.label}: cold p50 {ms(page.latency['cold']['p50'])}{warm}")
        boards = [page for page in pages if page.measure_empty]
        if len(boards) == 2:
            empty_in_turns(port, boards, count, max_seconds * 2)
            log("  " + ", ".join(f"{p.label} {ms(p.empty_in_turns)}" for p in boards) + " in turns")
    return baseline


def empty_in_turns(port, pages, count, max_seconds):
    """
    Each page's p50 with an empty cache, the pages taking turns request by request, so the
    machine's drift touches them alike (`page.empty_in_turns`): the flat-in-size target.
    """
    times, deadline = {page.path: [] for page in pages}, time.monotonic() + max_seconds
    for page in pages:
        http_get(port, page.path, {})  # Untimed, as in `timed`.
    for _ in range(count):
        for page in pages:
            cache.clear()
            status, _, _, elapsed = http_get(port, page.path, {})
            if status != 200:
                raise CommandError(f"{page.path} answered HTTP {status} under gunicorn.")
            times[page.path].append(elapsed)
        if time.monotonic() > deadline and len(times[pages[0].path]) >= 3:
            break
    for page in pages:
        page.empty_in_turns = statistics.median(times[page.path])


def load_mix(pages, actors_per_question):
    """
    Distinct public URLs as readers spread over them: the measured pages, and boards,
    actors and statements picked by a fixed seed. Pages over `MIX_MAX_BYTES` (a board of
    thousands, the sitemap) are measured on their own, not mixed in: a few of them would
    make the run measure bandwidth.
    """
    rng = random.Random(6)  # noqa: S311
    boards = [q for q, n in actors_per_question if n <= MIX_MAX_ACTORS]
    questions = Question.objects.select_related("topic").in_bulk(
        rng.sample(boards, min(30, len(boards)))
    )
    actor_ids = list(Actor.objects.values_list("pk", flat=True))
    actors = Actor.objects.in_bulk(rng.sample(actor_ids, min(30, len(actor_ids))))
    statement_ids = list(Statement.objects.public().values_list("pk", flat=True)[:20000])
    statements = Statement.objects.in_bulk(rng.sample(statement_ids, min(20, len(statement_ids))))
    paths = [p.path for p in pages if not p.admin and not p.streaming and p.bytes <= MIX_MAX_BYTES]
    for group in (questions, actors, statements):
        paths += [obj.get_absolute_url() for obj in group.values()]
    return list(dict.fromkeys(paths))


def measure_throughput(paths, options, log):
    """Requests per second under gunicorn (2 workers): baseline, cold, then warm."""
    port, threads = options["port"], options["threads"]
    seconds, requests = options["load_seconds"], options["load_requests"]
    log(f"Throughput under gunicorn (2 workers), {threads} threads, {len(paths)} URLs")
    results = {"threads": threads, "urls": len(paths), "requests": requests, "seconds": seconds}
    with Server(port, 2, server_env()):
        load(port, [BASELINE_PATH], threads, 200, 10, loop=True)  # Both workers are up.
        runs = {
            "baseline (/healthz)": ([BASELINE_PATH], True, requests, seconds),
            # Each URL once after a write: every page is computed. This run also fills
            # the cache for the next one; it may take longer than the others.
            "cold (each URL once, cache emptied)": (paths, False, len(paths), 300),
            "warm (cache filled)": (paths, True, requests, seconds),
        }
        for label, (run_paths, loop, count, limit) in runs.items():
            if label.startswith("cold"):
                bump_data_version()
            done, errors, elapsed, latencies = load(port, run_paths, threads, count, limit, loop)
            results[label] = {
                "requests": done,
                "errors": sum(errors.values()),
                "error_kinds": dict(errors),
                "per_second": done / elapsed if elapsed else 0,
                "p50": statistics.median(latencies) if latencies else float("nan"),
                "p95": percentile(latencies, 0.95),
            }
            log(
                f"  {label}: {done} requests, {results[label]['per_second']:.0f}/s, "
                f"{sum(errors.values())} errors"
            )
    return results
