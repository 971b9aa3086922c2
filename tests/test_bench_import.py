"""The benchmark command runs the real import path and leaves the database as it was.
(Its timings belong in BENCHMARKS.md, never in a test.)"""

import io

import pytest
from django.core.management import call_command

from bench.management.commands import bench_import
from bench.management.commands.bench_import import END, START, write_between_markers
from positions.models import Actor, Statement


@pytest.mark.django_db
def test_bench_import_reports_the_figures_and_rolls_everything_back():
    out = io.StringIO()
    call_command(
        bench_import.Command(), "--rows", "40", "--no-write", stdout=out, stderr=io.StringIO()
    )
    report = out.getvalue()
    assert "40 statement rows" in report
    assert "| statement history records | 40 | 0 |" in report
    assert "target at most one per 20" in report and "target within 5x" in report
    assert not Statement.objects.exists() and not Actor.objects.exists()


def test_figures_replace_their_own_vendor_block_and_keep_the_rest(tmp_path):
    path = tmp_path / "BENCHMARKS.md"
    path.write_text("# Benchmarks\n\nOther figures stay.\n")
    write_between_markers(path, "### bench_import on sqlite: 10 rows\nold sqlite\n")
    write_between_markers(path, "### bench_import on postgresql: 10 rows\npg\n")
    write_between_markers(path, "### bench_import on sqlite: 20 rows\nnew sqlite\n")
    text = path.read_text()
    assert text.startswith("# Benchmarks\n\nOther figures stay.\n")
    block = text.split(START)[1].split(END)[0]
    assert "new sqlite" in block and "pg" in block and "old sqlite" not in block
    assert text.count(START) == 1


def test_a_missing_file_is_created(tmp_path):
    path = tmp_path / "BENCHMARKS.md"
    write_between_markers(path, "### bench_import on sqlite: 1 rows\nx\n")
    assert path.read_text().startswith("# Benchmarks")
    assert f"{START}\n### bench_import on sqlite: 1 rows\nx\n{END}" in path.read_text()
