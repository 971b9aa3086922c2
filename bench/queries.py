"""
In-process measurements of the database work: queries per page (cold, warm, 304), the
position query of the largest board, and EXPLAIN (ANALYZE) of the pages' queries.
"""

import re
import statistics
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.core.signals import request_finished
from django.db import close_old_connections, connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from positions import stances
from positions.caching import bump_data_version

from .load import STREAM_LIMIT

BENCH_USER = "bench-admin"
# Tables big enough that a sequential scan on them is a bug at scale.
BIG_TABLE_ROWS = 50_000


def admin_client():
    """A test client signed in as the benchmark's superuser (created on first use)."""
    user, _ = get_user_model().objects.get_or_create(
        username=BENCH_USER, defaults={"is_staff": True, "is_superuser": True}
    )
    if not (user.is_staff and user.is_superuser):
        raise CommandError(f"The user {BENCH_USER!r} exists and is not a superuser.")
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    return client


def read_streamed(page, response):
    """Count a download's bytes up to `STREAM_LIMIT`, then close it as a server would."""
    page.streaming, page.bytes = True, 0
    for chunk in response.streaming_content:
        page.bytes += len(chunk)
        if page.bytes >= STREAM_LIMIT:
            break
    # Closing a response sends request_finished, whose receiver `close_old_connections`
    # would close the database connection (and end a test's transaction). The test client
    # does exactly this around the close of a streamed response it reads to the end
    # (django.test.client.closing_iterator_wrapper); we stop reading early, so we close it
    # ourselves, the same way. There is no public hook for it.
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)


def measure_queries(pages, log):
    """
    Queries per page: cold (data version bumped), warm, and a conditional GET (304). Returns
    the pages that answered 200, and the admin's session cookie for the server runs.
    """
    log("Counting queries")
    anonymous, admin = Client(HTTP_HOST="127.0.0.1"), admin_client()
    kept = []
    for page in pages:
        client = admin if page.admin else anonymous
        bump_data_version()
        with CaptureQueriesContext(connection) as cold:
            response = client.get(page.path)
        page.status = response.status_code
        if response.status_code != 200:
            log(f"  {page.label}: HTTP {response.status_code}, not measured")
            continue
        if response.streaming:
            read_streamed(page, response)
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
        log(f"  {page.label}: {page.bytes:,} bytes, queries {page.queries}")
    return kept, admin.cookies[settings.SESSION_COOKIE_NAME].value


def measure_position_query(question, log):
    """
    `current_positions` for the largest question: each actor's stance and deciding
    statement (the ORM call, and its SQL alone), and the same rows loaded as objects
    with their actor, statement and source, as a download reads them.
    """
    log(f"Position query for question {question.pk}")

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


def explain(label, sql, params, big_tables, shown_sql=None):
    """EXPLAIN (ANALYZE, BUFFERS) of one query, with the big tables it scans sequentially."""
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    match = re.search(r"Execution Time: ([\d.]+) ms", plan)
    return {
        "page": label,
        "sql": shown_sql or sql,
        "plan": plan,
        "ms": float(match.group(1)) if match else float("nan"),
        "seq_scans": sorted({t for t in re.findall(r"Seq Scan on (\w+)", plan) if t in big_tables}),
    }


def explain_hot_queries(pages, largest_question, log):
    """EXPLAIN (ANALYZE) of each distinct query the measured pages made (PostgreSQL)."""
    if connection.vendor != "postgresql":
        return []
    log("EXPLAIN ANALYZE of the pages' queries")
    big_tables = find_big_tables()
    seen, plans = set(), []
    for page in pages:
        for sql in page.sql:
            shape = re.sub(r"\d+", "N", sql)
            if not sql.lstrip().upper().startswith("SELECT") or shape in seen:
                continue
            if "django_session" in sql or "auth_user" in sql:
                continue
            seen.add(shape)
            # The captured SQL has its parameters inlined: no parameters to pass.
            plans.append(explain(page.label, sql, None, big_tables))
    # The position query itself, as the board runs it.
    queryset = stances.current_positions(largest_question)
    sql, params = queryset.query.sql_with_params()
    label = "current_positions(largest question)"
    plans.append(explain(label, sql, params, big_tables, shown_sql=str(queryset.query)))
    return plans


def find_big_tables():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relkind = 'r' AND reltuples >= %s",
            [BIG_TABLE_ROWS],
        )
        return {row[0] for row in cursor.fetchall()}
