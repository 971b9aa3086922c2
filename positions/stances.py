"""
How positions are derived: the one place for the rules. Views, admin, exports and tests call
these functions; none re-implements them. The rules themselves are `RULES` below, which the
public methodology page states word for word.

Current positions are kept in the `Position` table, rewritten from the record by
`refresh_positions` whenever statements or signatures change (see `positions/writes.py`), so a
board of ten thousand actors reads ten thousand narrow rows by index. Positions as of a past
date are ranked from the record on each request, by the same window as the refresh.
"""

import datetime
import itertools
from collections import Counter
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Subquery, Value, Window
from django.db.models.functions import Coalesce, Lag, RowNumber

from .lookups import any_of
from .models import (
    MAX_SCOPED_QUESTIONS,
    Actor,
    Condition,
    ConditionStatus,
    ConditionStatusChange,
    Position,
    Question,
    Signatory,
    Stance,
    StanceCountDay,
    Statement,
    StatementStatus,
)
from .urlprefix import page_url

RULES = (
    "An actor's position on a question is the stance of its latest published statement on "
    'that question dated on or before the day asked about ("as of"). Drafts and retracted '
    "statements never count. The current position counts every published statement on "
    "record (a statement may carry tomorrow's date, for time zones ahead of ours).",
    "A joint statement counts for each of its signatories.",
    "Two statements by the same actor on the same question and the same day: the one "
    "recorded later in the tracker (the higher id) counts. This is deterministic and matches "
    "how editors work: a later entry for the same day is a correction or a clarification.",
    '"As of" applies today\'s record to a past date: a statement published or retracted after '
    "that date still counts (or not) as it does today. The record is the best knowledge we "
    "have about that date; editorial history is kept separately.",
    "No statement means no known position; it is not a stance.",
)

# Rule 3: latest date first, then the latest recorded statement.
LATEST_FIRST = [F("statement__date").desc(), F("statement_id").desc()]

STANCE_ORDER = [Stance.SUPPORTS, Stance.CONDITIONAL, Stance.OPPOSES, Stance.UNDECIDED]


def _counting_signatures(as_of=None):
    """
    Signatures of statements that count (rule 1): those of
    `Statement.objects.published()`, dated on or before `as_of` when given (a test holds the
    two equal). Written as a join rather than `statement__in=<that queryset>` so that, at a
    million statements, the database reads a question's statements from the (question,
    status, date) index and their signatures by index, instead of scanning every signature.
    """
    signatures = Signatory.objects.filter(statement__status=StatementStatus.PUBLISHED)
    if as_of is not None:
        signatures = signatures.filter(statement__date__lte=as_of)
    return signatures


def _deciding(signatures, partition_by):
    """Rules 1 and 3: the latest of `signatures` in each partition."""
    return signatures.annotate(
        position_rank=Window(RowNumber(), partition_by=partition_by, order_by=LATEST_FIRST)
    ).filter(position_rank=1)


def current_positions(question, as_of=None):
    """
    One row per actor with a position on `question`, ordered by actor name, with `actor`,
    `statement` and `statement.source` loaded, the deciding statement's `position_stance`
    and `position_date`, and the actor's `position_actor_name` and `position_actor_kind`:
    `Position` rows for the current positions (read in order from an index, name and kind
    copied), or for a past `as_of` the `Signatory` of each deciding statement (one query
    either way).

    Actor and stance filters may be chained (`.filter(position_actor_kind="company")`,
    `.filter(position_stance="opposes")`): they apply after the latest statement is picked.
    """
    if as_of is None:
        positions = Position.objects.filter(question=question).annotate(
            position_stance=F("stance"),
            position_date=F("date"),
            position_actor_name=F("actor_name"),
            position_actor_kind=F("actor_kind"),
        )
    else:
        deciding = _deciding(
            _counting_signatures(as_of).filter(statement__question=question), [F("actor_id")]
        ).values("pk")
        positions = Signatory.objects.filter(pk__in=deciding).annotate(
            position_stance=F("statement__stance"),
            position_date=F("statement__date"),
            position_actor_name=F("actor__name"),
            position_actor_kind=F("actor__kind"),
        )
    return positions.select_related("actor", "statement", "statement__source").order_by(
        "position_actor_name", "actor_id"
    )


def positions_of_actors(actor_ids, as_of=None, question_ids=None):
    """
    The positions of several actors (a comparison, a page of a chamber's members) as of
    `as_of`, on `question_ids` if given, else on every question: one row per actor and
    question, with `position_stance`, `position_date`, `position_question_id` and the deciding
    statement (its source, question and topic loaded). The rules of `current_positions`: the
    `Position` table today, the same window over the record for a past day. One query.
    """
    if as_of is None:
        positions = Position.objects.filter(actor_id__in=actor_ids).annotate(
            position_stance=F("stance"),
            position_date=F("date"),
            position_question_id=F("question_id"),
        )
        if question_ids is not None:
            positions = positions.filter(question_id__in=question_ids)
    else:
        signatures = _counting_signatures(as_of).filter(actor_id__in=actor_ids)
        if question_ids is not None:
            signatures = signatures.filter(statement__question_id__in=question_ids)
        deciding = _deciding(signatures, [F("statement__question_id"), F("actor_id")])
        positions = Signatory.objects.filter(pk__in=deciding.values("pk")).annotate(
            position_stance=F("statement__stance"),
            position_date=F("statement__date"),
            position_question_id=F("statement__question_id"),
        )
    return positions.select_related("statement__source", "statement__question__topic")


def first_of_each_stance(positions, size, fields):
    """
    The first `size` of `positions` (from `current_positions`) in each stance, by actor name,
    as dicts of the values `fields` (`QuerySet.values`), each with `stance_total`, the number
    in its stance, and `statement_signers`, the number of these positions its deciding
    statement decides (a joint statement's signatories on the board). Two queries: the
    ranking on narrow rows, then the chosen rows' values (an actor holds one position: its id
    names the row).

    Today's ranking is read in order from the (question, stance, name, actor) index alone, so
    that ten thousand actors rank without a sort or a table read, and the signers are counted
    by the statement index for the chosen rows only. A past day's positions are the record
    replayed: its signers are counted in the ranking, which replays the record once.
    """
    by_stance = [F("position_stance")]
    replayed = positions.model is not Position
    ranked = positions.annotate(
        rank_in_stance=Window(
            RowNumber(), partition_by=by_stance, order_by=[F("position_actor_name"), F("actor_id")]
        ),
        stance_total=Window(Count("actor_id"), partition_by=by_stance),
        statement_signers=signers_on_board() if replayed else Value(None, IntegerField()),
    )
    chosen = {
        actor_id: (total, signers)
        for actor_id, total, signers in ranked.filter(rank_in_stance__lte=size).values_list(
            "actor_id", "stance_total", "statement_signers"
        )
    }
    rows = positions.filter(any_of("actor_id", chosen))
    if not replayed:
        rows = rows.annotate(statement_signers=_signers_counted_in(positions))
    rows = list(rows.values(*fields, *([] if replayed else ["statement_signers"])))
    for row in rows:
        row["stance_total"], signers = chosen[row["actor_id"]]
        if replayed:
            row["statement_signers"] = signers
    return rows


# How many of the positions a row's deciding statement decides: more than one for a joint
# statement whose signatories hold their position by it (`with_statement_signers`).
def signers_on_board():
    return Window(Count("pk"), partition_by=[F("statement_id")])


def _signers_counted_in(positions):
    """`signers_on_board` of one row of today's `positions`, by the statement index."""
    return Subquery(
        positions.order_by()
        .filter(statement_id=OuterRef("statement_id"))
        .values("statement_id")
        .annotate(number=Count("pk"))
        .values("number")
    )


def with_statement_signers(positions):
    """`positions` with `statement_signers` on each row (see `first_of_each_stance`)."""
    return positions.annotate(statement_signers=signers_on_board())


def positions_of(actor):
    """
    The actor's current position on every question it has one on, with the deciding
    statement's stance and date and its question and topic (no more: an actor page lists
    hundreds of them): one query.
    """
    return (
        Position.objects.filter(actor=actor)
        .select_related("statement__question__topic")
        .only(
            "statement__stance",
            "statement__date",
            "statement__date_precision",
            "statement__question__title",
            "statement__question__short_label",
            "statement__question__slug",
            "statement__question__topic__title",
            "statement__question__topic__slug",
        )
        .order_by(
            "statement__question__topic__title",
            "statement__question__display_order",
            "statement__question_id",
        )
    )


def tallies(questions, as_of=None):
    """
    `{question_id: Counter({stance: number of actors})}` for several questions in one query:
    each question's tally after its last change on or before `as_of` (today: its last), the
    last point of `stance_counts_over_time`, read from its `StanceCountDay` row by index
    instead of counting its positions (ten thousand on the largest board).
    """
    question_ids = [getattr(q, "pk", q) for q in questions]
    days = last_count_day(as_of)
    rows = Question.objects.filter(pk__in=question_ids).values_list(
        "pk", *(Subquery(days.values(stance)[:1]) for stance in STANCE_ORDER)
    )
    counts = {question_id: Counter() for question_id in question_ids}
    for question_id, *numbers in rows:
        counts[question_id].update(
            {stance: number for stance, number in zip(STANCE_ORDER, numbers, strict=True) if number}
        )
    return counts


def last_count_day(as_of=None):
    """
    A subquery of the outer question's `StanceCountDay` rows, its last change on or before
    `as_of` (today: its last) first: its tally then is that row.
    """
    days = StanceCountDay.objects.filter(question_id=OuterRef("pk"))
    if as_of is not None:
        days = days.filter(day__lte=as_of)
    return days.order_by("-day")


def tally(question, as_of=None):
    return tallies([question], as_of)[question.pk]


@dataclass(frozen=True)
class PositionChange:
    """A point in an actor's position history: from `previous` (None at first) to `stance`."""

    date: datetime.date
    stance: str
    previous: str | None
    statement: Statement

    @property
    def stance_label(self):
        return Stance(self.stance).label

    @property
    def previous_label(self):
        return Stance(self.previous).label if self.previous else None


def changes(stances_in_order):
    """
    Pure rule for history: given `(date, stance, statement)` in the order they count,
    keep the first and every one whose stance differs from the one before.
    """
    result, previous = [], None
    for date, stance, statement in stances_in_order:
        if stance != previous:
            result.append(PositionChange(date, stance, previous, statement))
            previous = stance
    return result


def position_history(actor, question, as_of=None):
    """The dated sequence of the actor's position changes on a question, oldest first."""
    statements = Statement.objects.published()
    if as_of is not None:
        statements = statements.as_of(as_of)
    statements = statements.on(question).by(actor).select_related("source").order_by("date", "pk")
    return changes((s.date, s.stance, s) for s in statements)


def changes_by_statement(rows):
    """
    `{statement id: PositionChange}` for the statements that changed an actor's position, on
    every question at once, from narrow rows (`pk`, `question_id`, `date`, `stance`, `status`
    of the actor's statements, in any order): `position_history`'s rule, for a timeline.
    """
    per_question = {}
    for row in sorted(rows, key=lambda r: (r.date, r.pk)):
        if row.status == StatementStatus.PUBLISHED:
            per_question.setdefault(row.question_id, []).append(row)
    return {
        change.statement.pk: change
        for question_rows in per_question.values()
        for change in changes((row.date, row.stance, row) for row in question_rows)
    }


def stance_counts_over_time(question, as_of=None):
    """
    The tally of a question after each day on which some position changed, oldest first, up
    to `as_of` if given: `[(date, {stance: count})]`, so the last point equals
    `tally(question, as_of)`. One query over the question's `StanceCountDay` rows, which
    `refresh_stance_counts` keeps: a row per day, however many actors and statements.
    """
    rows = StanceCountDay.objects.filter(question=question)
    if as_of is not None:
        rows = rows.filter(day__lte=as_of)
    return [
        (day, dict(zip(STANCE_ORDER, counts, strict=True)))
        for day, *counts in rows.order_by("day").values_list("day", *STANCE_ORDER)
    ]


def refresh_stance_counts(question_ids=None):
    """
    Rewrite the `StanceCountDay` rows of these questions (of every question when None) from
    the record, in the caller's transaction. In SQL, one statement: each counting signature
    moves its actor by +1 to its stance and -1 from the stance the same actor held before it
    on the question (rule 3's order), the moves summed by day and run up over the days of
    each question. Rule 4 makes a past day's tally the run up to that day.
    """
    rows = StanceCountDay.objects.all()
    signatures = _counting_signatures()
    if question_ids is not None and len(set(question_ids)) > MAX_SCOPED_QUESTIONS:
        question_ids = None
    if question_ids is not None:
        question_ids = sorted(set(question_ids))
        rows = rows.filter(question_id__in=question_ids)
        signatures = signatures.filter(statement__question_id__in=question_ids)
    rows.delete()
    if question_ids == []:
        return
    moves = (
        signatures.annotate(
            previous_stance=Window(
                Lag("statement__stance"),
                partition_by=[F("statement__question_id"), F("actor_id")],
                order_by=[F("statement__date").asc(), F("statement_id").asc()],
            ),
            move_question=F("statement__question_id"),
            day=F("statement__date"),
            new_stance=F("statement__stance"),
        )
        .order_by()
        .values("move_question", "day", "new_stance", "previous_stance")
    )
    moves_sql, moves_params = moves.query.sql_with_params()
    run_up = ", ".join(
        "SUM(SUM((CASE WHEN new_stance = %s THEN 1 ELSE 0 END)"
        " - (CASE WHEN previous_stance = %s THEN 1 ELSE 0 END)))"
        " OVER (PARTITION BY move_question ORDER BY day)"
        for _ in STANCE_ORDER
    )
    table = StanceCountDay._meta.db_table
    sql = (
        f"INSERT INTO {table} (question_id, day, {', '.join(STANCE_ORDER)}) "  # noqa: S608
        f"SELECT move_question, day, {run_up} FROM ({moves_sql}) moves "
        "GROUP BY move_question, day"
    )
    params = [*(str(s) for s in STANCE_ORDER for _ in (0, 1)), *moves_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def kind_counts(positions):
    """`[(actor kind, stance, number of actors)]` of these positions. One query."""
    return list(
        positions.order_by()
        .values_list("position_actor_kind", "position_stance")
        .annotate(actors=Count("pk"))
    )


def composition(positions, counted=None):
    """
    `{stance: [(actor kind, number of actors)]}` of these positions (from
    `current_positions`, filters chained), the largest kind first: what a tally is made of,
    so that six signatories of one letter and a government are not read alike. One query,
    none if their `kind_counts` were read already (`counted`: a board split by kind).
    """
    rows = kind_counts(positions) if counted is None else counted
    result = {}
    for kind, stance, actors in sorted(rows, key=lambda row: (-row[2], row[0])):
        result.setdefault(stance, []).append((kind, actors))
    return result


def chunked(items, size=900):
    """Keep `IN (...)` lists under SQLite's parameter limit."""
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass
class ConditionNamed:
    """A condition that deciding statements name, with (the first of) the actors naming it."""

    pk: int
    text: str
    slug: str
    status: str
    status_date: datetime.date | None
    named_by: list = field(default_factory=list)  # `NamedBy` rows, the first few
    named_by_count: int = 0
    statement_ids: set = field(default_factory=set)  # the cards' deciding statements naming it

    @property
    def named_by_more(self):
        return self.named_by_count - len(self.named_by)

    def get_absolute_url(self):
        return page_url("positions:condition", self.slug)

    def get_status_display(self):
        return ConditionStatus(self.status).label


@dataclass(frozen=True)
class NamedBy:
    name: str
    slug: str

    def get_absolute_url(self):
        return page_url("positions:actor", self.slug)


def conditions_named(positions, shown, as_of=None, statement_ids=()):
    """
    The conditions these positions (from `current_positions`) depend on, each with the number
    of actors whose deciding statement names it (an actor who has since changed its stance no
    longer names it), the first `shown` of them by name, and which of the deciding statements
    `statement_ids` (the board's cards) name it (`statement_ids`). Each condition's status is
    its current one, or with `as_of` the one it had that day (`condition_status_as_of`).
    One query, counted and ranked in SQL: it reads `shown` rows per condition and those of
    the cards, not one per actor naming a condition, and the actors of those rows only; of
    today's positions, only those whose deciding statement names one (`names_conditions`).

    Written in SQL around the board's own query, because the ORM reaches a statement's
    conditions only through a join to the statement and joins the actors before ranking:
    on ten thousand positions that read twice the rows (about 2x the time) of a join from
    the positions' statement ids to the statement-condition table, with the actors joined
    for the ranked rows only.
    """
    if positions.model is Position:
        positions = positions.filter(names_conditions=True)  # today's: a fifth of them
    board_sql, board_params = (
        positions.order_by()
        .values("actor_id", "statement_id", "position_actor_name")
        .query.sql_with_params()
    )
    if as_of is None:
        conditions = Condition.objects.annotate(
            shown_status=F("status"), shown_status_date=F("status_date")
        )
    else:
        conditions = Condition.objects.annotate(
            shown_status=Coalesce(
                condition_status_as_of(OuterRef("pk"), as_of, "status"),
                Value(ConditionStatus.OPEN),
            ),
            shown_status_date=condition_status_as_of(OuterRef("pk"), as_of, "date"),
        )
    conditions_sql, conditions_params = (
        conditions.order_by()
        .values("id", "text", "slug", "shown_status", "shown_status_date")
        .query.sql_with_params()
    )
    through = Statement.conditions.through._meta
    statement_column = through.get_field("statement").column
    condition_column = through.get_field("condition").column
    card_ids = sorted(set(statement_ids))
    or_a_card = (
        f" OR ranked.statement_id IN ({', '.join(['%s'] * len(card_ids))})" if card_ids else ""
    )
    actors = Actor._meta.db_table
    # Names from the models and the ORM's own SQL; every value a parameter. The actors are
    # read for the rows kept only, by key: joined before the filter, the largest board hashed
    # all twenty thousand actors for its 78 rows (a third of the query's time).
    sql = (
        "SELECT ranked.condition_id, c.text, c.slug, c.shown_status, c.shown_status_date,"  # noqa: S608
        " ranked.named_count, ranked.named_rank,"
        f" (SELECT a.name FROM {actors} a WHERE a.id = ranked.actor_id),"
        f" (SELECT a.slug FROM {actors} a WHERE a.id = ranked.actor_id), ranked.statement_id"
        f" FROM (SELECT sc.{condition_column} AS condition_id, board.actor_id, board.statement_id,"
        f" ROW_NUMBER() OVER (PARTITION BY sc.{condition_column}"
        " ORDER BY board.position_actor_name, board.actor_id) AS named_rank,"
        f" COUNT(*) OVER (PARTITION BY sc.{condition_column}) AS named_count"
        f" FROM ({board_sql}) board"
        f" JOIN {through.db_table} sc ON sc.{statement_column} = board.statement_id) ranked"
        f" JOIN ({conditions_sql}) c ON c.id = ranked.condition_id"
        f" WHERE ranked.named_rank <= %s{or_a_card}"
        " ORDER BY c.text, ranked.condition_id, ranked.named_rank"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*board_params, *conditions_params, shown, *card_ids])
        rows = cursor.fetchall()
    cards = set(statement_ids)
    # A raw cursor skips the ORM's converters: the field turns SQLite's text back into a date.
    to_date = Condition._meta.get_field("status_date").to_python
    conditions = {}
    for pk, text, slug, status, status_date, count, rank, name, actor_slug, statement_id in rows:
        if pk not in conditions:
            conditions[pk] = ConditionNamed(pk, text, slug, status, to_date(status_date))
        condition = conditions[pk]
        condition.named_by_count = count
        if statement_id in cards:
            condition.statement_ids.add(statement_id)
        if rank <= shown:
            condition.named_by.append(NamedBy(name, actor_slug))
    return list(conditions.values())


def condition_status_as_of(condition, as_of, field="status"):
    """
    A subquery: `field` of the latest status change of `condition` (an `OuterRef`) dated on or
    before `as_of`, NULL when there is none (the condition was open).
    """
    return Subquery(
        ConditionStatusChange.objects.filter(condition=condition).as_of(as_of).values(field)[:1]
    )


# --- The Position table ---------------------------------------------------------------------


@dataclass(frozen=True)
class PositionMove:
    """
    A current position that a refresh changed: its stance and deciding statement before and
    after (None where the actor had, or has, no position on the question).
    """

    question_id: int
    actor_id: int
    stance_before: str | None
    stance_after: str | None
    statement_before: int | None
    statement_after: int | None

    @property
    def stance_changed(self):
        return self.stance_before != self.stance_after


def refresh_positions(actor_ids=None, progress=None, moves=None):
    """
    Rewrite the current positions of these actors on every question (of every actor when
    `actor_ids` is None) from the record, with the same ranking as a past `as_of`. Runs in
    the caller's transaction, or its own. `progress(done, total)` is told after each batch.
    `moves`, a list, receives a `PositionMove` for every position whose stance or deciding
    statement the refresh changed (one more query per batch: the rows before; not for a
    rebuild of every actor).
    """
    with transaction.atomic():
        if actor_ids is None:
            Position.objects.all().delete()
            batches = [None]
        else:
            batches = list(chunked(sorted(set(actor_ids))))
        for done, batch in enumerate(batches, start=1):
            signatures = _counting_signatures()
            before = None  # the batch's positions before, when moves are asked for
            if batch is not None:
                # Two editors saving statements of one actor at once: the second waits here
                # for the first to commit, then ranks what both wrote.
                list(
                    Actor.objects.select_for_update(no_key=True)
                    .filter(pk__in=batch)
                    .order_by("pk")
                    .values_list("pk")
                )
                stored = Position.objects.filter(actor_id__in=batch)
                if moves is not None:
                    before = {
                        (q, a): (st, s)
                        for q, a, st, s in stored.values_list(
                            "question_id", "actor_id", "stance", "statement_id"
                        )
                    }
                stored.delete()
                signatures = signatures.filter(actor_id__in=batch)
            rows = (
                _deciding(signatures, [F("statement__question_id"), F("actor_id")])
                .order_by()
                .values_list(
                    "statement__question_id",
                    "actor_id",
                    "statement_id",
                    "statement__stance",
                    "statement__date",
                    "actor__name",
                    "actor__kind",
                    _names_conditions(),
                )
            )
            rows = rows.iterator(chunk_size=5000)
            while block := list(itertools.islice(rows, 5000)):
                Position.objects.bulk_create(
                    Position(
                        question_id=q,
                        actor_id=a,
                        statement_id=s,
                        stance=st,
                        date=d,
                        actor_name=name,
                        actor_kind=kind,
                        names_conditions=named,
                    )
                    for q, a, s, st, d, name, kind, named in block
                )
                if before is not None:
                    for q, a, s, st, *_ in block:
                        old_stance, old_statement = before.pop((q, a), (None, None))
                        if (old_stance, old_statement) != (st, s):
                            moves.append(PositionMove(q, a, old_stance, st, old_statement, s))
            if before:  # positions that are gone (a retraction, a signature removed)
                moves.extend(
                    PositionMove(q, a, st, None, s, None) for (q, a), (st, s) in before.items()
                )
            if progress:
                progress(done, len(batches))
        if actor_ids is None and connection.vendor == "postgresql":
            # A rewritten table: the planner gets its row counts now, not whenever autovacuum
            # comes by (it may be off), or it plans lookups of a few rows as large scans.
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {Position._meta.db_table}")


def affected_actors(statement_ids):
    """
    The actors whose positions a change to these statements (their fields or their
    signatures) may move: those who sign them now, and those whose position one of them
    decided (a signature removed, a statement moved to another question).
    """
    actor_ids = set()
    for chunk in chunked(sorted(set(statement_ids))):
        actor_ids.update(
            Signatory.objects.filter(statement_id__in=chunk).values_list("actor_id", flat=True)
        )
        actor_ids.update(
            Position.objects.filter(statement_id__in=chunk).values_list("actor_id", flat=True)
        )
    return actor_ids


def _names_conditions():
    """Whether the outer row's statement (`statement_id`) names a condition: a subquery."""
    named = Statement.conditions.through.objects.filter(statement_id=OuterRef("statement_id"))
    return Exists(named)


def refresh_names_conditions(statement_ids=None):
    """
    After the conditions of these statements (of every statement when None) were written:
    whether the positions they decide name a condition (`Position.names_conditions`), one
    query per chunk.
    """
    if statement_ids is None:
        Position.objects.update(names_conditions=_names_conditions())
        return
    for chunk in chunked(sorted(set(statement_ids))):
        Position.objects.filter(statement_id__in=chunk).update(names_conditions=_names_conditions())


def refresh_actor_copies(actor_ids):
    """After actors were written: their positions' copies of their names and kinds (one query)."""
    actor = Actor.objects.filter(pk=OuterRef("actor_id"))
    Position.objects.filter(actor_id__in=actor_ids).update(
        actor_name=Subquery(actor.values("name")[:1]),
        actor_kind=Subquery(actor.values("kind")[:1]),
    )
