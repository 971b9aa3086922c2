"""
Public downloads: streamed CSV and JSON, with the columns documented in
docs/import-format.md (the same columns the import reads, so a download imports back).

- `data/<type>.csv|json`: one file type of the whole data set (public statements and acts
  only; memberships between public actors).
- `data/all.json`: every file type in one JSON object, keyed by type.
- `topics/<topic>/<question>/statements.csv|json`: a question's public statements.
- `topics/<topic>/<question>/board.csv|json`: a question's board, the current position of
  each actor (from `stances.current_positions`), optionally `?as_of=YYYY-MM-DD`.

Every CSV cell goes through `sanitize_cell()` (spreadsheet formula injection); the admin's
CSV and XLSX exports use the same function (`exchange.admin.SafeCSV`/`SafeXLSX`). Links
to the site are on its public address (`public_url()`).
"""

import csv
import datetime
import json

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views.decorators.http import require_safe

from . import stances
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
CHUNK_SIZE = 500

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


def download(file_name, fmt, columns, rows):
    if fmt == "csv":
        content, content_type = csv_lines(columns, rows), "text/csv; charset=utf-8"
    else:
        content, content_type = json_lines(rows), "application/json"
    response = StreamingHttpResponse(content, content_type=content_type)
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
    if fmt not in ("csv", "json"):
        raise Http404("Downloads are CSV or JSON.")


@require_safe
def data_download(request, kind, fmt):
    check_format(fmt)
    if kind not in TYPES:
        raise Http404("No such file type.")
    rows = resource_rows(TYPES[kind], public_queryset(kind), fmt)
    return download(kind, fmt, TYPES[kind].names, rows)


@require_safe
def data_all(request):
    """The whole public data set as one JSON object, in import order, streamed."""

    def content():
        yield "{"
        for index, kind in enumerate(TYPES):
            yield ("," if index else "") + f"\n{json.dumps(kind)}: "
            yield from json_lines(resource_rows(TYPES[kind], public_queryset(kind), "json"))
        yield "}\n"

    response = StreamingHttpResponse(content(), content_type="application/json")
    response["Content-Disposition"] = 'attachment; filename="position-tracker.json"'
    return response


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
