"""A smoke run of the benchmark on a tiny data set: in process only, no timings asserted.

The bench app is installed only by `bench.settings`: the tests call its commands directly."""

import pytest
from django.core.management import CommandError, call_command, get_commands

from bench.management.commands import bench, generate_data
from bench.pages import positions_url_names
from bench.report import IMPORT_END, IMPORT_START

pytestmark = pytest.mark.django_db


def test_it_measures_every_named_page_and_keeps_the_import_section(tmp_path, settings):
    settings.STATIC_ROOT = tmp_path / "static"
    output = tmp_path / "BENCHMARKS.md"
    output.write_text(f"old\n{IMPORT_START}\nimport figures\n{IMPORT_END}\n")
    call_command(generate_data.Command(), "--scale", "tiny", verbosity=0)
    call_command(bench.Command(), "--no-http", "--no-import", "--output", str(output), verbosity=0)
    report = output.read_text()
    assert report.startswith("# Benchmarks")
    assert f"{IMPORT_START}\nimport figures\n{IMPORT_END}" in report
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
