"""The documented sample files import cleanly, in the documented order, and stay in step
with the columns the resources read and write."""

import io
import re
from pathlib import Path

import pytest

from positions.exchange import TYPES, ImportContext, docs_table, import_bytes, read_table
from positions.models import ActKind, Actor, FormalAct, Membership, Statement

pytestmark = pytest.mark.django_db

DOCS = Path(__file__).resolve().parent.parent / "docs"


@pytest.mark.parametrize("kind", list(TYPES))
def test_each_sample_has_exactly_the_documented_columns(kind):
    table = read_table((DOCS / "samples" / f"{kind}.csv").read_bytes(), f"{kind}.csv")
    assert tuple(table.headers) == TYPES[kind].names
    section = (DOCS / "import-format.md").read_text().split(f"### {kind}.csv")[1].split("###")[0]
    documented = tuple(re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.MULTILINE))
    assert documented == TYPES[kind].names


@pytest.mark.parametrize("kind", list(TYPES))
def test_the_docs_column_table_is_the_column_spec(kind):
    """docs/import-format.md shows each type's columns exactly as `columns.py` declares
    them (name, required, meaning): edit the spec, then paste `docs_table()` into the docs."""
    section = (DOCS / "import-format.md").read_text().split(f"### {kind}.csv\n\n")[1]
    assert section.startswith(docs_table(TYPES[kind])), docs_table(TYPES[kind])


def test_the_samples_import_in_order_and_reimport_as_skipped():
    for _ in range(2):
        reports = {}
        for kind, file_type in TYPES.items():
            path = DOCS / "samples" / f"{kind}.csv"
            reports[kind] = report = import_bytes(
                file_type,
                path.read_bytes(),
                path.name,
                context=ImportContext(file_name=path.name, can_publish=True),
            )
            assert report.ok, [str(e) for e in report.errors]
    rows = {
        kind: len(read_table((DOCS / "samples" / f"{kind}.csv").read_bytes(), "x.csv").rows)
        for kind in TYPES
    }
    assert {kind: r.skipped for kind, r in reports.items()} == rows
    wyden = Membership.objects.get(member__slug="ron-wyden")  # named by its bioguide id
    assert (wyden.on_behalf_of.slug, wyden.area) == ("democratic-party", "US-OR")
    withdrawal = FormalAct.objects.get(kind=ActKind.RESERVATION_WITHDRAWAL)
    assert withdrawal.regarding.text.startswith("Example reservation (format example)")
    lead = Statement.objects.get(import_ref="senators-letter-2024").signatures.get(is_lead=True)
    assert lead.actor.slug == "jeff-merkley"
    offline = Statement.objects.get(import_ref="us-admin-ratification-2024-11")
    assert offline.source.title == "Briefing note seen by reporters"


def test_every_sample_imports_onto_a_fresh_demo_database_without_error_or_choice():
    """A newcomer's first import: `load_demo`, then each sample in order. Nothing fails,
    nothing would clear a stored value, no row is taken for a duplicate."""
    from django.core.management import call_command

    call_command("load_demo", stdout=io.StringIO())
    for kind, file_type in TYPES.items():
        path = DOCS / "samples" / f"{kind}.csv"
        context = ImportContext(file_name=path.name, can_publish=True)
        report = import_bytes(file_type, path.read_bytes(), path.name, context=context)
        assert report.ok and report.written, (kind, [str(e) for e in report.errors])
        assert not report.clearing and not report.flagged, kind
        if kind == "memberships":
            assert report.skipped == 2  # the demo has them, from the same source
    wyden = Actor.objects.get(slug="ron-wyden")
    assert wyden.identifiers.filter(scheme="bioguide", identifier="W000779").exists()
    assert wyden.description.startswith("U.S. Senator")
    assert Statement.objects.filter(import_ref="senators-letter-2024").exists()
    # The samples restate the demo's memberships (the seeds' facts): nothing changes them.
    assert Membership.objects.filter(organization__slug="us-senate").count() == 6
    assert not Membership.objects.filter(source__url__contains="example").exists()
