"""
The question board, `/topics/<topic>/<question>/`: who stands where, filtered, as of a date,
split by group, with the whip count, the map, the chart and the conditions. Thin: positions
come from `stances.py`, the split from `groups.py`, the whip count from `institutions.py`, the
formal acts and the map from `maps.py`. Its queries are pinned in tests/test_views_*.py.
"""

from functools import cached_property

from django.db.models import Exists, OuterRef, Subquery
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone

from . import groups, institutions, maps, stances
from .caching import cached_page
from .charts import chart_rows, stance_chart
from .forms import AsOfForm
from .models import Actor, FormalAct, Question, Source, Stance, Statement
from .views import base_query_string, form_errors, paginate, valid_data

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


def _row_records():
    """
    `{path: (model, attnames)}` of the records a board row shows: of each, its key, the
    fields of BOARD_ROW_FIELDS under its path and (the statement) its source's key, in the
    model's field order, as `Model.from_db` takes them.
    """
    records = {}
    for path, model in (("actor", Actor), ("statement", Statement), ("statement__source", Source)):
        shown = {f.rpartition("__")[2] for f in BOARD_ROW_FIELDS if f.rpartition("__")[0] == path}
        shown |= {"id", "source_id"} if model is Statement else {"id"}
        fields = model._meta.concrete_fields
        records[path] = (model, tuple(f.attname for f in fields if f.attname in shown))
    return records


ROW_RECORDS = _row_records()
# The values a board row is read as (`BoardRow`): its position's and its records'.
BOARD_ROW_VALUES = [
    "actor_id",
    "statement_id",
    "position_stance",
    *(f"{path}__{name}" for path, (_model, names) in ROW_RECORDS.items() for name in names),
]
# What the split's own form and links leave out of the current address: they choose anew.
SPLIT_PARAMS = ("page", "split", "group")


def question_and_siblings(topic_slug, slug, as_of=None):
    """
    The question and the other questions of its topic, in one query; 404 if none. Each
    carries `chart_stamp`, what its chart as of `as_of` is keyed by (`BoardChart`), and
    `topic_has_acts`, whether any formal act on the topic is published (most topics are no
    treaty: their rows' formal status needs no query).
    """
    last_day = stances.last_count_day(as_of)
    acts = FormalAct.objects.published().filter(topic=OuterRef("topic_id"))
    siblings = list(
        Question.objects.select_related("topic", "deciding_body")
        .filter(topic__slug=topic_slug)
        .annotate(chart_stamp=Subquery(last_day.values("pk")[:1]), topic_has_acts=Exists(acts))
        .order_by("display_order", "pk")
    )
    question = next((q for q in siblings if q.slug == slug), None)
    if question is None:
        raise Http404("No such question.")
    others = [other for other in siblings if other.pk != question.pk]
    for other in others:
        other.topic = question.topic
    return question, others


@cached_page
def question_board(request, topic_slug, slug):
    form = AsOfForm(request.GET)
    data = valid_data(form)
    today = timezone.localdate()
    as_of = data.get("as_of")
    question, other_questions = question_and_siblings(topic_slug, slug, as_of)

    positions = stances.current_positions(question, as_of)
    if data.get("kind"):
        positions = positions.filter(position_actor_kind=data["kind"])
    if data.get("country"):
        positions = positions.filter(actor__country=data["country"])
    # The split counts the board before its group filter, so every group stays in the table.
    split = groups.split_board(positions, question, data.get("split"), data.get("group"), as_of)
    link_split_rows(request, split)
    positions = groups.in_group(positions, split, question, as_of)
    only = data.get("stance")
    page, board, counts = board_groups(request, positions, only)
    fold_joint_statements(board)
    cards = [row.statement_id for _stance, rows, _count in board for row in rows]
    conditions = stances.conditions_named(positions, NAMED_BY_SHOWN, as_of, cards)
    show_conditions_on_cards(board, conditions)
    # States' formal acts on the topic and the world map (maps.py): one or two queries.
    states = maps.board_context(request, question, as_of, board, question.topic_has_acts)
    return render(
        request,
        "positions/question.html",
        {
            "question": question,
            "topic": question.topic,
            "form": form,
            "notices": form_errors(form) + split.notices,
            "as_of": as_of or today,
            "is_past": as_of is not None and as_of != today,
            "filtered": bool(data.get("kind") or data.get("country") or split.group),
            "only": only,
            "page_obj": page,
            "query_string": base_query_string(request),
            "every_stance_query": base_query_string(request, drop=("page", "stance")),
            "groups": board,
            "split": split,
            "split_hidden": hidden_params(request, drop=SPLIT_PARAMS),
            "every_group_query": base_query_string(request, drop=("page", "group")),
            "stances": [Stance(s) for s in stances.STANCE_ORDER],
            "board_tally": {s: counts.get(s, 0) for s in stances.STANCE_ORDER},
            "board_composition": stances.composition(positions, split.kind_counts),
            "total": sum(counts.values()),
            "chart": BoardChart(question, as_of),
            "active_filters": active_board_filters(form, data, split),
            "conditions": conditions,
            # Two queries, only for a question that names its deciding body.
            "whip": institutions.whip_count(question, as_of, NAMED_BY_SHOWN),
            "other_questions": other_questions,
            **states,
        },
    )


def board_groups(request, positions, only):
    """
    The board's stance groups, `(page, [(stance, rows, number in it)], {stance: number})`:
    with `only` a stance, every actor holding it page by page; otherwise the first actors of
    each stance, the rest a link away. Each row knows how many rows its deciding statement
    decides (`statement_signers`), for `fold_joint_statements`.
    """
    if only:
        in_stance = stances.with_statement_signers(positions.filter(position_stance=only))
        in_stance = in_stance.values(*BOARD_ROW_VALUES, "statement_signers")
        page = paginate(request, in_stance, BOARD_PAGE_SIZE)
        shown = {only: [BoardRow(values, positions.db) for values in page.object_list]}
        counts = {only: page.paginator.count}
    else:
        page, shown, counts = None, {}, {}
        first = stances.first_of_each_stance(positions, BOARD_GROUP_SIZE, BOARD_ROW_VALUES)
        for values in first:
            counts[values["position_stance"]] = values.pop("stance_total")
            shown.setdefault(values["position_stance"], []).append(BoardRow(values, positions.db))
    board = [
        (Stance(s), shown.get(s, []), counts.get(s, 0))
        for s in stances.STANCE_ORDER
        if not only or s == only
    ]
    return page, board, counts


class BoardRow:
    """
    A board row as its query read it (`BOARD_ROW_VALUES`, and `statement_signers`): plain
    values, which are what its stored piece is keyed by (`key`, fragments.py), and the actor,
    deciding statement and source it shows, made from those values as the query would have
    made them (`Model.from_db`) only when the piece is rendered: a board whose rows are
    stored makes no model instance for them.
    """

    def __init__(self, values, db):
        self.values, self.db = values, db
        self.actor_id = values["actor_id"]
        self.statement_id = values["statement_id"]
        self.position_stance = values["position_stance"]
        self.statement_signers = values["statement_signers"]

    @property
    def key(self):
        return tuple(self.values.values())

    @cached_property
    def actor(self):
        return self._record("actor")

    @cached_property
    def statement(self):
        statement = self._record("statement")
        if statement.source_id is not None:
            statement.source = self._record("statement__source")
        return statement

    def _record(self, path):
        model, names = ROW_RECORDS[path]
        return model.from_db(self.db, names, [self.values[f"{path}__{name}"] for name in names])


def fold_joint_statements(board):
    """
    A joint statement is shown once: the first of its signatories shown (by name) carries
    its card, with `signers`, the signatories shown whose position it decides, and
    `signers_further`, how many more it decides elsewhere in the stance (beyond the first
    shown, or on other pages). The others' rows are `folded` into it. Every row still counts
    in the tally and in its stance's number.
    """
    for _stance, rows, _count in board:
        cards = {}
        for row in rows:
            row.signers, row.folded, row.signers_further = [], False, 0
            card = cards.get(row.statement_id)
            if card is not None:
                card.signers.append(row)
                row.folded = True
            elif row.statement_signers > 1:
                cards[row.statement_id] = row
                row.signers.append(row)
        for card in cards.values():
            card.signers_further = card.statement_signers - len(card.signers)


def link_split_rows(request, split):
    """Each row of the split links to the board filtered to its group (other filters kept)."""
    params = request.GET.copy()
    for key in SPLIT_PARAMS:
        params.pop(key, None)
    params["split"] = split.by
    for row in split.rows:
        params["group"] = row.key
        row.link = f"?{params.urlencode()}#split-heading"


def hidden_params(request, drop):
    """
    The current address's other parameters, for a form that changes only some of them: the
    first value of each, none that could not be a filter's (control characters, 5 kB).
    """
    return [
        (key, value)
        for key in request.GET
        if key not in drop and len(key) <= 50 and key.isprintable()
        for value in request.GET.getlist(key)[:1]
        if len(value) <= 200 and value.isprintable()
    ]


def active_board_filters(form, data, split=None):
    """What the board's collapsed filter form says is applied: 'Actor kind: Company', ..."""
    active = []
    for name in ("kind", "country", "stance"):
        if data.get(name):
            label = dict(form.fields[name].choices).get(data[name], data[name])
            active.append(f"{form.fields[name].label}: {label}")
    if split is not None and split.group is not None:
        active.append(f"{split.label}: {split.group.name}")
    if data.get("as_of"):
        active.append(f"As of {data['as_of']:%-d %b %Y}")
    return active


def show_conditions_on_cards(board, conditions):
    """Each card shown gets `conditions`: those its deciding statement names, with status."""
    by_statement = {}
    for condition in conditions:
        for statement_id in condition.statement_ids:
            by_statement.setdefault(statement_id, []).append(condition)
    for _stance, rows, _count in board:
        for row in rows:
            row.conditions = by_statement.get(row.statement_id, [])


class BoardChart:
    """
    The board's chart and its month table, from the question's `StanceCountDay` rows on or
    before the board's day (those drawn: `charts.chart_rows`), read only when the stored
    piece is missing (a query then): the piece is keyed by `stamp`, the id of the last of
    those rows. A write that changes the question's counts rewrites its rows
    (`stances.refresh_stance_counts`) under new ids, which are never reused, so an id names
    one set of rows and the day it ends on: the rows shown. `drawing` is None when the
    question has no counting statement by then.
    """

    def __init__(self, question, as_of):
        self.question, self.as_of = question, as_of
        self.stamp = (question.pk, question.chart_stamp)

    @cached_property
    def _drawn_rows(self):
        """`(rows, highest count)` of `charts.chart_rows`: the chart's and its table's."""
        if self.question.chart_stamp is None:
            return [], None
        return chart_rows(self.question, self.as_of)

    @cached_property
    def drawing(self):
        return stance_chart(*self._drawn_rows)

    @cached_property
    def month_table(self):
        rows, _highest = self._drawn_rows
        return month_ends(rows)


def month_ends(series):
    """
    The chart's table: the counts at the end of each month in which some position changed,
    `[(day, [count of each stance in STANCE_ORDER])]`, the order of the table's header.
    """
    last_of_month = {}
    for day, counts in series:
        last_of_month[(day.year, day.month)] = (day, [counts[s] for s in stances.STANCE_ORDER])
    return list(last_of_month.values())
