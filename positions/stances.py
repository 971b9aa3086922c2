"""
How positions are derived: the one place for the rules. Views, admin, exports and tests call
these functions; none re-implements them.

The rules (also on the public methodology page):

1. An actor's position on a question is the stance of its latest *published* statement on
   that question dated on or before the day asked about ("as of", default today). Drafts
   and retracted statements never count.
2. A joint statement counts for each of its signatories.
3. Two statements by the same actor on the same question and the same day: the one
   recorded later in the tracker (the higher id) counts. This is deterministic and matches
   how editors work: a later entry for the same day is a correction or a clarification.
4. "As of" applies today's record to a past date: a statement published or retracted after
   that date still counts (or not) as it does today. The record is the best knowledge we
   have about that date; editorial history is kept separately.
5. No statement means no known position; it is not a stance.
"""

import datetime
from collections import Counter
from dataclasses import dataclass

from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from .models import Signatory, Stance, Statement, StatementStatus

# Rule 3: latest date first, then the latest recorded statement.
LATEST_FIRST = [F("statement__date").desc(), F("statement_id").desc()]

STANCE_ORDER = [Stance.SUPPORTS, Stance.CONDITIONAL, Stance.OPPOSES, Stance.UNDECIDED]


def _counting_signatures(as_of=None):
    """
    Signatures of statements that count (rule 1) as of a date: those of
    `Statement.objects.published().as_of(as_of)` (a test holds the two equal). Written as a
    join rather than `statement__in=<that queryset>` so that, at a million statements, the
    database reads a question's statements from the (question, status, date) index and
    their signatures by index, instead of scanning every signature.
    """
    as_of = as_of or timezone.localdate()
    return Signatory.objects.filter(
        statement__status=StatementStatus.PUBLISHED, statement__date__lte=as_of
    )


def current_positions(question, as_of=None):
    """
    One row per actor with a position on `question`: the `Signatory` of its deciding
    statement, with the actor, statement and source loaded. A single SQL query whatever the
    number of actors: a window function ranks the question's counting signatures on narrow
    rows (ids and dates, from indexes) and only the deciding ones are joined to their actor,
    statement and source.

    Actor filters may be chained: `current_positions(q).filter(actor__kind="company")`.
    """
    deciding = (
        _counting_signatures(as_of)
        .filter(statement__question=question)
        .annotate(
            position_rank=Window(RowNumber(), partition_by=[F("actor_id")], order_by=LATEST_FIRST)
        )
        .filter(position_rank=1)
        .values("pk")
    )
    return (
        Signatory.objects.filter(pk__in=deciding)
        .select_related("actor", "statement", "statement__source")
        .order_by("actor__name", "actor_id")
    )


def positions_of(actor, as_of=None):
    """The actor's current position on every question it has one on: one query."""
    return (
        _counting_signatures(as_of)
        .filter(actor=actor)
        .annotate(
            position_rank=Window(
                RowNumber(), partition_by=[F("statement__question_id")], order_by=LATEST_FIRST
            )
        )
        .filter(position_rank=1)
        .select_related(
            "statement", "statement__question", "statement__question__topic", "statement__source"
        )
        .order_by(
            "statement__question__topic__title",
            "statement__question__display_order",
            "statement__question_id",
        )
    )


def tallies(questions, as_of=None):
    """
    `{question_id: Counter({stance: number of actors})}` for several questions in one query.
    """
    question_ids = [getattr(q, "pk", q) for q in questions]
    rows = (
        _counting_signatures(as_of)
        .filter(statement__question_id__in=question_ids)
        .annotate(
            position_rank=Window(
                RowNumber(),
                partition_by=[F("statement__question_id"), F("actor_id")],
                order_by=LATEST_FIRST,
            )
        )
        .filter(position_rank=1)
        .order_by()  # Counted, not listed: no sort by the signatories' order.
        .values_list("statement__question_id", "statement__stance")
    )
    counts = {question_id: Counter() for question_id in question_ids}
    for question_id, stance in rows:
        counts[question_id][stance] += 1
    return counts


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
    statements = (
        Statement.objects.published()
        .as_of(as_of or timezone.localdate())
        .on(question)
        .by(actor)
        .select_related("source")
        .order_by("date", "pk")
    )
    return changes((s.date, s.stance, s) for s in statements)


def stance_counts_over_time(question, as_of=None):
    """
    The tally of a question after each day on which some position changed, oldest first:
    `[(date, {stance: count})]`. One query over the question's counting statements, replayed
    in order (rule 3's order), so the last point equals `tally(question, as_of)`.
    """
    rows = (
        _counting_signatures(as_of)
        .filter(statement__question=question)
        .order_by("statement__date", "statement_id")
        .values_list("statement__date", "actor_id", "statement__stance")
    )
    current, counts, series = {}, Counter(), []
    for date, actor_id, stance in rows:
        if actor_id in current:
            counts[current[actor_id]] -= 1
        current[actor_id] = stance
        counts[stance] += 1
        point = (date, {s: counts[s] for s in STANCE_ORDER})
        if series and series[-1][0] == date:
            series[-1] = point
        else:
            series.append(point)
    return series
