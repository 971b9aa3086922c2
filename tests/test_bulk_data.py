"""
The whole-data-set downloads as files (positions/bulkdata.py): written from one snapshot,
the same bytes as the live stream, served with ETag, ranges and gzip, renamed into place
whole, scheduled once per burst of writes, and linked with their size and "as of" time.
"""

import gzip
import io
import json

import pytest
from django.core.management import call_command
from django.db import connection
from django_tasks_db.models import DBTaskResult

from positions import bulkdata, exports, writes
from positions.exchange import tables
from positions.models import Stance, StatementStatus
from positions.popolo import public_document
from tests.builders import build_record
from tests.factories import StatementFactory

pytestmark = pytest.mark.django_db
NAMES = {
    *(f"{kind}.{fmt}" for kind in exports.TYPES for fmt in ("csv", "json")),
    "acts.csv",
    "acts.json",
    "all.json",
    "popolo.json",
}


def body(response):
    return b"".join(response.streaming_content)


def url_of(name):
    return f"/data/{name}"


@pytest.fixture
def record():
    return build_record()


def live(client, name):
    """The download as computed now, with no file on disk."""
    return body(client.get(url_of(name))) if name != "popolo.json" else None


def test_the_files_hold_the_bytes_the_live_downloads_stream(client, record):
    streamed = {name: live(client, name) for name in NAMES}
    manifest = bulkdata.write_files()
    assert set(manifest["files"]) == NAMES
    folder = bulkdata.directory()
    for name in NAMES:
        written = (folder / name).read_bytes()
        assert gzip.decompress((folder / f"{name}.gz").read_bytes()) == written
        assert manifest["files"][name]["size"] == len(written)
        if streamed[name] is not None:
            assert written == streamed[name], name
    popolo = json.loads((folder / "popolo.json").read_bytes())
    assert popolo == json.loads(json.dumps(public_document()))
    assert not [p for p in folder.iterdir() if p.name.startswith(".tmp-")]


def test_drafts_stay_out_of_the_files(client, record):
    StatementFactory(summary="A draft nobody may read", status=StatementStatus.DRAFT)
    bulkdata.write_files()
    for name in NAMES:
        assert b"A draft nobody may read" not in (bulkdata.directory() / name).read_bytes()


def test_a_written_file_is_served_with_etag_length_and_its_time(client, record):
    bulkdata.write_files()
    response = client.get("/data/statements.csv")
    assert response.status_code == 200
    content = body(response)
    assert content == (bulkdata.directory() / "statements.csv").read_bytes()
    assert response["Content-Length"] == str(len(content))
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["X-Data-As-Of"] == bulkdata.manifest()["as_of"]
    again = client.get("/data/statements.csv", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


def test_a_client_that_accepts_gzip_gets_the_compressed_copy(client, record):
    bulkdata.write_files()
    response = client.get("/data/all.json", HTTP_ACCEPT_ENCODING="gzip, br")
    assert response["Content-Encoding"] == "gzip" and response["Vary"] == "Accept-Encoding"
    document = json.loads(gzip.decompress(body(response)))
    assert set(document) == set(exports.TYPES)
    packed = client.get("/data/actors.json.gz")
    assert packed["Content-Type"] == "application/gzip" and "Content-Encoding" not in packed
    assert packed["Content-Disposition"] == 'attachment; filename="actors.json.gz"'
    assert json.loads(gzip.decompress(body(packed)))


def test_a_range_resumes_a_download(client, record):
    bulkdata.write_files()
    whole = (bulkdata.directory() / "statements.json").read_bytes()
    first = client.get("/data/statements.json", HTTP_RANGE="bytes=0-99")
    assert first.status_code == 206
    assert first["Content-Range"] == f"bytes 0-99/{len(whole)}"
    rest = client.get("/data/statements.json", HTTP_RANGE="bytes=100-", HTTP_IF_RANGE=first["ETag"])
    assert body(first) + body(rest) == whole
    tail = client.get("/data/statements.json", HTTP_RANGE="bytes=-10")
    assert body(tail) == whole[-10:]
    beyond = client.get("/data/statements.json", HTTP_RANGE=f"bytes={len(whole)}-")
    assert beyond.status_code == 416 and beyond["Content-Range"] == f"bytes */{len(whole)}"
    changed = client.get("/data/statements.json", HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"old"')
    assert changed.status_code == 200 and body(changed) == whole  # changed since: all of it
    for junk in ("bytes=a-b", "bytes=1-2,5-6", "lines=1-2", "bytes=9-1"):
        response = client.get("/data/statements.json", HTTP_RANGE=junk)
        assert response.status_code in (200, 416), junk


def test_the_files_are_as_of_their_writing_until_written_again(client, record):
    bulkdata.write_files()
    with writes.writing():
        StatementFactory(
            question=record.ratification, summary="Said after the files", stance=Stance.SUPPORTS
        )
    assert b"Said after the files" not in body(client.get("/data/statements.csv"))
    bulkdata.write_files()
    assert b"Said after the files" in body(client.get("/data/statements.csv"))


def test_a_failed_write_leaves_the_previous_file_whole(client, record, monkeypatch):
    bulkdata.write_files()
    before = (bulkdata.directory() / "statements.csv").read_bytes()

    def broken():
        yield "id,summary\r\n"
        raise RuntimeError("the database went away")

    contents = {"statements.csv": broken}
    monkeypatch.setattr(bulkdata, "file_contents", lambda: contents)
    with pytest.raises(RuntimeError):
        bulkdata.write_files()
    assert (bulkdata.directory() / "statements.csv").read_bytes() == before
    assert not [p for p in bulkdata.directory().iterdir() if p.name.startswith(".tmp-")]


def test_no_file_yet_means_a_live_stream_compressed_on_the_fly_for_gz(client, record):
    plain = client.get("/data/statements.csv")
    assert plain.streaming
    packed = client.get("/data/statements.csv.gz")
    assert packed["Content-Type"] == "application/gzip"
    assert gzip.decompress(body(packed)) == body(plain)
    popolo = json.loads(gzip.decompress(body(client.get("/data/popolo.json.gz"))))
    assert popolo == client.get("/data/popolo.json").json()
    assert client.get("/data/nothing.csv").status_code == 404


def test_a_burst_of_writes_schedules_one_task(record, settings, django_capture_on_commit_callbacks):
    settings.BULK_DATA_DEBOUNCE = 60
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    before = DBTaskResult.objects.count()
    for n in range(3):
        with django_capture_on_commit_callbacks(execute=True), writes.writing():
            StatementFactory(question=record.ratification, summary=f"Burst {n}")
    tasks = DBTaskResult.objects.all()[before:]
    assert len(tasks) == 1
    [task] = tasks
    assert task.task_path == "positions.bulkdata.refresh_files"
    assert task.run_after is not None


def test_the_task_writes_the_files(record, settings, django_capture_on_commit_callbacks):
    settings.BULK_DATA_DEBOUNCE = 0
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    with django_capture_on_commit_callbacks(execute=True), writes.writing():
        StatementFactory(question=record.ratification, summary="Written by the task")
    assert b"Written by the task" in (bulkdata.directory() / "statements.csv").read_bytes()


def test_the_lists_link_the_files_with_size_and_time(client, record):
    assert "as of" not in client.get("/statements/").content.decode()
    bulkdata.write_files()
    client.get("/")  # (the page cache: a new page below, as after any write)
    from django.core.cache import cache

    cache.clear()
    html = client.get("/statements/").content.decode()
    assert 'href="/data/statements.csv.gz"' in html and "; as of <time" in html
    assert 'href="/data/popolo.json.gz"' in client.get("/actors/").content.decode()


def test_the_command_reports_each_file(record):
    out = io.StringIO()
    call_command("write_bulk_data", stdout=out)
    text = out.getvalue()
    assert "statements.csv" in text and "MB/s" in text and f"{len(NAMES)} files" in text


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's cursors")
# serialized_rollback: the flush after it then leaves the content types out, as the later
# transactional tests that restore the serialized database expect (tests/test_caching.py).
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_live_stream_reads_through_a_cursor_without_hold(client, monkeypatch):
    # The JSON files read tuples through a cursor (the CSV files are PostgreSQL's COPY).
    build_record()
    monkeypatch.setattr(tables, "CHUNK_SIZE", 2)  # the cursor stays open after the first rows
    response = client.get("/data/statements.json")
    chunks = iter(response.streaming_content)
    next(chunks)  # the header: the cursor is open now
    next(chunks)
    with connection.cursor() as cursor:
        cursor.execute("SELECT is_holdable FROM pg_cursors")
        holdable = [row[0] for row in cursor.fetchall()]
    list(chunks)
    assert holdable and not any(holdable)
