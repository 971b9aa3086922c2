"""A smoke run of the benchmark on a tiny data set: in process only, no timings asserted."""

import pytest
from django.core.management import CommandError, call_command

from positions.management.commands.bench import IMPORT_END, IMPORT_START, positions_url_names

pytestmark = pytest.mark.django_db


def test_it_measures_every_named_page_and_keeps_the_import_section(tmp_path, settings):
    settings.STATIC_ROOT = tmp_path / "static"
    output = tmp_path / "BENCHMARKS.md"
    output.write_text(f"old\n{IMPORT_START}\nimport figures\n{IMPORT_END}\n")
    call_command("generate_data", "--scale", "tiny", verbosity=0)
    call_command("bench", "--no-http", "--no-import", "--output", str(output), verbosity=0)
    report = output.read_text()
    assert report.startswith("# Benchmarks")
    assert f"{IMPORT_START}\nimport figures\n{IMPORT_END}" in report
    for name, _ in positions_url_names():
        assert f"| {name}" in report, f"page {name} not measured"
    assert "| admin statement list |" in report
    assert "Public pages: at most 6 queries" in report


def test_it_asks_for_data_first(tmp_path):
    with pytest.raises(CommandError, match="--generate"):
        call_command("bench", "--no-http", "--output", str(tmp_path / "B.md"), verbosity=0)
