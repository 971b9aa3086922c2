"""
BENCHMARKS.md: the machine and data set a run measured on, and its results against the
targets. Everything here formats; nothing measures.
"""

import os
import platform
from pathlib import Path

import django
from django.conf import settings
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from positions.models import Actor, Condition, Question, Signatory, Source, Statement, Topic

from .breakdown import BREAKDOWN_REQUESTS
from .load import LOCAL_BASELINE, MIX_MAX_ACTORS, MIX_MAX_BYTES, STREAM_LIMIT
from .numbers import ms, ratio
from .pages import FLAT_TARGET
from .queries import BIG_TABLE_ROWS

IMPORT_START = "<!-- bench_import:start -->"
IMPORT_END = "<!-- bench_import:end -->"
BULK_START = "<!-- bench_bulk:start -->"
BULK_END = "<!-- bench_bulk:end -->"


def load_average():
    """The 1-, 5- and 15-minute load averages: how busy the machine was besides the run."""
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def machine():
    """The machine, software and database the run measures on."""
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
        "load": load_average(),
        "cores": os.cpu_count(),
        "memory": memory,
        "cpu": cpu_model(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "database": database,
        "cache": settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1],
        "platform": platform.platform(),
    }


def cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def data_set():
    """How many records of each kind the run measures on."""
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


def report(results):
    """BENCHMARKS.md, from the results of a run."""
    r, m = results, results["machine"]
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`manage.py bench`); see the docstring of "
        "`bench/management/commands/bench.py` for what it measures. Machines are "
        "noisy: read the ratios to the baseline (`/healthz`, a bare Django view through "
        "the same middleware and gunicorn), not the absolute times.",
        "",
        "## Machine",
        "",
        f"- date: {m['date']}",
        f"- cores: {m['cores']} ({m['cpu']}); memory: {m['memory']}",
        f"- Python {m['python']}, Django {m['django']}, {m['database']}, cache: {m['cache']}",
        f"- platform: {m['platform']}",
        f"- load average (1, 5, 15 min): {m.get('load', '?')} at the start, "
        f"{load_average()} at the end",
        "",
        "## Data set",
        "",
        "| records | count |",
        "| --- | --- |",
    ]
    for key, value in r["data"].items():
        lines.append(f"| {key} | {value:,} |" if isinstance(value, int) else f"| {key} | {value} |")
    lines += ["", *targets_section(r), *pages_section(r), *breakdown_section(r)]
    lines += [*position_section(r), *throughput_section(r), *explain_section(r)]
    lines += ["## Import", "", r["import"], "", r["import_section"], ""]
    if r.get("bulk_section"):
        lines += [r["bulk_section"], ""]
    return "\n".join(lines)


def import_section(output):
    """
    The bench_import section as that command last wrote it: in the results file, or in
    the project's BENCHMARKS.md when the results go elsewhere.
    """
    section = kept_section(output, IMPORT_START, IMPORT_END)
    return section or f"{IMPORT_START}\n_No import figures yet._\n{IMPORT_END}"


def bulk_section(output):
    """The bench_bulk section as that command last wrote it (see `import_section`), or ''."""
    return kept_section(output, BULK_START, BULK_END)


def kept_section(output, start_marker, end_marker):
    """Another command's section between its markers, kept when this report is rewritten."""
    for path in (Path(output), Path(settings.BASE_DIR) / "BENCHMARKS.md"):
        text = path.read_text() if path.exists() else ""
        start, end = text.find(start_marker), text.find(end_marker)
        if start != -1 and end > start:
            return text[start : end + len(end_marker)]
    return ""


def targets_section(results):
    """Each target of issue 6, what this run measured, and whether it is met."""
    rows = [
        f"| {target} | {measured} | {'met' if met else '**not met**'} |"
        for target, measured, met in [*query_targets(results), *time_targets(results)]
    ]
    header = [
        "## Targets (issues 6 and 16)",
        "",
        "Cold is after an edit elsewhere: the page's version bumped, its fragments warm "
        "(issue 16's decision on cold); an empty cache has neither. Ratios to `/healthz`, "
        "and to the methodology page computed (a rendered page with no query), each "
        "measured right before the page.",
        "",
        "| target | measured | |",
        "| --- | --- | --- |",
    ]
    return [*header, *rows, ""]


def query_targets(results):
    """(target, measured, met) of the query counts and plans, measured on every run."""
    public = [p for p in results["pages"] if not p.admin and not p.streaming]
    worst = max((p.queries.get("cold", 0) for p in public), default=0)
    yield "Public pages: at most 6 queries", f"at most {worst} (cold)", worst <= 6
    answered = [p.queries["304"] for p in public if isinstance(p.queries.get("304"), int)]
    yield (
        "Conditional GET: 304 with at most 1 query",
        f"{len(answered)}/{len(public)} pages answer 304, "
        f"at most {max(answered, default=0)} queries",
        answered and len(answered) == len(public) and max(answered) <= 1,
    )
    plans = results.get("explain", [])
    if plans:
        scans = sorted({t for plan in plans for t in plan["seq_scans"]})
        yield (
            f"No sequential scan on a table of {BIG_TABLE_ROWS:,}+ rows",
            ", ".join(scans) if scans else f"none in {len(plans)} plans",
            not scans,
        )


def flat_target(pages):
    """
    The largest board against the 200-actor board, both with an empty cache, measured taking
    turns (`load.empty_in_turns`): measured a minute apart, each against its own baseline,
    the two baselines disagreed by more than the target's margin.
    """
    measured = [page for page in pages if page.empty_in_turns]
    largest = next((page for page in measured if page.largest), None)
    typical = next((page for page in measured if not page.largest), None)
    if largest is None or typical is None:
        return
    value = largest.empty_in_turns / typical.empty_in_turns
    yield (
        f"Cold boards flat in size: {largest.label} at most {FLAT_TARGET}x {typical.label}, "
        "both with an empty cache",
        f"{value:.2f}x ({ms(largest.empty_in_turns)} and {ms(typical.empty_in_turns)}, "
        "taking turns)",
        value <= FLAT_TARGET,
    )


def time_targets(results):
    """(target, measured, met) of the timings, measured only over HTTP."""
    base = results.get("baseline")
    if not base:
        return
    for page in results["pages"]:
        for state, target, what in (
            ("cold", page.target, "cold after an edit elsewhere"),
            ("empty", page.empty_target, "cold with an empty cache"),
        ):
            if target and state in page.latency:
                value = page.latency[state]["p50"] / page.baseline["p50"]
                yield (
                    f"{page.label}: {what}, p50 at most {target}x /healthz",
                    f"{value:.1f}x ({ms(page.latency[state]['p50'])}); "
                    f"{rendered_ratio(page, state)} the methodology page",
                    value <= target,
                )
    yield from flat_target(results["pages"])
    throughput = results.get("throughput", {})
    baseline_rate = throughput.get("baseline (/healthz)", {}).get("per_second")
    warm = throughput.get("warm (cache filled)", {})
    if baseline_rate and warm:
        share = warm["per_second"] / baseline_rate
        yield (
            "Warm pages: at least half the baseline's throughput",
            f"{share:.2f} of baseline ({warm['per_second']:.0f}/s vs {baseline_rate:.0f}/s)",
            share >= 0.5,
        )
    errors = sum(v.get("errors", 0) for v in throughput.values() if isinstance(v, dict))
    yield "Throughput runs: zero errors", f"{errors} errors", errors == 0
    position = results["positions"]
    value = position["orm_p50"] / base["p50"]
    yield (
        f"Position query, {position['rows']:,} actors: at most 40x baseline",
        f"{value:.1f}x ({ms(position['orm_p50'])}; SQL alone "
        f"{position['sql_p50'] / base['p50']:.1f}x)",
        value <= 40,
    )


def rendered_ratio(page, state, stat="p50"):
    """The page's time against the methodology page's, measured right before it."""
    value = page.latency.get(state, {}).get(stat)
    base = (page.rendered_baseline or {}).get(stat)
    return ratio(value, base) if value and base else "-"


def against_baseline(page, state, stat):
    """'12.0x (24.0 ms)': the page's time against `/healthz` right before it."""
    value = page.latency.get(state, {}).get(stat)
    return f"{ratio(value, page.baseline[stat])} ({ms(value)})" if value else "-"


def pages_section(results):
    base = results.get("baseline")
    pages = results["pages"]
    lines = ["## Pages", ""]
    if base:
        lines += [
            f"Baseline `/healthz`: p50 {ms(base['p50'])}, p95 {ms(base['p95'])} "
            f"({base['n']} requests, one gunicorn worker, a new connection each), at the "
            f"start. Each page's ratios are to {LOCAL_BASELINE} baseline requests made right "
            "before it (its baseline column), as the machine's speed drifts during a run, "
            f"and to {LOCAL_BASELINE} requests of the methodology page, computed each time "
            "(a rendered page with no query; `/healthz` swells more under load). "
            "Cold: the data version is bumped before each request, so the page is "
            "computed, reusing the fragments whose records did not change (as after an "
            "edit elsewhere); empty cache: the whole cache emptied before each request "
            "(measured where a target asks for it); warm: served from the cache.",
            "",
            "| page | baseline p50 | methodology p50 | cold p50 | cold p95 | cold p50 to "
            "methodology | empty cache p50 | warm p50 | warm p95 | bytes | "
            "queries cold / warm / 304 |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
    else:
        lines += ["| page | bytes | queries cold / warm / 304 |", "| --- | --- | --- |"]
    for page in pages:
        queries = " / ".join(str(page.queries.get(k, "-")) for k in ("cold", "warm", "304"))
        if not base:
            lines.append(f"| {page.label} | {page.bytes:,} | {queries} |")
            continue
        rendered = (page.rendered_baseline or {}).get("p50")
        cells = [ms(page.baseline["p50"]), ms(rendered) if rendered else "-"]
        cells += [against_baseline(page, "cold", "p50"), against_baseline(page, "cold", "p95")]
        cells += [rendered_ratio(page, "cold"), against_baseline(page, "empty", "p50")]
        cells += [against_baseline(page, "warm", "p50"), against_baseline(page, "warm", "p95")]
        lines.append(f"| {page.label} | {' | '.join(cells)} | {page.bytes:,} | {queries} |")
    lines += [
        "",
        "Paths: " + ", ".join(f"`{p.path}`" for p in pages),
        "",
    ]
    downloads = [p.label for p in pages if p.streaming]
    if downloads:
        lines += [
            f"Streamed downloads ({', '.join(downloads)}): never cached; their bytes and "
            f"times are those of the first {STREAM_LIMIT // 1_000_000} MB only, and they "
            "are left out of the query target (they read in chunks as they stream).",
            "",
        ]
    if results.get("unmeasured"):
        names = ", ".join(f"{n} ({', '.join(p)})" for n, p in results["unmeasured"])
        lines += [f"Not measured (no sample record fits their parameters): {names}.", ""]
    return lines


def breakdown_section(results):
    pages = [p for p in results["pages"] if p.breakdown]
    if not pages:
        return []
    base = results.get("baseline")
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


def position_section(results):
    position = results["positions"]
    base = results.get("baseline")
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


def throughput_section(results):
    throughput = results.get("throughput")
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
        f"and round, bounded by {throughput['requests']} requests or "
        f"{throughput['seconds']:.0f} s.",
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


def explain_section(results):
    plans = results.get("explain", [])
    if not plans:
        return [
            "## EXPLAIN",
            "",
            "Query plans are recorded on PostgreSQL only (this run: "
            f"{results['machine']['database']}).",
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


def write_between_markers(path, report, start, end):
    """
    Put `report` (a `### <command> on <vendor>: ...` section) between the markers `start`
    and `end`, replacing the previous section of the same command and database and keeping
    the others; the rest of the file stays as it is.
    """
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    heading = report.splitlines()[0].split(":")[0]
    if start in text and end in text:
        before, rest = text.split(start, 1)
        inside, after = rest.split(end, 1)
    else:
        before, inside, after = text.rstrip() + "\n\n", "", "\n"
    kept = [
        "### " + part
        for part in inside.split("### ")[1:]
        if not ("### " + part).startswith(heading + ":")
    ]
    body = "\n".join(part.rstrip() + "\n" for part in sorted([*kept, report]))
    path.write_text(f"{before}{start}\n{body}{end}{after}")
