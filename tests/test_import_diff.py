"""
The import preview as a diff, on the command line and in the admin: totals, changed fields
old -> new, unchanged rows counted, errors in full; an empty cell that would clear a stored
value waits for a choice; an actor row is matched by slug, then by identifier, and a row
that looks like an existing actor is flagged until the importer says same or new.
"""

import io

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from positions.exchange import TYPES, ImportContext, import_bytes
from positions.models import Actor, ActorIdentifier, ActorKind
from tests.factories import ActorFactory, UserFactory

pytestmark = pytest.mark.django_db

HEADER = "slug,name,kind,country,description,identifiers"
IMPORT_URL = "/admin/positions/actor/import/"
CONFIRM_URL = "/admin/positions/actor/process_import/"


def actors_csv(*lines):
    return ("\r\n".join([HEADER, *lines]) + "\r\n").encode()


def run(data, **context):
    context = ImportContext(file_name="actors.csv", can_publish=True, **context)
    return import_bytes(TYPES["actors"], data, "actors.csv", context=context)


@pytest.fixture
def wyden():
    actor = ActorFactory(
        slug="ron-wyden",
        name="Ron Wyden",
        kind=ActorKind.LEGISLATOR,
        country="US",
        description="Senator from Oregon.",
    )
    ActorIdentifier.objects.create(actor=actor, scheme="bioguide", identifier="W000779")
    return actor


def test_a_changed_row_shows_each_changed_field_old_and_new(wyden):
    report = run(
        actors_csv(
            "ron-wyden,Ron Wyden,legislator,US,Senior senator from Oregon.,bioguide:W000779"
        ),
    )
    assert report.ok and report.totals() == {"new": 0, "changed": 1, "unchanged": 0, "errors": 0}
    (plan,) = report.plans
    assert plan.changes == {"description": ("Senator from Oregon.", "Senior senator from Oregon.")}
    assert not plan.clears


def test_an_empty_cell_that_would_clear_a_value_needs_a_choice(wyden):
    data = actors_csv("ron-wyden,Ron Wyden,legislator,US,,bioguide:W000779")
    dry = import_bytes(
        TYPES["actors"], data, "actors.csv", context=ImportContext(can_publish=True), dry_run=True
    )
    assert dry.ok and dry.clearing[0].clears == ["description"]
    assert dry.clearing[0].changes["description"] == ("Senator from Oregon.", "")

    refused = run(data)
    assert not refused.ok and not refused.written
    assert "would clear the stored description of 'ron-wyden'" in str(refused.errors[0])
    wyden.refresh_from_db()
    assert wyden.description == "Senator from Oregon."

    kept = run(data, blanks="keep")
    assert kept.ok and kept.skipped == 1
    wyden.refresh_from_db()
    assert wyden.description == "Senator from Oregon."

    cleared = run(data, blanks="clear")
    assert cleared.ok and cleared.updated == 1
    wyden.refresh_from_db()
    assert wyden.description == ""


def test_the_command_line_refuses_to_clear_without_a_flag(wyden, tmp_path):
    path = tmp_path / "actors.csv"
    path.write_bytes(actors_csv("ron-wyden,Ron Wyden,legislator,US,,bioguide:W000779"))
    out, err = io.StringIO(), io.StringIO()
    call_command("import_actors", str(path), "--dry-run", "--no-progress", stdout=out, stderr=err)
    assert "description: 'Senator from Oregon.' -> CLEARED" in out.getvalue()
    assert "--clear to clear them or --keep-blank" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("import_actors", str(path), "--no-progress", stdout=out, stderr=err)
    assert "--clear or --keep-blank" in err.getvalue()
    call_command("import_actors", str(path), "--keep-blank", "--no-progress", stdout=out)
    assert Actor.objects.get(slug="ron-wyden").description == "Senator from Oregon."
    call_command("import_actors", str(path), "--clear", "--no-progress", stdout=out)
    assert Actor.objects.get(slug="ron-wyden").description == ""


def test_a_row_with_another_slug_but_the_same_identifier_updates_that_actor(wyden):
    report = run(
        actors_csv(
            "wyden-ron,Ron Wyden,legislator,US,Senator from Oregon.,"
            "bioguide:W000779|wikidata:Q7364434"
        )
    )
    assert report.ok and (report.created, report.updated) == (0, 1)
    assert report.plans[0].matched_by == "matched by bioguide:W000779"
    assert Actor.objects.count() == 1
    assert set(wyden.identifiers.values_list("identifier", flat=True)) == {"W000779", "Q7364434"}


@pytest.mark.parametrize(
    "name",
    ["Ron Wyden", "RON WYDÉN", "Ronald Wyden", "Ron Wydne"],
    ids=["same", "folded", "short", "typo"],
)
def test_a_row_that_looks_like_an_existing_actor_is_flagged(wyden, name):
    data = actors_csv(f"wyden-oregon,{name},legislator,US,,bioguide:W000001")
    dry = import_bytes(
        TYPES["actors"], data, "actors.csv", context=ImportContext(can_publish=True), dry_run=True
    )
    assert [p.candidates for p in dry.flagged] == [[wyden]]
    refused = run(data)
    assert not refused.ok and "Looks like the existing actor 'Ron Wyden'" in str(refused.errors[0])
    assert Actor.objects.count() == 1


def test_a_different_person_in_another_country_is_not_flagged(wyden):
    report = run(
        actors_csv("jane-wyden,Jane Wyden,legislator,US,,", "ron-w,Ronald Wyden,legislator,CA,,")
    )
    assert report.ok and report.created == 2


def test_a_flagged_row_resolves_as_the_same_actor_or_a_new_one(wyden):
    data = actors_csv("wyden-oregon,Ron Wyden,legislator,US,,wikidata:Q7364434")
    same = run(data, duplicates="same", blanks="keep")
    assert same.ok and same.updated == 1 and Actor.objects.count() == 1
    assert wyden.identifiers.filter(identifier="Q7364434").exists()

    data = actors_csv("wyden-again,Ron Wyden,legislator,US,,")
    new = run(data, duplicate_choices={2: "new"})
    assert new.ok and new.created == 1
    assert Actor.objects.filter(name="Ron Wyden").count() == 2


def test_the_command_line_refuses_flagged_rows_unless_told(wyden, tmp_path):
    path = tmp_path / "actors.csv"
    path.write_bytes(actors_csv("wyden-oregon,Ron Wyden,legislator,US,,"))
    out, err = io.StringIO(), io.StringIO()
    call_command("import_actors", str(path), "--dry-run", "--no-progress", stdout=out, stderr=err)
    assert "looks like the existing actor 'Ron Wyden' (ron-wyden)" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("import_actors", str(path), "--no-progress", stdout=out, stderr=err)
    assert "--duplicates=same" in err.getvalue()
    call_command("import_actors", str(path), "--duplicates=new", "--no-progress", stdout=out)
    assert Actor.objects.filter(name="Ron Wyden").count() == 2


# --- the admin preview ------------------------------------------------------------------------


def importer():
    user = UserFactory(is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_actor", "change_actor", "view_actor"])
    )
    return user


def preview(client, content):
    return client.post(
        IMPORT_URL,
        {"import_file": SimpleUploadedFile("actors.csv", content), "format": "0", "resource": "0"},
    )


def test_the_admin_preview_is_a_diff_with_totals_first(client, wyden):
    ActorFactory(slug="cisco", name="Cisco", kind=ActorKind.COMPANY)
    client.force_login(importer())
    response = preview(
        client,
        actors_csv(
            "ron-wyden,Ron Wyden,legislator,US,Senior senator.,bioguide:W000779",
            "cisco,Cisco,company,,,",
            "eff,EFF,ngo,,,",
        ),
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert page.index("What this import would do") < page.index("Changed rows")
    assert "<dt>New</dt><dd>1</dd>" in page and "<dt>Changed</dt><dd>1</dd>" in page
    assert "<dt>Unchanged</dt><dd>1</dd>" in page
    assert "Senator from Oregon." in page and "Senior senator." in page
    assert "1 unchanged row (skipped)" in page


def test_the_admin_asks_before_clearing_and_per_duplicate(client, wyden):
    cisco = ActorFactory(slug="cisco", name="Cisco", kind=ActorKind.COMPANY)
    client.force_login(importer())
    content = actors_csv(
        "ron-wyden,Ron Wyden,legislator,US,,bioguide:W000779", "cisco-systems,CISCO,company,,,"
    )
    response = preview(client, content)
    page = response.content.decode()
    assert "would clear stored values" in page and "Clear these fields" in page
    assert 'name="duplicate-3"' in page and f"/admin/positions/actor/{cisco.pk}/change/" in page
    confirm = response.context["confirm_form"].initial

    # Confirming without choosing writes nothing and says why.
    response = client.post(CONFIRM_URL, confirm, follow=True)
    assert "Nothing was imported" in response.content.decode()
    assert Actor.objects.count() == 2

    response = preview(client, content)
    confirm = response.context["confirm_form"].initial
    response = client.post(CONFIRM_URL, {**confirm, "blanks": "keep", "duplicate-3": "new"})
    assert response.status_code == 302
    assert Actor.objects.filter(folded_name="cisco").count() == 2
    wyden.refresh_from_db()
    assert wyden.description == "Senator from Oregon."


def test_errors_are_listed_in_full_with_row_and_column(client, wyden):
    client.force_login(importer())
    response = preview(client, actors_csv("bad,Bad,nonsense,US,,", "worse,,ngo,XX,,"))
    page = response.content.decode()
    assert "Row 2, column <code>kind</code>: Unknown actor kind &#x27;nonsense&#x27;" in page
    assert "Row 3, column <code>country</code>" in page
    assert "validation-error-count" not in page  # no hover badges


@pytest.mark.parametrize("rows", [10, 300])
def test_checking_an_actor_file_reads_the_database_in_three_queries(
    wyden, django_assert_num_queries, rows
):
    """The file's slugs, the owners of its identifiers (a query each per batch of 900), and
    every actor once, for the duplicate check of the rows that match nothing: the same
    three queries for any number of rows up to a batch."""
    lines = [f"p-{i},Person {i},legislator,US,,bioguide:P{i:06d}" for i in range(rows)]
    data = actors_csv(*lines)
    with django_assert_num_queries(3):
        report = import_bytes(
            TYPES["actors"], data, "a.csv", context=ImportContext(can_publish=True), dry_run=True
        )
    assert report.ok and report.created == rows
