"""
The memberships file type: keyed on member + organisation + role + start date, actors
named by slug or identifier, the diff preview, clear errors with row and column, all or
nothing at a thousand rows, the re-import that changes nothing, and the download.
"""

import datetime
import json

import pytest

from positions.exchange import TYPES, ImportContext, import_bytes
from positions.models import ActorIdentifier, ActorKind, Membership
from tests.factories import ActorFactory, MembershipFactory, SourceFactory

pytestmark = pytest.mark.django_db

HEADER = "member,organization,role,start_date,end_date,on_behalf_of,area,source,note"


def memberships_csv(*lines, header=HEADER):
    return ("\r\n".join([header, *lines]) + "\r\n").encode()


def run(data, dry_run=False, **context):
    context = ImportContext(file_name="memberships.csv", can_publish=True, **context)
    return import_bytes(
        TYPES["memberships"], data, "memberships.csv", context=context, dry_run=dry_run
    )


@pytest.fixture
def senate():
    chamber = ActorFactory(slug="us-senate", name="US Senate", kind=ActorKind.LEGISLATIVE_GROUP)
    party = ActorFactory(slug="democratic-party", kind=ActorKind.LEGISLATIVE_GROUP)
    wyden = ActorFactory(slug="ron-wyden", kind=ActorKind.LEGISLATOR)
    ActorIdentifier.objects.create(actor=wyden, scheme="bioguide", identifier="W000779")
    return chamber, party, wyden


def test_a_membership_is_created_with_its_party_area_and_dates(senate):
    chamber, party, wyden = senate
    report = run(
        memberships_csv(
            "ron-wyden,us-senate,Senator,2021-01-03,,democratic-party,us-or,,Class 3 seat"
        )
    )
    assert report.ok and report.written, [str(e) for e in report.errors]
    membership = Membership.objects.get()
    assert (membership.member, membership.organization, membership.on_behalf_of) == (
        wyden,
        chamber,
        party,
    )
    assert membership.role == "senator"  # lower case, as the model asks
    assert membership.area == "US-OR"
    assert membership.start_date == datetime.date(2021, 1, 3) and membership.end_date is None
    assert membership.history.get().history_change_reason.startswith(
        "Imported from memberships.csv (import #"
    )


def test_the_member_is_matched_by_identifier_and_a_reimport_changes_nothing(senate):
    _chamber, _party, wyden = senate
    line = "bioguide:W000779,us-senate,,2021-01-03,,democratic-party,US-OR,,"
    assert run(memberships_csv(line)).written
    again = run(memberships_csv(line))
    assert again.ok and again.totals() == {"new": 0, "changed": 0, "unchanged": 1, "errors": 0}
    (plan,) = again.plans
    assert plan.matched_by == "bioguide:W000779 is 'ron-wyden'"
    by_slug = run(
        memberships_csv("ron-wyden,us-senate,member,2021-01-03,,democratic-party,US-OR,,")
    )
    assert by_slug.skipped == 1  # the same membership, named by its slug
    assert Membership.objects.get().member == wyden and Membership.objects.get().role == "member"


def test_a_changed_row_shows_old_and_new_and_a_clearing_waits_for_a_choice(senate):
    chamber, party, wyden = senate
    MembershipFactory(
        member=wyden,
        organization=chamber,
        role="senator",
        start_date=datetime.date(2021, 1, 3),
        on_behalf_of=party,
        area="US-OR",
        note="Class 3",
    )
    report = run(
        memberships_csv("ron-wyden,us-senate,senator,2021-01-03,2027-01-03,,US-OR,,Class 3"),
        dry_run=True,
    )
    assert report.ok and report.updated == 1
    (plan,) = report.plans
    assert plan.changes == {
        "end_date": ("", "2027-01-03"),
        "on_behalf_of": ("democratic-party", ""),
    }
    assert plan.clears == ["on_behalf_of"]
    refused = run(memberships_csv("ron-wyden,us-senate,senator,2021-01-03,,,US-OR,,Class 3"))
    assert not refused.ok and "clear the stored on_behalf_of" in str(refused.errors[0])
    assert Membership.objects.get().on_behalf_of == party
    kept = run(
        memberships_csv("ron-wyden,us-senate,senator,2021-01-03,,,US-OR,,Class 3"), blanks="keep"
    )
    assert kept.ok and kept.skipped == 1 and Membership.objects.get().on_behalf_of == party
    cleared = run(
        memberships_csv("ron-wyden,us-senate,senator,2021-01-03,,,US-OR,,Class 3"), blanks="clear"
    )
    assert cleared.written and Membership.objects.get().on_behalf_of is None


@pytest.mark.parametrize(
    ("line", "column", "message"),
    [
        ("nobody,us-senate,,,,,,,", "member", "Unknown actor 'nobody'"),
        ("ron-wyden,no-such-body,,,,,,,", "organization", "Unknown actor 'no-such-body'"),
        ("bioguide:X000001,us-senate,,,,,,,", "member", "No actor has the identifier"),
        ("ron-wyden,us-senate,,,,nobody,,,", "on_behalf_of", "Unknown actor 'nobody'"),
        ("ron-wyden,us-senate,,3 Jan 2021,,,,,", "start_date", "is not a date"),
        ("ron-wyden,us-senate,,2021-01-03,2020-01-01,,,,", "end_date", "cannot end before"),
        ("ron-wyden,us-senate,,,,,US-XX,,", "area", "not an ISO 3166-2 subdivision code"),
        ("ron-wyden,us-senate,,,,,,https://example.org/none,", "source", "No source has"),
        ("ron-wyden,ron-wyden,,,,,,,", "organization", "member of itself"),
        (",us-senate,,,,,,,", "member", "cannot be empty"),
        ("ron-wyden,us-senate," + "r" * 101 + ",,,,,,", "role", "at most 100"),
    ],
)
def test_a_bad_cell_is_refused_with_its_row_and_column(senate, line, column, message):
    report = run(memberships_csv("ron-wyden,us-senate,member,2000-01-01,,,,,", line))
    assert not report.ok and not report.written
    assert [(e.row, e.column) for e in report.errors] == [(3, column)], report.errors
    assert message in report.errors[0].message
    assert not Membership.objects.exists()  # the good row 2 is not written either


def test_one_membership_named_twice_in_a_file_is_refused(senate):
    report = run(
        memberships_csv(
            "ron-wyden,us-senate,member,2021-01-03,,,,,",
            "bioguide:W000779,us-senate,Member,2021-01-03,,,,,",
        )
    )
    assert [(e.row, e.column) for e in report.errors] == [(3, "member")]
    assert "row 2" in report.errors[0].message and not Membership.objects.exists()


def test_a_thousand_rows_preview_and_write_all_or_nothing(senate):
    chamber, party, _ = senate
    members = [
        ActorFactory(slug=f"legislator-{n:04d}", kind=ActorKind.LEGISLATOR) for n in range(1000)
    ]
    source = SourceFactory(url="https://example.org/roll")
    lines = [
        f"{m.slug},us-senate,member,2025-01-03,,democratic-party,US-OR,{source.url},"
        for m in members
    ]
    preview = run(memberships_csv(*lines), dry_run=True)
    assert preview.ok and preview.totals() == {
        "new": 1000,
        "changed": 0,
        "unchanged": 0,
        "errors": 0,
    }
    assert not Membership.objects.exists()
    bad = [*lines[:700], "legislator-0700,us-senate,member,2025-01-03,2024-12-31,,,,", *lines[701:]]
    refused = run(memberships_csv(*bad))
    assert [(e.row, e.column) for e in refused.errors] == [(702, "end_date")]
    assert not refused.written and not Membership.objects.exists()
    written = run(memberships_csv(*lines))
    assert written.written and Membership.objects.of(chamber).count() == 1000
    assert run(memberships_csv(*lines)).totals()["unchanged"] == 1000
    edited = [
        line.replace(",US-OR,", ",US-WA,") if n % 10 == 0 else line for n, line in enumerate(lines)
    ]
    changed = run(memberships_csv(*edited), dry_run=True)
    assert changed.totals() == {"new": 0, "changed": 100, "unchanged": 900, "errors": 0}
    assert changed.plans[0].changes == {"area": ("US-OR", "US-WA")}


def test_checking_a_file_costs_a_few_queries_per_900_rows_not_one_per_row(
    senate, django_assert_num_queries
):
    for n in range(1000):
        ActorFactory(slug=f"legislator-{n:04d}", kind=ActorKind.LEGISLATOR)
    lines = [
        f"legislator-{n:04d},us-senate,member,2025-01-03,,democratic-party,,," for n in range(1000)
    ]
    # 1-2. the actors the file names by slug (1,002 slugs, 900 a query);
    # 3-4. the stored memberships of its members in its organisations (900 members a query).
    # No identifier, source or party outside the file is named: no other query.
    with django_assert_num_queries(4):
        report = run(memberships_csv(*lines), dry_run=True)
    assert report.created == 1000
    # 1. the actors; 2. the stored memberships.
    with django_assert_num_queries(2):
        assert run(memberships_csv(*lines[:10]), dry_run=True).created == 10


def test_the_download_imports_back_unchanged(client, senate):
    chamber, party, wyden = senate
    MembershipFactory(
        member=wyden,
        organization=chamber,
        role="senator",
        start_date=datetime.date(2021, 1, 3),
        on_behalf_of=party,
        area="US-OR",
    )
    csv_bytes = b"".join(client.get("/data/memberships.csv").streaming_content)
    assert csv_bytes.decode().splitlines()[0] == ",".join(TYPES["memberships"].names)
    assert "ron-wyden,us-senate,senator,2021-01-03,,democratic-party,US-OR" in csv_bytes.decode()
    assert run(csv_bytes).totals()["unchanged"] == 1
    rows = json.loads(b"".join(client.get("/data/memberships.json").streaming_content))
    assert rows[0]["on_behalf_of"] == "democratic-party"
    everything = json.loads(b"".join(client.get("/data/all.json").streaming_content))
    assert list(everything)[-2:] == ["memberships", "acts"]
    assert everything["memberships"] == rows


def test_a_role_typed_in_another_case_is_the_same_membership(senate):
    chamber, _, wyden = senate
    MembershipFactory(member=wyden, organization=chamber, role="Ranking  Member")
    report = run(memberships_csv("ron-wyden,us-senate,ranking member,,,,,,"), dry_run=True)
    assert report.ok and report.updated == 1
    assert report.plans[0].changes == {"role": ("Ranking  Member", "ranking member")}
