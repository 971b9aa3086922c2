"""A smoke run of the benchmark on a tiny data set: in process only, no timings asserted.

The bench app is installed only by `bench.settings`: the tests call its commands directly."""

import pytest
from django.core.management import CommandError, call_command, get_commands

from bench.management.commands import bench, generate_data
from bench.pages import positions_url_names
from bench.report import BULK_END, BULK_START, IMPORT_END, IMPORT_START
from positions import bulkdata

pytestmark = pytest.mark.django_db


def test_it_measures_every_named_page_and_keeps_the_other_commands_sections(tmp_path, settings):
    settings.STATIC_ROOT = tmp_path / "static"
    output = tmp_path / "BENCHMARKS.md"
    output.write_text(
        f"old\n{IMPORT_START}\nimport figures\n{IMPORT_END}\n\n{BULK_START}\nbulk\n{BULK_END}\n"
    )
    call_command(generate_data.Command(), "--scale", "tiny", verbosity=0)
    assert bulkdata.manifest() is None
    call_command(bench.Command(), "--no-http", "--no-import", "--output", str(output), verbosity=0)
    # The downloads were measured as the files readers get, written first.
    assert bulkdata.manifest() is not None
    report = output.read_text()
    assert report.startswith("# Benchmarks")
    assert f"{IMPORT_START}\nimport figures\n{IMPORT_END}" in report
    assert f"{BULK_START}\nbulk\n{BULK_END}" in report
    for name, _ in positions_url_names():
        assert f"| {name}" in report, f"page {name} not measured"
    assert "| admin statement list |" in report
    assert "Public pages: at most 6 queries" in report


def test_it_asks_for_data_first(tmp_path):
    with pytest.raises(CommandError, match="--generate"):
        call_command(bench.Command(), "--no-http", "--output", str(tmp_path / "B.md"), verbosity=0)


def test_it_times_the_template_apart_from_the_sql_and_the_rest(tmp_path, settings):
    settings.STATIC_ROOT = tmp_path / "static"
    output = tmp_path / "BENCHMARKS.md"
    call_command(generate_data.Command(), "--scale", "tiny", verbosity=0)
    call_command(
        bench.Command(),
        "--no-http",
        "--no-import",
        "--pages",
        "^home$",
        "--output",
        str(output),
        verbosity=0,
    )
    breakdown = output.read_text().split("## Where a cold page's time goes")[1]
    row = next(line for line in breakdown.splitlines() if line.startswith("| home |"))
    whole, sql, template, rest = (float(cell.split()[0]) for cell in row.split("|")[2:6])
    assert whole > 0 and sql > 0 and template > 0 and rest >= 0
    assert sql + template <= whole


def test_the_development_commands_exist_only_under_the_bench_settings():
    import bench.settings

    assert not {"bench", "bench_import", "generate_data"} & set(get_commands())
    assert "load_demo" in get_commands()
    assert "bench" in bench.settings.INSTALLED_APPS


def test_the_targets_table_judges_each_cold_variant_against_both_baselines():
    """Issue 16's targets: after an edit elsewhere and with an empty cache, met or not."""
    from bench.pages import Page
    from bench.report import pages_section, targets_section

    def p50(seconds):
        return {"p50": seconds, "p95": seconds, "n": 5}

    board = Page("question (200 actors)", "/b/", target=15, empty_target=40)
    board.baseline, board.rendered_baseline = p50(0.002), p50(0.010)
    board.latency = {"cold": p50(0.028), "empty": p50(0.090), "warm": p50(0.003)}
    home = Page("home", "/", target=10)
    home.baseline, home.rendered_baseline = p50(0.002), p50(0.010)
    home.latency = {"cold": p50(0.030), "warm": p50(0.003)}
    results = {
        "pages": [board, home],
        "baseline": p50(0.002),
        "positions": {"orm_p50": 0.01, "sql_p50": 0.005, "rows": 200},
    }
    lines = [line for line in targets_section(results) if line.startswith("| ")]
    rows = {line.split(" | ")[0][2:]: line for line in lines}
    edited = "question (200 actors): cold after an edit elsewhere, p50 at most 15x /healthz"
    assert "14.0x (28.0 ms); 2.8x the methodology page | met" in rows[edited]
    empty = "question (200 actors): cold with an empty cache, p50 at most 40x /healthz"
    assert "| 45.0x (90.0 ms); 9.0x the methodology page | **not met** |" in rows[empty]
    assert rows["home: cold after an edit elsewhere, p50 at most 10x /healthz"].endswith(
        "| **not met** |"
    )
    assert not any("home: cold with an empty cache" in row for row in rows)
    table = "\n".join(pages_section(results))
    assert "| home | 2.0 ms | 10.0 ms | 15.0x (30.0 ms) | 15.0x (30.0 ms) | 3.0x | - |" in table


def test_the_flat_target_sets_the_largest_board_against_the_typical_one_in_turns():
    """Issue 16: the largest board with an empty cache at most 1.5x the 200-actor board."""
    from bench.pages import Page
    from bench.report import targets_section

    def flat_row(largest_empty):
        pages = [
            Page("question (largest, 9788 actors)", "/l/", largest=True),
            Page("question (200 actors)", "/t/"),
        ]
        pages[0].empty_in_turns, pages[1].empty_in_turns = largest_empty, 0.100
        results = {
            "pages": pages,
            "baseline": {"p50": 0.001, "p95": 0.001, "n": 5},
            "positions": {"orm_p50": 0.01, "sql_p50": 0.005, "rows": 200},
        }
        (row,) = [line for line in targets_section(results) if "flat in size" in line]
        return row

    assert flat_row(0.140).endswith("| 1.40x (140.0 ms and 100.0 ms, taking turns) | met |")
    assert flat_row(0.160).endswith("| 1.60x (160.0 ms and 100.0 ms, taking turns) | **not met** |")
