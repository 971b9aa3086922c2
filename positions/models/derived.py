"""
Derived data the write path keeps: the current positions (see positions/stances.py), the
actors and the sources hidden from readers (`Actor.objects.public()`,
`Source.objects.public()`), the tallies by day and the number of statements of each kind.
"""

from django.db import connection, models
from django.db.models import Count, Sum

from .actors import Actor, ActorKind
from .evidence import Source, Stance, Statement, StatementStatus
from .topics import Question


class Position(models.Model):
    """
    An actor's current position on a question: the deciding statement under the rules in
    `positions/stances.py`, kept as a row so that boards, tallies and filters read a few
    thousand rows by index instead of ranking a question's whole record on every request.

    Derived data: `stances.refresh_positions` rewrites it on every write to statements and
    signatories, and `stances.refresh_names_conditions` follows a write of a statement's
    conditions (both from the write path, positions/writes.py); nobody edits it, backups
    leave it out and a restore rebuilds it. `stances.current_positions(q, as_of=day)` still computes
    from the record, and the tests hold the two equal after every kind of write.
    """

    # Looked up through the indexes below, which begin with them.
    question = models.ForeignKey(
        Question, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    actor = models.ForeignKey(
        Actor, on_delete=models.CASCADE, related_name="positions", db_index=False
    )
    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="+")
    # Copies of the deciding statement's, so that counting needs no join.
    stance = models.CharField(max_length=16, choices=Stance.choices)
    date = models.DateField()
    # Copies of the actor's name and kind, so that a board is read in its order from an index
    # and counted by kind without joining ten thousand actors (kept in step by `stances.py`).
    actor_name = models.CharField(max_length=200)
    actor_kind = models.CharField(max_length=32, choices=ActorKind.choices)
    # Whether the deciding statement names a condition: a board looks up the conditions
    # named for these positions only (a fifth of the largest board), not one per position.
    names_conditions = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["question", "actor"], name="position_once"),
        ]
        indexes = [
            models.Index(fields=["question", "actor_name", "actor"], name="position_board_idx"),
            models.Index(
                fields=["question", "stance", "actor_name", "actor"], name="position_stance_idx"
            ),
            models.Index(fields=["actor", "question"], name="position_actor_idx"),
        ]

    def __str__(self):
        return f"{self.actor_id} on {self.question_id}: {self.stance}"


class HiddenActor(models.Model):
    """
    An actor that only drafts name, so readers may not see it (`ActorQuerySet.public`): a
    row per hidden actor, few, which a page excludes by a hashed lookup.

    Derived data, like `Position`: `refresh` rewrites it for the actors a write session
    touched (`positions/writes.py`), and for every actor on a rebuild; nobody edits it, and
    backups leave it out.
    """

    actor = models.OneToOneField(
        Actor, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )

    def __str__(self):
        return f"actor {self.actor_id} (hidden)"

    @classmethod
    def refresh(cls, actor_ids=None):
        """Recompute these actors' rows (every actor's when `actor_ids` is None), in the
        caller's transaction (the write session's): two queries, three if any is hidden."""
        actors = (
            Actor.objects.all() if actor_ids is None else Actor.objects.filter(pk__in=actor_ids)
        )
        stored = cls.objects.all() if actor_ids is None else cls.objects.filter(pk__in=actor_ids)
        stored.delete()
        hidden = actors.named_only_in_drafts().order_by().values_list("pk", flat=True)
        cls.objects.bulk_create(cls(actor_id=pk) for pk in hidden.iterator())


class HiddenSource(models.Model):
    """
    A source no public statement cites (only drafts do, or none yet), so readers may not see
    it (`SourceQuerySet.public`): a row per hidden source, few, which a page excludes by a
    hashed lookup. Asking the record instead meant a semi-join over every public statement
    on each sources page: 110-225 ms to count them on a million statements.

    Derived data, like `HiddenActor`: `refresh` rewrites it for the sources a write session
    touched (positions/writes.py), and for every source on a rebuild, an import or an
    undo; nobody edits it, and backups leave it out.
    """

    source = models.OneToOneField(
        Source, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )

    def __str__(self):
        return f"source {self.source_id} (hidden)"

    @classmethod
    def refresh(cls, sources=None):
        """Recompute the rows of the sources `sources` (a Q) selects (every source's when
        None), in the caller's transaction: two queries, three if any is hidden."""
        chosen = Source.objects.all() if sources is None else Source.objects.filter(sources)
        stored = cls.objects.all() if sources is None else cls.objects.filter(source__in=chosen)
        stored.delete()
        hidden = chosen.cited_by_no_public_statement().order_by().values_list("pk", flat=True)
        cls.objects.bulk_create(cls(source_id=pk) for pk in hidden.iterator())


class StanceCountDay(models.Model):
    """
    A question's tally at the end of a day on which some position on it changed: the board's
    chart and its table, read as a few thousand narrow rows by index instead of replaying the
    question's whole record. The tally as of a past day is the row of its last change on or
    before that day (rule 4: today's record applied to the past).

    Derived data, like `Position`: `stances.refresh_stance_counts` rewrites a question's rows
    whenever a write may have changed its counting statements (positions/writes.py).
    """

    question = models.ForeignKey(
        Question, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    day = models.DateField()
    supports = models.PositiveIntegerField()
    conditional = models.PositiveIntegerField()
    opposes = models.PositiveIntegerField()
    undecided = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["question", "day"], name="stance_count_day_once"),
        ]

    def __str__(self):
        return f"{self.question_id} on {self.day}"


# Above this many questions a refresh of their derived rows (`StatementCount`, and the
# tallies by day: `stances.refresh_stance_counts`) rewrites every question's: as cheap, and
# within SQLite's parameter limit.
MAX_SCOPED_QUESTIONS = 900


class StatementCount(models.Model):
    """
    How many statements a question has of each status and stance: the statement list's
    count when it is filtered by nothing but a question and a stance (`counted`), a sum over a
    few thousand rows instead of a count of a million statements (41 ms on PostgreSQL, for
    the list's first page).

    Derived data, like `StanceCountDay`, and refreshed with it: `refresh` rewrites a
    question's rows whenever a write may have changed its statements' status, stance or
    question, or added or deleted one (positions/writes.py); nobody edits it, and backups
    leave it out.
    """

    question = models.ForeignKey(
        Question, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    status = models.CharField(max_length=16, choices=StatementStatus.choices)
    stance = models.CharField(max_length=16, choices=Stance.choices)
    statements = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["question", "status", "stance"], name="statement_count_once"
            ),
        ]

    def __str__(self):
        return f"{self.question_id}, {self.status}, {self.stance}: {self.statements}"

    @classmethod
    def refresh(cls, question_ids=None):
        """Recompute the rows of these questions (of every question when None), in the
        caller's transaction: two queries, the second an `INSERT ... SELECT` of the counts."""
        statements, stored = Statement.objects.all(), cls.objects.all()
        if question_ids is not None and len(set(question_ids)) > MAX_SCOPED_QUESTIONS:
            question_ids = None
        if question_ids is not None:
            statements = statements.filter(question_id__in=question_ids)
            stored = stored.filter(question_id__in=question_ids)
        stored.delete()
        counts = (
            statements.order_by()
            .values_list("question_id", "status", "stance")
            .annotate(number=Count("pk"))
        )
        counts_sql, params = counts.query.sql_with_params()
        columns = "question_id, status, stance, statements"
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {cls._meta.db_table} ({columns}) {counts_sql}", params)

    @classmethod
    def counted(cls, statuses, question_id=None, stance=None):
        """The number of statements of these statuses, on a question and of a stance if
        given: one query."""
        rows = cls.objects.filter(status__in=statuses)
        if question_id is not None:
            rows = rows.filter(question_id=question_id)
        if stance is not None:
            rows = rows.filter(stance=stance)
        return rows.aggregate(total=Sum("statements"))["total"] or 0
