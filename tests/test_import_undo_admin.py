"""
The admin's imports (positions/exchange/batch_admin.py): the list of batches, a batch's
page, and "Undo this import" with its confirmation page, for Publishers only.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from positions import writes
from positions.models import Actor, ImportBatch, Statement
from tests.admin_builders import staff_in
from tests.test_import_undo import (
    ACTORS_FILE,
    STATEMENTS_FILE,
    dump,
    run,
    world,  # noqa: F401 -- the fixture
)

pytestmark = pytest.mark.django_db

LIST_URL = "/admin/positions/importbatch/"


def detail_url(batch):
    return f"/admin/positions/importbatch/{batch.pk}/change/"


def undo_url(batch):
    return f"/admin/positions/importbatch/{batch.pk}/undo/"


def board(client, question):
    """The public board's actors by stance, as readers see it."""
    response = client.get(f"/topics/{question.topic.slug}/{question.slug}/")
    return {
        stance.value: sorted(p.actor.slug for p in positions)
        for stance, positions, _count in response.context["groups"]
    }


@pytest.fixture
def publisher(client):
    user = staff_in("Publishers")
    client.force_login(user)
    return user


@pytest.fixture
def editor(client):
    user = staff_in("Editors")
    client.force_login(user)
    return user


def test_the_list_shows_who_when_which_file_and_counts(client, world, publisher):  # noqa: F811
    run("actors", ACTORS_FILE, user=publisher, file_name="senators.csv")
    run("actors", ACTORS_FILE, file_name="again.csv")
    response = client.get(LIST_URL)
    assert response.status_code == 200
    rows = response.context["cl"].result_list
    assert [(b.file_name, b.user) for b in rows] == [
        ("again.csv", None),
        ("senators.csv", publisher),
    ]
    page = response.content.decode()
    assert "senators.csv" in page and publisher.username in page
    assert "the server&#x27;s operator" in page
    assert '<td class="field-new_rows">2</td>' in page
    assert '<td class="field-changed_rows">1</td>' in page
    assert '<td class="field-unchanged_rows">4</td>' in page  # the second: all unchanged


def test_the_list_reads_a_fixed_number_of_queries(
    client,
    world,  # noqa: F811
    publisher,
    django_assert_num_queries,
):
    # session, user, count (filtered), count (all), the user's and the groups' permissions
    # (the navigation), the page of batches with their users, the kinds for the filter
    for count in (1, 6):
        while ImportBatch.objects.count() < count:
            run("actors", ACTORS_FILE, user=publisher, file_name=f"file-{count}.csv")
        with django_assert_num_queries(8):
            assert len(client.get(LIST_URL).context["cl"].result_list) == count


def test_a_batch_page_shows_what_it_wrote_and_the_undo_button(client, world, publisher):  # noqa: F811
    batch = run("actors", ACTORS_FILE, user=publisher).batch
    response = client.get(detail_url(batch))
    assert response.status_code == 200
    assert response.context["summary"] == [("actor identifiers", 2, 0, 1), ("actors", 2, 1, 0)]
    page = response.content.decode()
    assert f'href="{undo_url(batch)}"' in page
    markey = Actor.objects.get(slug="markey")
    assert f'href="/admin/positions/actor/{markey.pk}/change/"' in page


def test_an_editor_sees_the_batch_but_cannot_undo_it(client, world, editor):  # noqa: F811
    batch = run("actors", ACTORS_FILE, user=editor).batch
    imported = dump()
    page = client.get(detail_url(batch))
    assert page.status_code == 200
    assert undo_url(batch) not in page.content.decode()
    assert client.get(undo_url(batch)).status_code == 403
    assert client.post(undo_url(batch)).status_code == 403
    assert dump() == imported


def test_a_publisher_undoes_from_the_confirmation_page_and_the_board_is_back(
    client,
    world,  # noqa: F811
    publisher,
):
    before, board_before = dump(), board(client, world)
    run("actors", ACTORS_FILE, user=publisher)
    batch = run("statements", STATEMENTS_FILE, user=publisher).batch
    assert board(client, world) != board_before

    confirmation = client.get(undo_url(batch))
    assert confirmation.status_code == 200
    assert not confirmation.context["conflicts"]
    assert f"Yes, undo import #{batch.pk}" in confirmation.content.decode()
    assert Statement.objects.filter(import_ref="later").exists(), "GET changes nothing"

    response = client.post(undo_url(batch))
    assert response.status_code == 302
    assert response["Location"] == detail_url(batch)
    actors = ImportBatch.objects.get(kind="actors")
    assert client.post(undo_url(actors)).status_code == 302
    assert dump() == before
    assert board(client, world) == board_before

    again = client.post(undo_url(batch), follow=True)
    assert "was already undone" in again.content.decode()
    assert dump() == before


def test_it_names_the_records_edited_since_and_undoes_nothing(client, world, publisher):  # noqa: F811
    batch = run("actors", ACTORS_FILE, user=publisher).batch
    markey = Actor.objects.get(slug="markey")
    with writes.writing():
        markey.description = "Edited after the import."
        writes.save(markey)
    edited = dump()

    confirmation = client.get(undo_url(batch))
    page = confirmation.content.decode()
    assert f'<a href="/admin/positions/actor/{markey.pk}/change/">Ed Markey</a>' in page
    assert "was edited after the import" in page
    assert "Yes, undo" not in page

    response = client.post(undo_url(batch))
    assert response.status_code == 200
    assert "cannot be undone" in response.content.decode()
    assert dump() == edited
    batch.refresh_from_db()
    assert not batch.is_undone


def test_junk_ids_are_not_found(client, publisher):
    for url in ("/admin/positions/importbatch/abc/undo/", "/admin/positions/importbatch/99/undo/"):
        assert client.get(url).status_code == 404
    assert client.get("/admin/positions/importbatch/99/change/").status_code == 404


def test_a_confirmed_admin_import_is_recorded_and_says_where_to_undo_it(client, world, publisher):  # noqa: F811
    upload = client.post(
        "/admin/positions/actor/import/",
        {
            "import_file": SimpleUploadedFile("senators.csv", ACTORS_FILE),
            "format": "0",
            "resource": "0",
        },
    )
    confirm = dict(upload.context["confirm_form"].initial, blanks="clear")
    response = client.post("/admin/positions/actor/process_import/", confirm, follow=True)
    batch = ImportBatch.objects.get()
    assert (batch.user, batch.file_name, batch.new_rows) == (publisher, "senators.csv", 2)
    assert f'href="{detail_url(batch)}"' in response.content.decode()


def test_a_batch_page_reads_a_fixed_number_of_queries(
    client,
    world,  # noqa: F811
    publisher,
    django_assert_num_queries,
):
    small = run("actors", csv_of_actors(2), user=publisher).batch
    big = run("actors", csv_of_actors(30, start=2), user=publisher).batch
    # session, user, the batch with its users, the page's count and rows of changes, the
    # user's and the groups' permissions (may undo; the navigation), the summary by model
    for batch in (small, big):
        with django_assert_num_queries(8):
            assert client.get(detail_url(batch)).status_code == 200


def csv_of_actors(count, start=0):
    rows = [f"bench-{i},Actor {i},ngo,wikidata:Q{1000 + i}" for i in range(start, start + count)]
    return ("\r\n".join(["slug,name,kind,identifiers", *rows]) + "\r\n").encode()
