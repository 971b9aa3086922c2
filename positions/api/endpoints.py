"""
The read-only JSON API, version 1: its operations. Each is thin, like the pages' views: the
records come from the same public querysets (drafts never appear), positions and tallies
from `stances.py`, statement filters and search from `filters.StatementFilter`, and each
operation runs a fixed number of queries whatever the size of the data (pinned in
tests/test_api_query_counts.py).
"""

from collections import Counter

from django.db.models import Count, Exists, F, OuterRef, Prefetch
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django_countries import countries
from ninja import NinjaAPI, Path, Query, Swagger
from ninja.errors import ValidationError

from .. import acts, institutions, stances
from ..exports import public_url
from ..filters import ActorFilter, StatementFilter
from ..forms import as_of_error
from ..models import Actor, Condition, Membership, Question, Source, Statement, Topic
from ..redirects import follows_merged_actors
from ..views import listed_statements
from ..views_board import BOARD_ROW_FIELDS
from . import keyset
from .schemas import (
    SLUG,
    ActorDetailOut,
    ActorPage,
    ActorQuery,
    ActPage,
    ActQuery,
    BoardOut,
    BoardQuery,
    ConditionOut,
    ConditionPage,
    ErrorOut,
    PageQuery,
    QuestionOut,
    QuestionPage,
    QuestionQuery,
    SourceOut,
    SourcePage,
    StatementOut,
    StatementPage,
    StatementQuery,
    StatusQuery,
    StatusTableOut,
    TopicOut,
    TopicPage,
)

api = NinjaAPI(
    title="Position Tracker API",
    version="1",
    description="Read-only: who stands where on public decisions, from dated, sourced "
    "statements. Drafts never appear. Lists are paged by an opaque cursor (`next_cursor`). "
    "See docs/api.md.",
    urls_namespace="api-v1",
    docs=Swagger(settings={"validatorUrl": None}),
)

API_PREFIX = "/api/v1"
LIST = {200: None, 400: ErrorOut, 429: ErrorOut}
ONE = {200: None, 400: ErrorOut, 404: ErrorOut, 429: ErrorOut}
SLUG_PATH = Path(..., max_length=200, pattern=SLUG)
ID_PATH = Path(..., ge=1, le=keyset.MAX_ID)
ALL_COUNTRIES = list(countries)


def responses(shape, ok):
    return {**shape, 200: ok}


@api.exception_handler(ValidationError)
def invalid_parameters(request, exc):
    """A parameter the schema refuses: 400 (not 422), each problem in plain words."""
    errors = []
    for error in exc.errors:
        location = [str(part) for part in error.get("loc", ()) if part not in ("query", "path")]
        errors.append(f"{'.'.join(location[-1:]) or 'request'}: {error.get('msg', 'invalid')}")
    return api.create_response(
        request, {"detail": "Invalid parameters.", "errors": errors}, status=400
    )


def bad_request(detail, errors=()):
    return 400, {"detail": detail, "errors": list(errors)}


def form_errors(form):
    return [f"{name}: {' '.join(messages)}" for name, messages in form.errors.items()]


def next_link(request, cursor):
    if cursor is None:
        return None
    params = request.GET.copy()
    params["cursor"] = cursor
    return f"{request.path}?{params.urlencode()}"


def paged(request, queryset, order, params, to_item):
    """The page envelope: items, next_cursor and next; or a 400 for a bad cursor."""
    try:
        rows, cursor = keyset.page(queryset, order, params.cursor, params.limit)
    except keyset.BadCursor as error:
        return bad_request(str(error))
    return {
        "items": [to_item(row) for row in rows],
        "next_cursor": cursor,
        "next": next_link(request, cursor),
    }


def filter_data(params, names):
    """The query's filters as the form data a FilterSet reads (strings, blanks left out)."""
    data = {}
    for name in names:
        value = getattr(params, name)
        if value is not None:
            data[name] = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return data


# --- Shapes of records ---------------------------------------------------------------------


def tally_of(counts):
    shown = {stance: counts.get(stance, 0) for stance in stances.STANCE_ORDER}
    return {**shown, "total": sum(shown.values())}


def question_ref(question):
    return {
        "id": question.pk,
        "slug": question.slug,
        "topic": question.topic.slug,
        "title": question.title,
        "url": public_url(question.get_absolute_url()),
    }


def question_out(question, counts):
    return {
        **question_ref(question),
        "short_label": question.short_label,
        "description": question.description,
        "display_order": question.display_order,
        "board": f"{API_PREFIX}/topics/{question.topic.slug}/questions/{question.slug}/board/",
        "tally": tally_of(counts),
    }


def actor_ref(actor):
    return {
        "slug": actor.slug,
        "name": actor.name,
        "kind": actor.kind,
        "country": actor.country.code or None,
        "url": public_url(actor.get_absolute_url()),
    }


def actor_out(actor):
    parent = actor.parent if getattr(actor, "has_public_parent", False) else None
    return {
        **actor_ref(actor),
        "id": actor.pk,
        "parent": parent.slug if parent else None,
        "aliases": actor.alias_list,
        "description": actor.description,
        "website": actor.website,
        "identifiers": [
            {"scheme": i.scheme, "identifier": i.identifier, "url": i.url or None}
            for i in actor.identifiers.all()
        ],
        "memberships": [membership_out(m) for m in actor.public_memberships],
    }


def membership_out(membership):
    party = membership.on_behalf_of if membership.has_public_party else None
    return {
        "organization": actor_ref(membership.organization),
        "role": membership.role,
        "on_behalf_of": actor_ref(party) if party else None,
        "area": membership.area or None,
        "start_date": membership.start_date,
        "end_date": membership.end_date,
    }


def source_ref(source):
    if source is None:
        return None
    return {"id": source.pk, "title": source.title, "url": source.url}


def source_out(source):
    return {
        "id": source.pk,
        "title": source.title,
        "publisher": source.publisher,
        "kind": source.kind,
        "url": source.url,
        "archive_url": source.archive_url,
        "published_on": source.published_on,
        "page": public_url(source.get_absolute_url()),
    }


def condition_out(condition):
    return {
        "id": condition.pk,
        "slug": condition.slug,
        "text": condition.text,
        "description": condition.description,
        "status": condition.status,
        "status_date": condition.status_date,
        "status_note": condition.status_note,
        "url": public_url(condition.get_absolute_url()),
    }


def statement_out(statement):
    return {
        "id": statement.pk,
        "url": public_url(statement.get_absolute_url()),
        "date": statement.date,
        "date_precision": statement.date_precision,
        "stance": statement.stance,
        "status": statement.status,
        "summary": statement.summary,
        "quote": statement.quote,
        "quote_locator": statement.quote_locator,
        "attribution": statement.attribution,
        "correction_note": statement.correction_note,
        "question": question_ref(statement.question),
        "source": source_ref(statement.source),
        "signatories": [
            {"actor": s.actor.slug, "name": s.actor.name, "is_lead": s.is_lead}
            for s in statement.signatures.all()
        ],
        "conditions": [{"slug": c.slug, "text": c.text} for c in statement.conditions.all()],
    }


def act_ref(act):
    if act is None:
        return None
    return {"id": act.pk, "kind": act.kind, "date": act.date, "text": act.text}


def act_out(act):
    return {
        **act_ref(act),
        "actor": actor_ref(act.actor),
        "topic": act.topic.slug,
        "place": act.place,
        "depositary_reference": act.depositary_reference,
        "regarding": act.regarding_id,
        "source": source_ref(act.source),
        "status": act.status,
        "correction_note": act.correction_note,
    }


def participant_out(row, actor):
    return {
        "actor": actor_ref(actor),
        "status": row.status,
        "signature": act_ref(row.signature),
        "consent": act_ref(row.consent),
        "entry_into_force": act_ref(row.entry_into_force),
        "denunciation": act_ref(row.denunciation),
        "reservations": [act_ref(a) for a in row.reservations],
        "declarations": [act_ref(a) for a in row.declarations],
        "withdrawn_reservations": [act_ref(a) for a in row.withdrawn_reservations],
        "objections": [act_ref(a) for a in row.objections],
    }


def whip_count_out(whip):
    if whip is None:
        return None

    def group(g):
        return {"name": g.name, "slug": g.slug, "counts": dict(g.counts), "total": g.total}

    return {
        "day": whip.day,
        "rule": whip.rule,
        "seats": whip.seats,
        "needed": whip.needed,
        "members": whip.members,
        "counts": dict(whip.counts),
        "with_conditions": whip.with_conditions,
        "summary": whip.summary,
        "verdict": whip.verdict,
        "by_party": [group(g) for g in whip.by_party],
        "conditions": [
            {
                "slug": c.slug,
                "text": c.text,
                "status": c.status,
                "status_date": c.status_date,
                "named_by": c.named_by_count,
            }
            for c in whip.conditions
        ],
    }


def position_out(position):
    statement = position.statement
    return {
        "actor": actor_ref(position.actor),
        "stance": position.position_stance,
        "date": position.position_date,
        "statement": statement.pk,
        "statement_url": public_url(statement.get_absolute_url()),
        "source": source_ref(statement.source),
    }


# --- Topics and questions ------------------------------------------------------------------


def questions_in_order():
    return Question.objects.select_related("topic").order_by("display_order", "pk")


@api.get("/topics/", response=responses(LIST, TopicPage), tags=["topics"])
def topics(request, params: Query[PageQuery]):
    """Every topic, with its questions (by id)."""
    topics = Topic.objects.prefetch_related(
        Prefetch("questions", questions_in_order(), to_attr="question_list")
    )

    def item(topic):
        return {
            "id": topic.pk,
            "slug": topic.slug,
            "title": topic.title,
            "summary": topic.summary,
            "url": public_url(topic.get_absolute_url()),
            "questions": [question_ref(q) for q in topic.question_list],
        }

    return paged(request, topics, keyset.BY_ID, params, item)


@api.get("/topics/{slug}/", response=responses(ONE, TopicOut), tags=["topics"])
def topic(request, slug: str = SLUG_PATH):
    topic = get_object_or_404(Topic, slug=slug)
    questions = list(questions_in_order().filter(topic=topic))
    return {
        "id": topic.pk,
        "slug": topic.slug,
        "title": topic.title,
        "summary": topic.summary,
        "url": public_url(topic.get_absolute_url()),
        "questions": [question_ref(q) for q in questions],
    }


@api.get("/questions/", response=responses(LIST, QuestionPage), tags=["questions"])
def questions(request, params: Query[QuestionQuery]):
    """Every question (by id), each with its current tally."""
    queryset = Question.objects.select_related("topic")
    if params.topic:
        queryset = queryset.filter(topic__slug=params.topic)
    try:
        rows, cursor = keyset.page(queryset, keyset.BY_ID, params.cursor, params.limit)
    except keyset.BadCursor as error:
        return bad_request(str(error))
    counts = stances.tallies(rows)
    return {
        "items": [question_out(q, counts[q.pk]) for q in rows],
        "next_cursor": cursor,
        "next": next_link(request, cursor),
    }


def question_or_404(topic_slug, slug):
    return get_object_or_404(
        Question.objects.select_related("topic"), topic__slug=topic_slug, slug=slug
    )


@api.get(
    "/topics/{topic_slug}/questions/{slug}/",
    response=responses(ONE, QuestionOut),
    tags=["questions"],
)
def question(request, topic_slug: str = SLUG_PATH, slug: str = SLUG_PATH):
    question = question_or_404(topic_slug, slug)
    return question_out(question, stances.tally(question))


@api.get(
    "/topics/{topic_slug}/questions/{slug}/board/",
    response=responses(ONE, BoardOut),
    tags=["questions"],
)
def board(request, params: Query[BoardQuery], topic_slug: str = SLUG_PATH, slug: str = SLUG_PATH):
    """
    The question's board: each actor's position as of a date (default today), by actor name,
    with the tally; the same as the board page for the same controls (`stances.py`).
    """
    question = question_or_404(topic_slug, slug)
    as_of = params.as_of
    error = as_of_error(as_of) if as_of else None
    if error:
        return bad_request(f"as_of: {error}")
    positions = stances.current_positions(question, as_of).only(*BOARD_ROW_FIELDS)
    if params.kind:
        positions = positions.filter(actor__kind=params.kind)
    if params.country:
        positions = positions.filter(actor__country=params.country)
    if params.kind or params.country:
        counts = Counter(
            dict(
                positions.order_by()
                .values_list("position_stance")
                .annotate(actors=Count("pk"))
                .values_list("position_stance", "actors")
            )
        )
    else:
        counts = stances.tally(question, as_of)
    if params.stance:
        positions = positions.filter(position_stance=params.stance)
    try:
        rows, cursor = keyset.page(positions, keyset.BY_ACTOR_NAME, params.cursor, params.limit)
    except keyset.BadCursor as error:
        return bad_request(str(error))
    return {
        "question": question_ref(question),
        "as_of": as_of or timezone.localdate(),
        "tally": tally_of(counts),
        "items": [position_out(p) for p in rows],
        "next_cursor": cursor,
        "next": next_link(request, cursor),
        "whip_count": whip_count_out(institutions.whip_count(question, as_of)),
    }


# --- Actors --------------------------------------------------------------------------------


class ApiActorFilter(ActorFilter):
    """The actor list's filters; any ISO country is accepted (no query for those in use)."""

    def country_options(self):
        return ALL_COUNTRIES


def public_memberships():
    """Memberships of public organisations, oldest first; the party only if it is public."""
    public = Actor.objects.public()
    return (
        Membership.objects.filter(organization__in=public)
        .select_related("organization", "on_behalf_of")
        .annotate(has_public_party=Exists(public.filter(pk=OuterRef("on_behalf_of_id"))))
        .order_by(F("start_date").asc(nulls_first=True), "pk")
    )


def public_actors():
    return (
        Actor.objects.public()
        .select_related("parent")
        .with_public_parent()
        .prefetch_related(
            "identifiers",
            Prefetch("memberships", public_memberships(), to_attr="public_memberships"),
        )
    )


@api.get("/actors/", response=responses(LIST, ActorPage), tags=["actors"])
def actors(request, params: Query[ActorQuery]):
    """Public actors (by id), with their identifiers; the actor list's filters."""
    data = filter_data(params, ["q", "kind", "country", "question", "stance"])
    actor_filter = ApiActorFilter(data, queryset=public_actors())
    if not actor_filter.form.is_valid():
        return bad_request("Invalid filters.", form_errors(actor_filter.form))
    return paged(request, actor_filter.qs, keyset.BY_ID, params, actor_out)


@api.get("/actors/{slug}/", response=responses(ONE, ActorDetailOut), tags=["actors"])
@follows_merged_actors
def actor(request, slug: str = SLUG_PATH):
    """A public actor, with identifiers and its current position on every question. The slug of
    an actor merged into another answers 301 to the kept actor's address."""
    actor = get_object_or_404(public_actors(), slug=slug)
    positions = [
        {
            "question": question_ref(p.statement.question),
            "stance": p.statement.stance,
            "date": p.statement.date,
            "statement": p.statement_id,
        }
        for p in stances.positions_of(actor)
    ]
    return {**actor_out(actor), "positions": positions}


# --- Statements, sources, conditions -------------------------------------------------------


class ApiStatementFilter(StatementFilter):
    """The statement list's filters and search; any ISO country is accepted."""

    def country_options(self):
        return ALL_COUNTRIES


STATEMENT_FILTERS = [
    "q",
    "question",
    "stance",
    "kind",
    "country",
    "source_kind",
    "date_from",
    "date_to",
    "actor",
]


def public_statements():
    return listed_statements(Statement.objects.public()).prefetch_related("conditions")


@api.get("/statements/", response=responses(LIST, StatementPage), tags=["statements"])
def statements(request, params: Query[StatementQuery]):
    """
    Public statements (published, and retracted ones marked so), newest first (date, then
    id): the statement list page's filters and search, with the same results.
    """
    statement_filter = ApiStatementFilter(
        filter_data(params, STATEMENT_FILTERS), queryset=public_statements()
    )
    if not statement_filter.form.is_valid():
        return bad_request("Invalid filters.", form_errors(statement_filter.form))
    return paged(request, statement_filter.qs, keyset.NEWEST_FIRST, params, statement_out)


@api.get("/statements/{pk}/", response=responses(ONE, StatementOut), tags=["statements"])
def statement(request, pk: int = ID_PATH):
    return statement_out(get_object_or_404(public_statements(), pk=pk))


@api.get("/sources/", response=responses(LIST, SourcePage), tags=["sources"])
def sources(request, params: Query[PageQuery]):
    """Sources a public statement cites (by id)."""
    return paged(request, Source.objects.public(), keyset.BY_ID, params, source_out)


@api.get("/sources/{pk}/", response=responses(ONE, SourceOut), tags=["sources"])
def source(request, pk: int = ID_PATH):
    return source_out(get_object_or_404(Source.objects.public(), pk=pk))


@api.get("/conditions/", response=responses(LIST, ConditionPage), tags=["conditions"])
def conditions(request, params: Query[PageQuery]):
    """Conditions a public statement names (by id)."""
    return paged(request, Condition.objects.public(), keyset.BY_ID, params, condition_out)


@api.get("/conditions/{slug}/", response=responses(ONE, ConditionOut), tags=["conditions"])
def condition(request, slug: str = SLUG_PATH):
    return condition_out(get_object_or_404(Condition.objects.public(), slug=slug))


# --- Formal acts ---------------------------------------------------------------------------


@api.get("/acts/", response=responses(LIST, ActPage), tags=["acts"])
def formal_acts(request, params: Query[ActQuery]):
    """
    Public formal acts (published, and retracted ones marked so), by id: signatures,
    ratifications, reservations ... (see docs/api.md: Popolo has no shape for treaty acts).
    """
    queryset = acts.public_acts().select_related("regarding")
    if params.topic:
        queryset = queryset.filter(topic__slug=params.topic)
    if params.actor:
        queryset = queryset.filter(actor__slug=params.actor)
    if params.kind:
        queryset = queryset.filter(kind=params.kind)
    return paged(request, queryset, keyset.BY_ID, params, act_out)


@api.get("/topics/{slug}/status/", response=responses(ONE, StatusTableOut), tags=["acts"])
def status_table(request, params: Query[StatusQuery], slug: str = SLUG_PATH):
    """
    The topic's status table as of a date (default: today), as on its status page: one row
    per participant, the totals and the entry-into-force rule's progress.
    """
    topic = get_object_or_404(Topic, slug=slug)
    error = as_of_error(params.as_of) if params.as_of else None
    if error:
        return bad_request(f"as_of: {error}")
    as_of = params.as_of or timezone.localdate()
    published = list(acts.published_acts(topic, params.as_of))
    participants = acts.participants_of(published)
    actors = {act.actor_id: act.actor for act in published}
    totals = acts.totals(participants)
    rule = acts.entry_into_force(topic, participants, as_of)
    return {
        "topic": topic.slug,
        "as_of": as_of,
        "totals": {
            "signatures": totals.signatures,
            "consents": totals.consents,
            "parties": totals.parties,
            "withdrawn": totals.withdrawn,
            "reservations": totals.reservations,
            "sentence": totals.sentence,
        },
        "entry_into_force": None
        if rule is None
        else {
            "count": rule.count,
            "days": rule.days,
            "consents": rule.consents,
            "date": rule.date,
            "in_force": rule.in_force,
        },
        "participants": [participant_out(row, actors[row.actor_id]) for row in participants],
    }
