"""
Big admin imports in the background (positions/exchange/jobs.py): stored, checked by the
worker, previewed, confirmed, written all or nothing; resumed from the stored file when a
worker dies. Most tests run tasks at once (django-tasks' immediate backend); one runs the
real worker command on the database backend.
"""

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.management.commands import db_worker

from positions.exchange import jobs, writing
from positions.models import Actor, ImportBatch, ImportJob, ImportJobState
from tests.factories import ActorFactory, UserFactory

pytestmark = pytest.mark.django_db

IMPORT_URL = "/admin/positions/actor/import/"
HEADER = "slug,name,kind\r\n"


def actors_csv(count, start=0, kind="ngo"):
    rows = "".join(f"actor-{i},Actor {i},{kind}\r\n" for i in range(start, start + count))
    return (HEADER + rows).encode()


@pytest.fixture(autouse=True)
def _background_for_every_file(settings):
    settings.IMPORT_BACKGROUND_BYTES = 1
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def editor(client):
    user = UserFactory(is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_actor", "change_actor", "view_actor"])
    )
    client.force_login(user)
    return user


def upload(client, content, name="actors.csv"):
    return client.post(
        IMPORT_URL,
        {"import_file": SimpleUploadedFile(name, content), "format": "0", "resource": "0"},
    )


def job_url(job):
    return f"/admin/positions/importjob/{job.pk}/change/"


def test_it_stores_a_big_upload_checks_it_and_shows_the_same_preview(client, editor):
    response = upload(client, actors_csv(3))
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == job_url(job)
    assert job.user == editor
    assert job.state == ImportJobState.CHECKED
    assert (job.rows_total, job.rows_done) == (3, 3)
    assert not Actor.objects.exists(), "checking writes nothing"

    page = client.get(job_url(job))
    assert [row.import_type for row in page.context["result"].rows] == ["new"] * 3
    assert page.context["confirm_form"]
    assert b"<dt>New</dt><dd>3</dd>" in page.content
    assert b'http-equiv="refresh"' not in page.content, "nothing left to wait for"


def test_it_writes_every_row_once_confirmed(client, editor):
    upload(client, actors_csv(3))
    job = ImportJob.objects.get()
    response = client.post(f"/admin/positions/importjob/{job.pk}/confirm/")
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.state == ImportJobState.DONE
    batch = ImportBatch.objects.get()
    assert job.message == f"3 created, 0 updated, 0 skipped. Recorded as import #{batch.pk}."
    assert (batch.user, batch.file_name, batch.new_rows) == (editor, "actors.csv", 3)
    assert Actor.objects.count() == 3
    actor = Actor.objects.get(slug="actor-0")
    assert actor.history.get().history_user == editor
    assert actor.history.get().history_change_reason.startswith(
        "Imported from actors.csv (import #"
    )
    assert b"Import finished" in client.get(job_url(job)).content


def test_a_big_import_shows_the_diff_and_asks_before_clearing_or_merging(client, editor):
    """The background preview is the same diff as an ordinary one, and its confirm asks the
    same questions: nothing is cleared or merged until the editor has chosen."""
    wyden = ActorFactory(slug="ron-wyden", name="Ron Wyden", description="Senator from Oregon.")
    cisco = ActorFactory(slug="cisco", name="Cisco", kind="company")
    content = (
        "slug,name,kind,description\r\n"
        f"ron-wyden,Ron Wyden,{wyden.kind},\r\n"  # the empty description would clear it
        "cisco-systems,CISCO,company,\r\n"  # looks like Cisco
        "new-one,New One,ngo,\r\n"
    ).encode()
    upload(client, content)
    job = ImportJob.objects.get()
    page = client.get(job_url(job)).content.decode()
    assert "<dt>New</dt><dd>2</dd>" in page and "<dt>Changed</dt><dd>1</dd>" in page
    assert "<dt>Likely duplicates</dt><dd>1</dd>" in page
    assert "Senator from Oregon." in page, "the changed field, old -> new"
    assert "would clear stored values" in page and 'name="blanks" value="keep" required' in page
    assert 'name="duplicate-3"' in page and f"/admin/positions/actor/{cisco.pk}/change/" in page

    confirm_url = f"/admin/positions/importjob/{job.pk}/confirm/"
    page = client.post(confirm_url, follow=True).content.decode()
    assert "Nothing was imported yet. Choose whether to clear" in page
    assert "whether each is the same actor or a new one" in page
    job.refresh_from_db()
    assert job.state == ImportJobState.CHECKED and Actor.objects.count() == 2

    client.post(confirm_url, {"blanks": "keep", "duplicate-3": "same"})
    job.refresh_from_db()
    assert job.state == ImportJobState.DONE, job.message
    wyden.refresh_from_db()
    assert wyden.description == "Senator from Oregon.", "kept, as chosen"
    assert Actor.objects.count() == 3, "the Cisco row updated Cisco; one new actor"


def test_a_big_import_clears_only_when_told_to(client, editor):
    wyden = ActorFactory(slug="ron-wyden", name="Ron Wyden", description="Senator from Oregon.")
    upload(client, f"slug,name,kind,description\r\nron-wyden,Ron Wyden,{wyden.kind},\r\n".encode())
    job = ImportJob.objects.get()
    client.post(f"/admin/positions/importjob/{job.pk}/confirm/", {"blanks": "clear"})
    wyden.refresh_from_db()
    assert wyden.description == ""


def test_the_write_refuses_a_clearing_nobody_chose(client, editor):
    """A confirmation that skipped the form (or a file that clears more since): nothing."""
    wyden = ActorFactory(slug="ron-wyden", name="Ron Wyden", description="Senator from Oregon.")
    upload(client, f"slug,name,kind,description\r\nron-wyden,Ron Wyden,{wyden.kind},\r\n".encode())
    job = ImportJob.objects.get()
    assert jobs.confirm(job, {})
    job.refresh_from_db()
    assert job.state == ImportJobState.FAILED
    assert "would clear the stored description" in str(job.preview["errors"])
    wyden.refresh_from_db()
    assert wyden.description == "Senator from Oregon."


def test_a_file_with_errors_fails_with_its_errors_and_writes_nothing(client, editor):
    upload(client, actors_csv(2) + b"bad,Bad,no-such-kind\r\n")
    job = ImportJob.objects.get()
    assert job.state == ImportJobState.FAILED
    page = client.get(job_url(job))
    [invalid] = page.context["result"].invalid_rows
    assert invalid.number == 4
    assert "kind" in invalid.error_dict
    assert not page.context.get("confirm_form")
    assert client.post(f"/admin/positions/importjob/{job.pk}/confirm/").status_code == 302
    assert not Actor.objects.exists()


def test_a_hostile_file_fails_with_the_limit_named(client, editor):
    upload(client, (",".join(f"c{i}" for i in range(1000)) + "\r\n").encode())
    job = ImportJob.objects.get()
    assert job.state == ImportJobState.FAILED
    assert "IMPORT_MAX_COLUMNS" in job.preview["errors"][0][2]


def test_a_running_job_page_refreshes_itself_without_script(client, editor, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    upload(client, actors_csv(3))
    job = ImportJob.objects.get()
    assert job.state == ImportJobState.QUEUED
    page = client.get(job_url(job))
    assert b'<meta http-equiv="refresh" content="2">' in page.content
    assert b"<script>" not in page.content


def test_small_files_keep_the_immediate_preview(client, editor, settings):
    settings.IMPORT_BACKGROUND_BYTES = 1024 * 1024
    response = upload(client, actors_csv(3))
    assert response.status_code == 200
    assert response.context["confirm_form"]
    assert not ImportJob.objects.exists()


def test_another_editor_cannot_see_or_confirm_the_job(client, editor):
    upload(client, actors_csv(3))
    job = ImportJob.objects.get()
    other = UserFactory(is_staff=True)
    other.user_permissions.add(*Permission.objects.filter(codename="add_actor"))
    client.force_login(other)
    assert client.get(job_url(job)).status_code == 404
    assert client.post(f"/admin/positions/importjob/{job.pk}/confirm/").status_code == 404
    job.refresh_from_db()
    assert job.state == ImportJobState.CHECKED


def test_a_worker_that_dies_while_writing_leaves_nothing_and_the_job_resumes(
    client, editor, monkeypatch
):
    upload(client, actors_csv(600))
    job = ImportJob.objects.get()
    real_write = writing.write

    def dies_half_way(planner, plans):
        real_write(planner, plans[:300])  # half the rows are written, then the worker dies
        raise SystemExit("killed")

    monkeypatch.setattr(writing, "write", dies_half_way)
    client.post(f"/admin/positions/importjob/{job.pk}/confirm/")  # the task backend logs it
    job.refresh_from_db()
    assert job.state == ImportJobState.WRITING
    assert not Actor.objects.exists(), "the write rolled back whole"

    monkeypatch.setattr(writing, "write", real_write)
    assert client.get(job_url(job)).status_code == 200
    job.refresh_from_db()
    assert job.state == ImportJobState.WRITING, "not stalled yet: the run may still be alive"

    ImportJob.objects.filter(pk=job.pk).update(
        stalled_after=timezone.now() - datetime.timedelta(seconds=1)
    )
    client.get(job_url(job))  # the page sees the stalled run and queues the job again
    job.refresh_from_db()
    assert job.state == ImportJobState.DONE
    assert job.attempts == 3  # checking, the run that died, the resumed run
    assert Actor.objects.count() == 600


def test_a_run_that_was_taken_over_stops_at_its_next_report(client, editor, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    upload(client, actors_csv(3))
    job = ImportJob.objects.get()
    old, new = jobs.Run(job.pk), jobs.Run(job.pk)
    old.claim()
    new.claim()
    with pytest.raises(jobs.Superseded):
        old.report(force=True, rows_done=1)
    new.check()
    job.refresh_from_db()
    assert job.state == ImportJobState.CHECKED


def test_the_database_worker_command_runs_a_job(client, editor, settings, monkeypatch):
    # The worker closes connections it finds inside a transaction: the test's own is one.
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }
    upload(client, actors_csv(5))
    job = ImportJob.objects.get()
    assert job.state == ImportJobState.QUEUED, "the request only stored the file"
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    job.refresh_from_db()
    assert job.state == ImportJobState.CHECKED
    client.post(f"/admin/positions/importjob/{job.pk}/confirm/")
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    job.refresh_from_db()
    assert job.state == ImportJobState.DONE
    assert Actor.objects.count() == 5
