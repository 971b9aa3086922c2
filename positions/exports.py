"""
Public downloads: streamed CSV and JSON, with the columns documented in
docs/import-format.md (the same columns the import reads, so a download imports back).

- `data/<type>.csv|json`: one file type of the whole data set (public statements and acts
  only; memberships between public actors).
- `data/all.json`: every file type in one JSON object, keyed by type.
- `topics/<topic>/<question>/statements.csv|json`: a question's public statements.
- `topics/<topic>/<question>/board.csv|json`: a question's board, the current position of
  each actor (from `stances.current_positions`), optionally `?as_of=YYYY-MM-DD`.

The whole-data-set files (`data/...`) are served from disk once the background job has
written them (`bulkdata.py`), and streamed live until then; a question's files are always
streamed. The rows of every type come from `exchange.tables`: on PostgreSQL, a CSV file is
written by the database itself (`COPY ... TO STDOUT`), passed on block by block; elsewhere,
and for JSON, from plain tuples. A live stream reads inside one transaction: on PostgreSQL,
Django declares the server-side cursor of `.iterator()` WITH HOLD when no transaction is
open, which makes the server materialise the whole result before the first byte (11 s for a
million statements); COPY inside the transaction sends rows as it reads them.

Every CSV cell goes through `sanitize_cell()` (spreadsheet formula injection), or its SQL
twin in COPY (`tables.Sanitized`); the admin's CSV and XLSX exports use the same function
(`exchange.admin.SafeCSV`/`SafeXLSX`). Links to the site are on its public address
(`public_url()`).
"""

import csv
import datetime
import functools
import itertools
import json
import zlib

from django.conf import settings
from django.db import transaction
from django.http import Http404, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views.decorators.http import require_safe

from . import bulkdata, stances
from .exchange import TYPES, sanitize_cell, statement_key, tables
from .forms import as_of_error
from .models import Question, Statement

# Board rows fetched per query while streaming.
CHUNK_SIZE = 2000
FORMATS = ("csv", "json")

BOARD_COLUMNS = (
    "as_of",
    "question",
    "actor",
    "actor_name",
    "actor_kind",
    "country",
    "stance",
    "date",
    "statement",
    "summary",
    "source",
    "statement_url",
)

__all__ = ["sanitize_cell"]


def public_url(path):
    """
    `path` on the site's public address (the SITE_URL setting), for links in downloads and
    feeds: they outlive the request, which may have come in by another host name.
    """
    return settings.SITE_URL + path


class _Echo:
    """A file-like object whose write() hands the line back, for csv.writer streaming."""

    def write(self, value):
        return value


def csv_lines(columns, rows):
    """Yield a CSV file line by line: the header, then each row dict, sanitised."""
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    yield writer.writerow(columns)
    for row in rows:
        yield writer.writerow([sanitize_cell(row[column]) for column in columns])


def table_csv(kind, queryset=None):
    """A file type's CSV: written by PostgreSQL's COPY, else from tuples in Python."""
    if tables.uses_copy():
        return bulkdata.blocks(tables.copy_csv(kind, queryset))
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    rows = tables.sanitized_rows(kind, queryset)
    return itertools.chain([writer.writerow(TYPES[kind].names)], map(writer.writerow, rows))


def table_content(kind, fmt, queryset=None):
    if fmt == "csv":
        return table_csv(kind, queryset)
    return json_lines(tables.python_records(kind, queryset))


def json_lines(rows):
    """Yield a JSON array of objects, one object per line, without holding them all."""
    yield "["
    for index, row in enumerate(rows):
        yield ("," if index else "") + "\n" + json.dumps(row, ensure_ascii=False)
    yield "\n]\n"


def in_one_transaction(chunks):
    """Stream `chunks` inside one read transaction (no WITH HOLD cursor; one snapshot)."""
    with transaction.atomic():
        yield from chunks


def file_lines(fmt, columns, rows):
    return csv_lines(columns, rows) if fmt == "csv" else json_lines(rows)


def download(file_name, fmt, columns, rows):
    """A streamed file of row dicts (a board, a topic's status)."""
    return download_chunks(file_name, fmt, file_lines(fmt, columns, rows))


def download_chunks(file_name, fmt, chunks):
    response = StreamingHttpResponse(
        in_one_transaction(chunks), content_type=bulkdata.CONTENT_TYPES[fmt]
    )
    response["Content-Disposition"] = f'attachment; filename="{file_name}.{fmt}"'
    return response


def check_format(fmt):
    if fmt not in FORMATS:
        raise Http404("Downloads are CSV or JSON.")


# --- The whole data set: files on disk, or live ------------------------------------------


def type_content(kind, fmt):
    """`data/<type>.<fmt>`: one file type of the whole public data set."""
    return table_content(kind, fmt)


def all_content():
    """`data/all.json`: every file type in one JSON object, in import order."""
    yield "{"
    for index, kind in enumerate(TYPES):
        yield ("," if index else "") + f"\n{json.dumps(kind)}: "
        yield from json_lines(tables.python_records(kind))
    yield "}\n"


def bulk_file_contents():
    """Every whole-data-set file, by its name under `data/`: what `bulkdata` writes."""
    from . import popolo

    files = {}
    for kind in TYPES:
        for fmt in FORMATS:
            files[f"{kind}.{fmt}"] = functools.partial(type_content, kind, fmt)
    files["all.json"] = all_content
    files["popolo.json"] = popolo.popolo_content
    return files


def gzipped(chunks):
    """Text chunks as a gzip stream (the `.gz` addresses before the files are written)."""
    packer = zlib.compressobj(6, zlib.DEFLATED, 31)  # 31: with the gzip header
    for chunk in chunks:
        if block := packer.compress(chunk if isinstance(chunk, bytes) else chunk.encode()):
            yield block
    yield packer.flush()


def bulk_or_live(request, name, content, download_name, packed=False):
    """The written file if there is one, else the same content streamed live."""
    served = bulkdata.serve(request, name, packed=packed, download_name=download_name)
    if served is not None:
        return served
    fmt = name.rsplit(".", 1)[1]
    chunks = in_one_transaction(content())
    if packed:
        response = StreamingHttpResponse(gzipped(chunks), content_type="application/gzip")
    else:
        response = StreamingHttpResponse(chunks, content_type=bulkdata.CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{download_name}"'
    return response


@require_safe
def data_download(request, kind, fmt, packed=False):
    check_format(fmt)
    if kind not in TYPES:
        raise Http404("No such file type.")
    name = f"{kind}.{fmt}"
    content = bulk_file_contents()[name]
    return bulk_or_live(request, name, content, name + (".gz" if packed else ""), packed)


@require_safe
def data_all(request, packed=False):
    """The whole public data set as one JSON object, in import order."""
    filename = "position-tracker.json" + (".gz" if packed else "")
    return bulk_or_live(request, "all.json", all_content, filename, packed)


def question_or_404(topic_slug, slug):
    return get_object_or_404(
        Question.objects.select_related("topic"), topic__slug=topic_slug, slug=slug
    )


@require_safe
def question_statements_download(request, topic_slug, slug, fmt):
    check_format(fmt)
    question = question_or_404(topic_slug, slug)
    queryset = Statement.objects.public().on(question)
    return download_chunks(
        f"{topic_slug}-{slug}-statements", fmt, table_content("statements", fmt, queryset)
    )


@require_safe
def question_board_download(request, topic_slug, slug, fmt):
    check_format(fmt)
    question = question_or_404(topic_slug, slug)
    value = request.GET.get("as_of", "")
    try:
        as_of = datetime.date.fromisoformat(value) if value else None
    except ValueError:
        return HttpResponseBadRequest(
            "as_of must be a date written YYYY-MM-DD.", content_type="text/plain"
        )
    # The board page's own rules for the date, so the download always matches the page.
    error = as_of_error(as_of) if as_of else None
    if error:
        return HttpResponseBadRequest(error, content_type="text/plain")
    positions = stances.current_positions(question, as_of)
    as_of = as_of or timezone.localdate()
    question_key = f"{question.topic.slug}/{question.slug}"

    def rows():
        for position in positions.iterator(chunk_size=CHUNK_SIZE):
            actor, statement = position.actor, position.statement
            yield {
                "as_of": as_of.isoformat(),
                "question": question_key,
                "actor": actor.slug,
                "actor_name": actor.name,
                "actor_kind": actor.kind,
                "country": actor.country.code or "",
                "stance": statement.stance,
                "date": statement.date.isoformat(),
                "statement": statement_key(statement),
                "summary": statement.summary,
                "source": statement.source.url if statement.source else "",
                "statement_url": public_url(statement.get_absolute_url()),
            }

    return download(f"{topic_slug}-{slug}-board-{as_of.isoformat()}", fmt, BOARD_COLUMNS, rows())
