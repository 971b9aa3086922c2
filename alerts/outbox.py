"""
The write path's side of alerts: what a write session moved becomes events in the outbox, in
the write's own transaction, and their delivery is queued once it commits.

This module is named in `settings.WRITE_OBSERVERS`: when the outermost write session ends,
`positions.writes` asks `listening()` and, if so, calls `record` with what the session moved
(`writes.Moved`). So an event
exists exactly when its write committed, and a rolled-back write alerts nobody.

- A stance change: a current position whose stance changed (a new position, a change, or a
  position gone after a retraction). A new deciding statement with the same stance, or an
  edit that decides nothing, is no stance change.
- A new statement: a statement first published in this session (never a draft, never an
  edit of a statement already published), for its signatories' subscribers.
- A condition's status change, for a condition readers can see.

Nobody listening (no confirmed subscription, no active webhook): nothing is recorded, and the
write path skips the work of saying what moved.
"""

import functools
import logging
import uuid

from django.db import transaction

from positions.models import Condition, Signatory, Statement

from .models import Event, EventKind, Subscription, Webhook

logger = logging.getLogger(__name__)


def listening():
    """Whether anyone would hear of an event (a confirmed subscription, an active webhook)."""
    subscribed = Subscription.objects.confirmed().values_list("pk")
    hooked = Webhook.objects.filter(active=True).values_list("pk")
    return subscribed.union(hooked, all=True).exists()  # one query


def record(moved):
    """Record what a write session moved (`positions.writes.Moved`) as one batch of events."""
    batch = uuid.uuid4()
    events = [
        Event(
            batch=batch,
            kind=EventKind.STANCE_CHANGED,
            question_id=move.question_id,
            actor_id=move.actor_id,
            statement_id=move.statement_after,
            data={
                "from": move.stance_before,
                "to": move.stance_after,
                "previous_statement": move.statement_before,
            },
        )
        for move in moved.positions
        if move.stance_changed
    ]
    if moved.published_statement_ids:
        signatories = {}
        for statement_id, actor_id in (
            Signatory.objects.filter(statement_id__in=moved.published_statement_ids)
            .order_by("statement_id", "order", "pk")
            .values_list("statement_id", "actor_id")
        ):
            signatories.setdefault(statement_id, []).append(actor_id)
        for pk, question_id, stance in Statement.objects.filter(
            pk__in=moved.published_statement_ids
        ).values_list("pk", "question_id", "stance"):
            events.append(
                Event(
                    batch=batch,
                    kind=EventKind.STATEMENT_PUBLISHED,
                    question_id=question_id,
                    statement_id=pk,
                    data={"stance": stance, "actors": signatories.get(pk, [])},
                )
            )
    if moved.conditions:
        public = set(
            Condition.objects.public()
            .filter(pk__in=[move.condition_id for move in moved.conditions])
            .values_list("pk", flat=True)
        )
        events += [
            Event(
                batch=batch,
                kind=EventKind.CONDITION_STATUS_CHANGED,
                condition_id=move.condition_id,
                data={"from": move.status_before, "to": move.status_after},
            )
            for move in moved.conditions
            if move.condition_id in public
        ]
    if not events:
        return None
    Event.objects.bulk_create(events)
    # robust: a queue that is down must not undo the editor's write; the events wait in the
    # outbox and the next dispatch (or `send_digests`) catches them up.
    transaction.on_commit(functools.partial(queue_dispatch, batch), robust=True)
    return batch


def queue_dispatch(batch):
    from .delivery import dispatch

    dispatch.enqueue(str(batch))
