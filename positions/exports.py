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
streamed. A live stream reads inside one transaction: on PostgreSQL, Django declares the
server-side cursor of `.iterator()` WITH HOLD when no transaction is open, which makes the
server materialise the whole result before the first byte (11 s for a million statements).

Every CSV cell goes through `sanitize_cell()` (spreadsheet formula injection); the admin's
CSV and XLSX exports use the same function (`exchange.admin.SafeCSV`/`SafeXLSX`). Links
to the site are on its public address (`public_url()`).
"""

import csv
import datetime
import functools
import json
import zlib

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views.decorators.http import require_safe

from . import bulkdata, stances
from .exchange import (
    TYPES,
    export_queryset,
    export_row,
    export_values,
    sanitize_cell,
    statement_key,
)
from .forms import as_of_error
from .models import Actor, Condition, FormalAct, Membership, Question, Source, Statement

# Rows fetched per query while streaming; prefetches run once per chunk.
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
    response = StreamingHttpResponse(
        in_one_transaction(file_lines(fmt, columns, rows)), content_type=bulkdata.CONTENT_TYPES[fmt]
    )
    response["Content-Disposition"] = f'attachment; filename="{file_name}.{fmt}"'
    return response


def public_queryset(kind):
    """What readers may download of a file type: drafts never leave the tracker."""
    public = {
        "statements": Statement.objects.public,
        "actors": lambda: Actor.objects.public().with_public_parent(),
        "sources": Source.objects.public,
        "conditions": Condition.objects.public,
        "memberships": public_memberships,
        "acts": FormalAct.objects.public,
    }
    return export_queryset(TYPES[kind], public[kind]() if kind in public else None)


def public_memberships():
    """Memberships between actors readers may see, as the Popolo export has them; a party
    that only drafts name is left out of `on_behalf_of` (`resource_rows`)."""
    public = Actor.objects.public()
    return Membership.objects.filter(member__in=public, organization__in=public).annotate(
        has_public_party=Exists(public.filter(pk=OuterRef("on_behalf_of_id")))
    )


def resource_rows(file_type, queryset, fmt):
    """Rows of `file_type` for `queryset`; JSON keeps list columns as arrays."""
    convert = export_values if fmt == "json" else export_row
    for obj in queryset.iterator(chunk_size=CHUNK_SIZE):
        if not getattr(obj, "has_public_parent", True):
            obj.parent = None  # an actor's parent that only drafts name: not public yet
        if not getattr(obj, "has_public_party", True):
            obj.on_behalf_of = None  # likewise a member's party
        yield convert(file_type, obj)


def check_format(fmt):
    if fmt not in FORMATS:
        raise Http404("Downloads are CSV or JSON.")


# --- The whole data set: files on disk, or live ------------------------------------------


def type_content(kind, fmt):
    """`data/<type>.<fmt>`: one file type of the whole public data set."""
    file_type = TYPES[kind]
    return file_lines(fmt, file_type.names, resource_rows(file_type, public_queryset(kind), fmt))


def all_content():
    """`data/all.json`: every file type in one JSON object, in import order."""
    yield "{"
    for index, kind in enumerate(TYPES):
        yield ("," if index else "") + f"\n{json.dumps(kind)}: "
        yield from json_lines(resource_rows(TYPES[kind], public_queryset(kind), "json"))
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
        if block := packer.compress(chunk.encode()):
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
    statements = TYPES["statements"]
    queryset = export_queryset(statements, Statement.objects.public().on(question))
    return download(
        f"{topic_slug}-{slug}-statements",
        fmt,
        statements.names,
        resource_rows(statements, queryset, fmt),
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
