"""
The whole-data-set downloads as files on disk: `/data/<type>.csv|json`, `/data/acts.csv|json`,
`/data/all.json` and `/data/popolo.json`, each also gzipped (`.gz`).

Computing a million statements' download per request is slow, and under a worker timeout
a reader could not get the whole file at all. So the write path schedules a background task
(django-tasks, `manage.py db_worker`) once per quiet period after a write (`schedule`,
debounced by BULK_DATA_DEBOUNCE seconds): it writes every file from one consistent read of
the database (a REPEATABLE READ snapshot on PostgreSQL, one read transaction on SQLite),
each to a temporary name, then renames it into place, so a reader never sees half a file.
`manage.py write_bulk_data` does the same at once (for cron, or after a restore).

The files are served by `serve` (the URLs stay the same): ETag (the file's SHA-256),
Last-Modified, conditional GET, single byte ranges (resumed downloads), and the gzipped copy
to clients that accept it. They are "as of" the time they were written, which the pages
show beside each link with the size; until the first files exist (a fresh install, no
worker yet), the same URLs stream the data live, as they always did.

In production a proxy may serve BULK_DATA_DIR itself (docs/operations.md); the manifest
(`manifest.json`) says what each file is.
"""

import contextlib
import datetime
import gzip
import hashlib
import json
import os
import time
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from django_tasks import task

MANIFEST = "manifest.json"
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json"}
SCHEDULED_KEY = "positions:bulk-data-scheduled"
READ_BLOCK = 256 * 1024


def directory():
    return Path(settings.BULK_DATA_DIR)


def file_contents():
    """Name -> a function returning the file's text in chunks (the downloads' own code)."""
    from . import exports

    return exports.bulk_file_contents()


# --- Writing -------------------------------------------------------------------------------


@contextlib.contextmanager
def snapshot():
    """One consistent read for every file, so that they agree with each other."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # Must come first in the transaction; a caller's transaction has its own.
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield


def blocks(chunks):
    """Text or bytes chunks (or COPY's memoryviews) as blocks of about READ_BLOCK bytes
    (fewer, larger writes)."""
    buffer, buffered = [], 0
    for chunk in chunks:
        data = chunk.encode() if isinstance(chunk, str) else chunk
        buffer.append(data)
        buffered += len(data)
        if buffered >= READ_BLOCK:
            yield b"".join(buffer)
            buffer, buffered = [], 0
    yield b"".join(buffer)


def _write_one(target, chunks):
    """Write `chunks` to `target` and `target.gz` under temporary names, then rename both."""
    digest, size = hashlib.sha256(), 0
    plain_name = target.with_name(f".tmp-{os.getpid()}-{target.name}")
    packed_name = target.with_name(f".tmp-{os.getpid()}-{target.name}.gz")
    try:
        with (
            open(plain_name, "wb") as plain,
            open(packed_name, "wb") as packed,
            gzip.GzipFile(fileobj=packed, mode="wb", compresslevel=6, mtime=0) as packer,
        ):
            for block in blocks(chunks):
                plain.write(block)
                packer.write(block)
                digest.update(block)
                size += len(block)
        os.replace(plain_name, target)
        os.replace(packed_name, f"{target}.gz")
    except BaseException:
        plain_name.unlink(missing_ok=True)
        packed_name.unlink(missing_ok=True)
        raise
    return {
        "size": size,
        "gzip_size": os.path.getsize(f"{target}.gz"),
        "sha256": digest.hexdigest(),
    }


def write_files(progress=None):
    """
    Write every bulk file from one snapshot, then the manifest; returns the manifest.
    `progress(name, entry, seconds)` is called after each file (the command prints it).
    """
    folder = directory()
    folder.mkdir(parents=True, exist_ok=True)
    started = timezone.now()
    files = {}
    with snapshot():
        for name, content in file_contents().items():
            began = time.perf_counter()
            entry = _write_one(folder / name, content())
            entry["seconds"] = round(time.perf_counter() - began, 3)
            files[name] = entry
            if progress:
                progress(name, entry, entry["seconds"])
    manifest = {"as_of": started.isoformat(), "files": files}
    temporary = folder / f".tmp-{MANIFEST}"
    temporary.write_text(json.dumps(manifest, indent=1))
    os.replace(temporary, folder / MANIFEST)
    return manifest


@task()
def refresh_files():
    """The background task: every bulk file again, from the database as it is now."""
    write_files()


def schedule():
    """
    After a committed write: have the files written again once the writes have paused.
    The first write of a quiet period enqueues one task to run BULK_DATA_DEBOUNCE seconds
    later; writes until then join it (the key lives as long as the wait), and the task reads
    the database when it runs, after them.
    """
    delay = settings.BULK_DATA_DEBOUNCE
    if delay < 0:  # switched off: only `write_bulk_data` writes them
        return
    if not delay:
        refresh_files.enqueue()
    elif cache.add(SCHEDULED_KEY, True, timeout=delay):
        run_after = timezone.now() + datetime.timedelta(seconds=delay)
        refresh_files.using(run_after=run_after).enqueue()


# --- Reading ---------------------------------------------------------------------------------


def manifest():
    """The manifest of the files on disk, or None before the first were written."""
    try:
        path = directory() / MANIFEST
        stamp = path.stat().st_mtime_ns
    except OSError:
        return None
    cached = _manifest_cache.get(path)
    if cached is None or cached[0] != stamp:
        try:
            cached = (stamp, json.loads(path.read_text()))
        except (OSError, ValueError):
            return None
        _manifest_cache[path] = cached
    return cached[1]


_manifest_cache = {}


def info(name):
    """What a page says beside a link: size and "as of", or None if the file is not written."""
    found = manifest()
    entry = found and found["files"].get(name)
    if not entry:
        return None
    return {
        "size": entry["size"],
        "gzip_size": entry["gzip_size"],
        "as_of": datetime.datetime.fromisoformat(found["as_of"]),
    }


def _range(header, size):
    """(start, end) of a single `bytes=` range, None for the whole file, False if unsatisfiable."""
    if not header or not header.startswith("bytes=") or "," in header:
        return None
    first, _, last = header[6:].strip().partition("-")
    try:
        if first == "":
            length = int(last)
            if length <= 0:
                return False
            return max(size - length, 0), size - 1
        start = int(first)
        end = int(last) if last else size - 1
    except ValueError:
        return None
    if start >= size or end < start:
        return False
    return start, min(end, size - 1)


def _read(path, start, length):
    with open(path, "rb") as file:
        file.seek(start)
        while length > 0:
            block = file.read(min(READ_BLOCK, length))
            if not block:
                return
            length -= len(block)
            yield block


def serve(request, name, *, packed=False, download_name=None):
    """
    The file `name` as written (its `.gz` if `packed`), or None if there is none yet. A
    client that accepts gzip gets the compressed copy of an uncompressed name, transparently.
    """
    found = manifest()
    entry = found and found["files"].get(name)
    if not entry:
        return None
    accepts_gzip = "gzip" in request.META.get("HTTP_ACCEPT_ENCODING", "")
    gzipped = packed or accepts_gzip
    path = directory() / (f"{name}.gz" if gzipped else name)
    try:
        size = path.stat().st_size
    except OSError:
        return None
    etag = f'"{entry["sha256"][:32]}{"-gz" if gzipped else ""}"'
    modified = datetime.datetime.fromisoformat(found["as_of"]).timestamp()
    not_modified = get_conditional_response(request, etag=etag, last_modified=int(modified))
    if not_modified is not None:
        return not_modified

    wanted = _range(request.META.get("HTTP_RANGE"), size)
    if_range = request.META.get("HTTP_IF_RANGE")
    if if_range and if_range != etag:
        wanted = None  # the file changed since the client's first part: send it whole
    if wanted is False:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    start, end = wanted or (0, size - 1)
    response = StreamingHttpResponse(_read(path, start, end - start + 1))
    if wanted:
        response.status_code = 206
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Content-Length"] = str(end - start + 1)
    response["Accept-Ranges"] = "bytes"
    response["ETag"] = etag
    response["Last-Modified"] = http_date(modified)
    response["Cache-Control"] = "no-cache"
    response["X-Data-As-Of"] = found["as_of"]
    extension = name.rsplit(".", 1)[-1]
    if packed:
        response["Content-Type"] = "application/gzip"
    else:
        response["Content-Type"] = CONTENT_TYPES[extension]
        response["Vary"] = "Accept-Encoding"
        if gzipped:
            response["Content-Encoding"] = "gzip"
    filename = download_name or (f"{name}.gz" if packed else name)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
