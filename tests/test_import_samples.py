"""The documented sample files import cleanly, in the documented order, and stay in step
with the columns the resources read and write."""

import re
from pathlib import Path

import pytest

from positions.importing import ImportContext, import_bytes, read_table
from positions.models import Statement
from positions.resources import RESOURCES

pytestmark = pytest.mark.django_db

DOCS = Path(__file__).resolve().parent.parent / "docs"


@pytest.mark.parametrize("kind", list(RESOURCES))
def test_each_sample_has_exactly_the_documented_columns(kind):
    table = read_table((DOCS / "samples" / f"{kind}.csv").read_bytes(), f"{kind}.csv")
    assert tuple(table.headers) == RESOURCES[kind].columns
    section = (DOCS / "import-format.md").read_text().split(f"### {kind}.csv")[1].split("###")[0]
    documented = tuple(re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.MULTILINE))
    assert documented == RESOURCES[kind].columns


def test_the_samples_import_in_order_and_reimport_as_skipped():
    for _ in range(2):
        for kind, resource_class in RESOURCES.items():
            path = DOCS / "samples" / f"{kind}.csv"
            report = import_bytes(
                resource_class(),
                path.read_bytes(),
                path.name,
                context=ImportContext(file_name=path.name, can_publish=True),
            )
            assert report.ok, [str(e) for e in report.errors]
    assert report.skipped == 2
    lead = Statement.objects.get(import_ref="senators-letter-2024").signatures.get(is_lead=True)
    assert lead.actor.slug == "jeff-merkley"
    offline = Statement.objects.get(import_ref="us-admin-ratification-2024-11")
    assert offline.source.title == "Briefing note seen by reporters"
