"""
Public pages. Positions come from `stances.py`; readers see only public statements
(published, and retracted ones marked as retracted). Staff may preview drafts.

Each page runs a fixed number of queries whatever the size of the data; the numbers are
pinned in tests/test_views_*.py.
"""

import datetime
import re

from django import forms
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.text import Truncator

from . import editorial, stances
from .caching import cached_page
from .charts import stance_chart
from .filters import ActorFilter, FastSelect, StatementFilter, country_choices
from .models import (
    STANCE_DEFINITIONS,
    Actor,
    ActorKind,
    Condition,
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
TIMELINE_PER_PAGE = 50
LATEST_STATEMENTS = 5
# A board lists the first actors of each stance, and pages through one stance on request.
BOARD_GROUP_SIZE = 25
BOARD_PAGE_SIZE = 100
NAMED_BY_SHOWN = 12
# What a board row shows of its actor, deciding statement and source: loading every field of
# the three took longer than the row's query.
BOARD_ROW_FIELDS = [
    "actor__name",
    "actor__slug",
    "actor__kind",
    "actor__country",
    "statement__date",
    "statement__date_precision",
    "statement__summary",
    "statement__source__title",
    "statement__source__url",
]


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


def visible_actors(request):
    """Readers see public actors (not those only drafts name); staff see every actor."""
    return Actor.objects.all() if is_staff(request) else Actor.objects.public()


def paginate(request, items, per_page):
    """A page of `items`; a page number that is not a number or out of range falls back."""
    return Paginator(items, per_page).get_page(_clean_page_number(request.GET.get("page")))


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


class AsOfForm(forms.Form):
    """The board's own controls: actor filters (safe to chain, see current_positions) and a date."""

    kind = forms.ChoiceField(
        label="Actor kind",
        choices=[("", "Any kind"), *ActorKind.choices],
        required=False,
        widget=FastSelect,
    )
    country = forms.ChoiceField(label="Country", required=False, widget=FastSelect)
    stance = forms.ChoiceField(
        label="Stance",
        choices=[("", "Every stance"), *Stance.choices],
        required=False,
        widget=FastSelect,
    )
    as_of = forms.DateField(
        label="As of",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Show the board as it stood at the end of that day.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [("", "Any country"), *country_choices()]

    def clean_as_of(self):
        day = self.cleaned_data["as_of"]
        error = as_of_error(day) if day else None
        if error:
            raise forms.ValidationError(f"{error} Showing today instead.")
        return day


def as_of_error(day):
    """Why `day` cannot be a board's "as of" date (the board page and its downloads)."""
    if day > timezone.localdate():
        return "That date is in the future."
    if day < datetime.date(1900, 1, 1):
        return "That date is too far back."
    return None


def valid_data(form):
    """Cleaned values of the fields that validated (the others are reported and ignored)."""
    form.errors  # noqa: B018 -- runs validation
    return form.cleaned_data


# --- pages ----------------------------------------------------------------------------------


@cached_page
def home(request):
    page = paginate(request, Topic.objects.order_by("title", "pk"), TOPICS_PER_PAGE)
    topics = list(page.object_list)
    questions = list(Question.objects.filter(topic__in=topics).order_by("display_order", "pk"))
    counts = stances.tallies(questions)
    by_topic = {topic.pk: [] for topic in topics}
    for question in questions:
        question.topic = next(t for t in topics if t.pk == question.topic_id)
        question.tally = counts[question.pk]
        by_topic[question.topic_id].append(question)
    for topic in topics:
        topic.question_list = by_topic[topic.pk]
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
def question_board(request, topic_slug, slug):
    # The question and the other questions of its topic, in one query.
    siblings = list(
        Question.objects.select_related("topic")
        .filter(topic__slug=topic_slug)
        .order_by("display_order", "pk")
    )
    question = next((q for q in siblings if q.slug == slug), None)
    if question is None:
        raise Http404("No such question.")
    form = AsOfForm(request.GET)
    data = valid_data(form)
    today = timezone.localdate()
    as_of = data.get("as_of")

    positions = stances.current_positions(question, as_of).only(*BOARD_ROW_FIELDS)
    if data.get("kind"):
        positions = positions.filter(actor__kind=data["kind"])
    if data.get("country"):
        positions = positions.filter(actor__country=data["country"])
    only = data.get("stance")
    if only:
        # One stance, every actor holding it, page by page.
        page = paginate(request, positions.filter(position_stance=only), BOARD_PAGE_SIZE)
        shown = {only: list(page.object_list)}
        counts = {only: page.paginator.count}
    else:
        # Every stance, the first actors of each: the rest are a link away.
        page, shown, counts = None, {}, {}
        for position in stances.first_of_each_stance(positions, BOARD_GROUP_SIZE):
            shown.setdefault(position.position_stance, []).append(position)
            counts[position.position_stance] = position.stance_total
    groups = [
        (Stance(s), shown.get(s, []), counts.get(s, 0))
        for s in stances.STANCE_ORDER
        if not only or s == only
    ]

    series = stances.stance_counts_over_time(question, as_of)
    other_questions = [other for other in siblings if other.pk != question.pk]
    for other in other_questions:
        other.topic = question.topic
    return render(
        request,
        "positions/question.html",
        {
            "question": question,
            "topic": question.topic,
            "form": form,
            "notices": form_errors(form),
            "as_of": as_of or today,
            "is_past": as_of is not None and as_of != today,
            "filtered": bool(data.get("kind") or data.get("country")),
            "only": only,
            "page_obj": page,
            "query_string": base_query_string(request),
            "every_stance_query": base_query_string(request, drop=("page", "stance")),
            "groups": groups,
            "stances": [Stance(s) for s in stances.STANCE_ORDER],
            "board_tally": {s: counts.get(s, 0) for s in stances.STANCE_ORDER},
            "total": sum(counts.values()),
            "series": series,
            "series_table": month_ends(series),
            "chart": stance_chart(series, as_of or today),
            "conditions": conditions_named(positions),
            "other_questions": other_questions,
        },
    )


def month_ends(series):
    """The chart's table: the counts at the end of each month in which some position changed."""
    last_of_month = {}
    for day, counts in series:
        last_of_month[(day.year, day.month)] = (day, counts)
    return list(last_of_month.values())


def conditions_named(positions):
    """
    The conditions that these positions depend on, each with the actors whose deciding
    statement names it (an actor who has since changed its stance no longer names it), at
    most `NAMED_BY_SHOWN` of them listed. One query: the deciding statements' conditions.
    """
    rows = (
        positions.filter(statement__conditions__isnull=False)
        .order_by("statement__conditions__text", "statement__conditions", "actor__name", "actor")
        .values_list(
            "statement__conditions",
            "statement__conditions__text",
            "statement__conditions__slug",
            "statement__conditions__status",
            "statement__conditions__status_date",
            "actor",
            "actor__name",
            "actor__slug",
        )
    )
    conditions = {}
    for pk, text, slug, status, status_date, actor_id, actor_name, actor_slug in rows:
        if pk not in conditions:
            conditions[pk] = Condition(
                pk=pk, text=text, slug=slug, status=status, status_date=status_date
            )
            conditions[pk].named_by, conditions[pk].named_by_count = [], 0
        condition = conditions[pk]
        condition.named_by_count += 1
        if len(condition.named_by) < NAMED_BY_SHOWN:
            condition.named_by.append(Actor(pk=actor_id, name=actor_name, slug=actor_slug))
    for condition in conditions.values():
        condition.named_by_more = condition.named_by_count - len(condition.named_by)
    return list(conditions.values())


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
        },
    )


@cached_page
def actor_detail(request, slug):
    actors = visible_actors(request).select_related("parent").with_public_parent()
    actor = get_object_or_404(actors, slug=slug)
    if not (actor.has_public_parent or is_staff(request)):
        actor.parent = None  # a body only drafts name: not on its members' pages yet
    members = list(visible_actors(request).filter(parent=actor).order_by("name", "pk"))
    identifiers = list(actor.identifiers.all())
    positions = list(stances.positions_of(actor))
    # The whole timeline on narrow rows: the position changes need every statement before
    # the page, and its length gives the paginator its count.
    outline = list(
        visible_statements(request)
        .by(actor)
        .order_by("-date", "-pk")
        .values_list("pk", "question_id", "date", "stance", "status", named=True)
    )
    page = paginate(request, outline, TIMELINE_PER_PAGE)
    on_page = {row.pk for row in page.object_list}
    timeline = list(
        Statement.objects.filter(pk__in=on_page)
        .select_related("question__topic", "source")
        .order_by("-date", "-pk")
    )
    changes = position_changes(outline)
    for statement in timeline:
        statement.position_change = changes.get(statement.pk)
    return render(
        request,
        "positions/actor.html",
        {
            "actor": actor,
            "members": members,
            "identifiers": identifiers,
            "positions": positions,
            "timeline": timeline,
            "page_obj": page,
            "query_string": base_query_string(request),
        },
    )


def position_changes(outline):
    """
    `{statement id: PositionChange}` for the statements of an actor's timeline that changed
    its position: the rule of `stances.position_history` (published statements in date
    order, through `stances.changes`), for every question at once, from narrow rows.
    tests/test_views_actor.py checks both agree.
    """
    per_question = {}
    for row in sorted(outline, key=lambda r: (r.date, r.pk)):
        if row.status == StatementStatus.PUBLISHED:
            per_question.setdefault(row.question_id, []).append(row)
    return {
        change.statement.pk: change
        for rows in per_question.values()
        for change in stances.changes((row.date, row.stance, row) for row in rows)
    }


@cached_page
def statement_list(request):
    statements = listed_statements(visible_statements(request))
    statement_filter = StatementFilter(request.GET, queryset=statements)
    page = paginate(request, statement_filter.qs, STATEMENTS_PER_PAGE)
    return render(
        request,
        "positions/statement_list.html",
        {
            "filter": statement_filter,
            "page_obj": page,
            "notices": form_errors(statement_filter.form),
            "query_string": base_query_string(request),
            "filtered": any(
                value for key, value in request.GET.items() if key not in {"page", "sort"}
            ),
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
    return render(
        request,
        "positions/condition.html",
        {
            "condition": condition,
            "page_obj": page,
            "statements": statements.order_by("-date", "-pk"),
            "query_string": "",
        },
    )


@cached_page
def corrections(request):
    retracted = listed_statements(
        Statement.objects.filter(status=StatementStatus.RETRACTED).order_by("-retracted_at", "-pk")
    )
    page = paginate(request, retracted, STATEMENTS_PER_PAGE)
    return render(request, "positions/corrections.html", {"page_obj": page, "query_string": ""})


@cached_page
def methodology(request):
    return render(
        request,
        "positions/methodology.html",
        {
            "definitions": [(Stance(s), STANCE_DEFINITIONS[s]) for s in stances.STANCE_ORDER],
            "rules": [rule_html(rule) for rule in position_rules()],
        },
    )


def position_rules():
    """
    The numbered rules from the docstring of `positions/stances.py`, so the methodology page
    says exactly what the code documents, from one place.
    """
    doc = stances.__doc__ or ""
    rules, current = [], None
    for line in doc.splitlines():
        match = re.match(r"^(\d+)\.\s+(.*)$", line.strip())
        if match:
            current = [match.group(2)]
            rules.append(current)
        elif current is not None and line.startswith("   ") and line.strip():
            current.append(line.strip())
        elif current is not None and not line.strip():
            current = None
    return [" ".join(parts) for parts in rules]


def rule_html(rule):
    """A rule as HTML: escaped, with the docstring's *emphasis* kept as emphasis."""
    return mark_safe(re.sub(r"\*([^*]+)\*", r"<em>\1</em>", escape(rule)))  # noqa: S308
