"""
The derived current positions (see positions/stances.py).
"""

from django.db import models

from .actors import Actor
from .evidence import Stance, Statement
from .topics import Question


class Position(models.Model):
    """
    An actor's current position on a question: the deciding statement under the rules in
    `positions/stances.py`, kept as a row so that boards, tallies and filters read a few
    thousand rows by index instead of ranking a question's whole record on every request.

    Derived data: `stances.refresh_positions` rewrites it on every write to statements and
    signatories (signals, the import, the data commands); nobody edits it, backups leave it
    out and a restore rebuilds it. `stances.current_positions(q, as_of=day)` still computes
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
    # A copy of the actor's name, so that a board is read in its order from an index instead
    # of joining and sorting ten thousand actors (kept in step by `stances.py`).
    actor_name = models.CharField(max_length=200)

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
