"""
Public pages. Positions come from `stances.py`; readers see only public statements
(published, and retracted ones marked as retracted). Staff may preview drafts.

Each page runs a fixed number of queries whatever the size of the data; the numbers are
pinned in tests/test_views_*.py.
"""

import re
from functools import cached_property

from django.core.paginator import Paginator
from django.db.models import Exists, F, OuterRef, Prefetch
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.text import Truncator

from . import acts, editorial, institutions, stances
from .caching import cached_page
from .filters import ActorFilter, StatementFilter
from .lookups import any_of
from .models import (
    PUBLIC_STATUSES,
    STANCE_DEFINITIONS,
    Actor,
    Condition,
    DatePrecision,
    Question,
    Signatory,
    Source,
    Stance,
    Statement,
    StatementStatus,
    Topic,
)

TOPICS_PER_PAGE = 10
ACTORS_PER_PAGE = 50
STATEMENTS_PER_PAGE = 25
INDEX_PER_PAGE = 50  # the source and condition indexes
TIMELINE_PER_PAGE = 50
LATEST_STATEMENTS = 5
# An actor page lists this many memberships and members; a chamber's full list is paginated.
RELATIONS_SHOWN = 100


# --- helpers ------------------------------------------------------------------------------


def signatories_prefetch():
    """Signatories of listed statements, lead first, with their actors: one extra query."""
    return Prefetch(
        "signatures",
        queryset=Signatory.objects.select_related("actor").order_by("-is_lead", "order", "pk"),
    )


def listed_statements(statements):
    """What every statement listing shows: question, topic, source and signatories."""
    return statements.select_related("question__topic", "source").prefetch_related(
        signatories_prefetch()
    )


def is_staff(request):
    return request.user.is_authenticated and request.user.is_staff


def visible_statements(request):
    """Readers see public statements; staff may also preview drafts."""
    return Statement.objects.all() if is_staff(request) else Statement.objects.public()


def visible_statuses(request):
    """The statuses of the statements `visible_statements` holds."""
    return StatementStatus.values if is_staff(request) else PUBLIC_STATUSES


def visible_actors(request):
    """Readers see public actors (not those only drafts name); staff see every actor."""
    return Actor.objects.all() if is_staff(request) else Actor.objects.public()


def paginate(request, items, per_page, count=None):
    """
    A page of `items`; a page number that is not a number or out of range falls back.
    `count`: how many `items` holds, when it is known without counting them.
    """
    paginator = Paginator(items, per_page)
    if count is not None:
        paginator.count = count
    return paginator.get_page(_clean_page_number(request.GET.get("page")))


def _clean_page_number(raw):
    # get_page() copes with most junk, but a 30-digit number is best cut short: anything
    # that is not a modest number means the first page; too high a number, the last page.
    if raw and re.fullmatch(r"[0-9]{1,18}", raw):
        return min(int(raw), 10**9)
    return 1


def form_errors(form):
    """Readable messages for the fields of a filter form that were ignored."""
    messages = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else "Filter"
        messages.extend(
            f"{label}: {_printable(error)} This filter was ignored." for error in errors
        )
    return messages


def _printable(message):
    # Some messages quote the value sent ("x is not one of the available choices"): keep a
    # 5 kB or NUL-laden value from being echoed whole.
    return Truncator("".join(c for c in str(message) if c.isprintable())).chars(160)


def base_query_string(request, drop=("page",)):
    """The current filters, to carry over to pagination links."""
    params = request.GET.copy()
    for key in drop:
        params.pop(key, None)
    return params.urlencode()


def valid_data(form):
    """Cleaned values of the fields that validated (the others are reported and ignored)."""
    form.errors  # noqa: B018 -- runs validation
    return form.cleaned_data


# --- pages ----------------------------------------------------------------------------------


@cached_page
def home(request):
    questions = Prefetch(
        "questions", Question.objects.order_by("display_order", "pk"), to_attr="question_list"
    )
    topics = Topic.objects.order_by("title", "pk").prefetch_related(questions)
    page = paginate(request, topics, TOPICS_PER_PAGE)
    topics = list(page.object_list)
    questions = [question for topic in topics for question in topic.question_list]
    counts = stances.tallies(questions)
    for question in questions:
        question.tally = counts[question.pk]
    latest = listed_statements(Statement.objects.published().order_by("-date", "-pk"))[
        :LATEST_STATEMENTS
    ]
    return render(
        request,
        "positions/home.html",
        {"page_obj": page, "topics": topics, "latest": latest, "query_string": ""},
    )


@cached_page
def topic_detail(request, slug):
    topic = get_object_or_404(Topic, slug=slug)
    questions = list(topic.questions.order_by("display_order", "pk"))
    counts = stances.tallies(questions)
    for question in questions:
        question.topic = topic
        question.tally = counts[question.pk]
    latest = listed_statements(
        Statement.objects.published().filter(question__topic=topic).order_by("-date", "-pk")
    )[:LATEST_STATEMENTS]
    return render(
        request,
        "positions/topic.html",
        {"topic": topic, "questions": questions, "latest": latest},
    )


@cached_page
def actor_list(request):
    actors = visible_actors(request).order_by("name", "pk")
    actor_filter = ActorFilter(request.GET, queryset=actors)
    page = paginate(request, actor_filter.qs, ACTORS_PER_PAGE)
    return render(
        request,
        "positions/actor_list.html",
        {
            "filter": actor_filter,
            "page_obj": page,
            "notices": form_errors(actor_filter.form) + actor_filter.notices,
            "query_string": base_query_string(request),
            "filtered": actor_filter.active,
        },
    )


@cached_page
def actor_detail(request, slug):
    actors = visible_actors(request).select_related("parent").with_public_parent()
    actor = get_object_or_404(actors.with_page_sections(), slug=slug)
    if not (actor.has_public_parent or is_staff(request)):
        actor.parent = None  # a body only drafts name: not on its members' pages yet
    # Its memberships, its parts and its members today, in one query (if it has any).
    related = []
    if actor.has_relations:
        related = institutions.relations(
            actor, timezone.localdate(), RELATIONS_SHOWN + 1, visible=visible_actors(request)
        )
    more_members = len(related) > RELATIONS_SHOWN
    related = related[:RELATIONS_SHOWN]
    identifiers = list(actor.identifiers.all()) if actor.has_identifiers else []
    positions = list(stances.positions_of(actor))
    # The whole timeline on narrow rows: the position changes need every statement before
    # the page, and its length gives the paginator its count.
    outline = list(
        visible_statements(request)
        .by(actor)
        .order_by("-date", "-pk")
        .values_list("pk", "question_id", "date", "stance", "status", named=True)
    )
    # Its formal acts (few per actor, loaded whole) interleaved with the statements by date.
    formal_acts = acts.timeline_acts(actor, staff=is_staff(request)) if actor.has_acts else []
    page = paginate(request, acts.interleaved(outline, formal_acts), TIMELINE_PER_PAGE)
    changes = stances.changes_by_statement(outline)
    statements = TimelineStatements([row.pk for row in page.object_list if not acts.is_act(row)])
    timeline = [
        row if acts.is_act(row) else statements.entry(row.pk, changes.get(row.pk))
        for row in page.object_list
    ]
    return render(
        request,
        "positions/actor.html",
        {
            "actor": actor,
            "memberships": [r for r in related if r.relation == "membership"],
            "members": [r for r in related if r.relation != "membership"],
            "more_members": more_members,
            # Its members' page: members listed today, or cut off after the parts.
            "has_members": more_members or any(r.relation == "member" for r in related),
            "identifiers": identifiers,
            "positions": positions,
            "timeline": timeline,
            "has_acts": bool(formal_acts),
            "page_obj": page,
            "query_string": base_query_string(request),
        },
    )


class TimelineStatements:
    """
    The statements of a page of an actor's timeline. Each entry's piece is keyed by the update
    stamps of the statement and of the question, topic and source it shows (one narrow
    query), what a key of the records themselves holds (fragments.py); the statements are
    loaded whole, in one query, only when a piece is missing and its body reads one.
    """

    STAMPS = (
        "pk",
        "updated_at",
        "question_id",
        "question__updated_at",
        "question__topic_id",
        "question__topic__updated_at",
        "source_id",
        "source__updated_at",
    )

    def __init__(self, pks):
        self.pks = pks
        stamps = Statement.objects.filter(any_of("pk", pks)).values_list(*self.STAMPS)
        self.stamps = {row[0]: row for row in stamps}

    def entry(self, pk, position_change):
        return TimelineEntry(self, pk, position_change)

    @cached_property
    def records(self):
        found = Statement.objects.filter(any_of("pk", self.pks))
        return {s.pk: s for s in found.select_related("question__topic", "source")}


class TimelineEntry:
    """A statement on an actor's timeline: its piece's key, and its record when rendered."""

    def __init__(self, statements, pk, position_change):
        self.statements, self.pk, self.position_change = statements, pk, position_change
        self.key = statements.stamps[pk]

    @cached_property
    def record(self):
        statement = self.statements.records[self.pk]
        statement.position_change = self.position_change
        return statement


@cached_page
def statement_list(request):
    statements = listed_statements(visible_statements(request))
    statement_filter = StatementFilter(request.GET, queryset=statements)
    count = statement_filter.counted(visible_statuses(request))
    page = paginate(request, statement_filter.qs, STATEMENTS_PER_PAGE, count)
    return render(
        request,
        "positions/statement_list.html",
        {
            "filter": statement_filter,
            "page_obj": page,
            "notices": form_errors(statement_filter.form),
            "query_string": base_query_string(request),
            "filtered": statement_filter.active,
        },
    )


@cached_page
def statement_detail(request, pk):
    statement = get_object_or_404(
        visible_statements(request).select_related("question__topic", "source"), pk=pk
    )
    signatures = list(statement.signatures.select_related("actor").order_by("-is_lead", "order"))
    conditions = list(statement.conditions.all())
    return render(
        request,
        "positions/statement.html",
        {
            "statement": statement,
            "signatures": signatures,
            "conditions": conditions,
            "last_corrected": editorial.last_corrected(statement),
        },
    )


@cached_page
def source_detail(request, pk):
    # A source becomes public with its first public statement: its title alone could reveal
    # work still in draft. Staff may preview.
    sources = Source.objects.all() if is_staff(request) else Source.objects.public()
    source = get_object_or_404(sources, pk=pk)
    statements = listed_statements(visible_statements(request).filter(source=source))
    page = paginate(request, statements.order_by("-date", "-pk"), STATEMENTS_PER_PAGE)
    return render(
        request,
        "positions/source.html",
        {"source": source, "page_obj": page, "statements": page.object_list, "query_string": ""},
    )


@cached_page
def condition_detail(request, slug):
    conditions = Condition.objects.all() if is_staff(request) else Condition.objects.public()
    condition = get_object_or_404(conditions, slug=slug)
    # The ids of every statement naming it, newest first, then the page's statements in full.
    # With a LIMIT, PostgreSQL would rather walk all statements newest first and check each
    # for the condition: tens of thousands of lookups for a condition named by few of them.
    outline = list(
        visible_statements(request)
        .filter(conditions=condition)
        .order_by("-date", "-pk")
        .values_list("pk", flat=True)
    )
    page = paginate(request, outline, STATEMENTS_PER_PAGE)
    statements = listed_statements(Statement.objects.filter(pk__in=page.object_list))
    # Its status over time, newest first, each with its source if readers may see it.
    status_changes = (
        condition.status_changes.select_related("source")
        .annotate(source_public=Exists(Source.objects.public().filter(pk=OuterRef("source_id"))))
        .order_by("-date", "-pk")
    )
    return render(
        request,
        "positions/condition.html",
        {
            "condition": condition,
            "page_obj": page,
            "statements": statements.order_by("-date", "-pk"),
            "status_changes": status_changes,
            "query_string": "",
        },
    )


@cached_page
def condition_list(request):
    """The conditions readers may see (named by a public statement), by their text."""
    page = paginate(request, Condition.objects.public().order_by("text", "pk"), INDEX_PER_PAGE)
    return render(request, "positions/condition_list.html", {"page_obj": page, "query_string": ""})


@cached_page
def source_list(request):
    """The sources readers may see (cited by a public statement), newest first."""
    sources = Source.objects.public().order_by(
        F("published_on").desc(nulls_last=True), "title", "pk"
    )
    page = paginate(request, sources, INDEX_PER_PAGE, Source.objects.public_count())
    return render(request, "positions/source_list.html", {"page_obj": page, "query_string": ""})


@cached_page
def corrections(request):
    page = paginate(request, correction_entries(), STATEMENTS_PER_PAGE)
    describe_corrections(page.object_list)
    return render(request, "positions/corrections.html", {"page_obj": page, "query_string": ""})


def correction_entries():
    """The corrections (`editorial.corrections`), with the question and topic they concern."""
    return editorial.corrections().select_related("question__topic")


def describe_corrections(entries):
    """
    What each correction shows: what changed, the note readers are told, the statement's
    signatories (one query for all) and its date as precisely as the evidence gives it.
    """
    entries = list(entries)
    signatures = {}
    rows = Signatory.objects.filter(statement_id__in={entry.id for entry in entries})
    for signature in rows.select_related("actor").order_by("-is_lead", "order", "pk"):
        signatures.setdefault(signature.statement_id, []).append(signature)
    for entry in entries:
        entry.signatories = signatures.get(entry.id, [])
        entry.changes = editorial.changed_fields(entry)
        entry.stance_change = (
            (Stance(entry.previous_stance).label, Stance(entry.stance).label)
            if "stance" in entry.changes
            else None
        )
        told = entry.is_retraction or entry.correction_note != entry.previous_correction_note
        entry.note = entry.correction_note if told else ""
        entry.date_display = DatePrecision(entry.date_precision).format(entry.date)
    return entries


@cached_page
def methodology(request):
    return render(
        request,
        "positions/methodology.html",
        {
            "definitions": [(Stance(s), STANCE_DEFINITIONS[s]) for s in stances.STANCE_ORDER],
            "rules": stances.RULES,
        },
    )
