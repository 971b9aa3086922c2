"""
The write path: every writer of the record goes through here.

Admin forms, inlines and actions, history reverts, imports, restores and the data commands
write inside `writing()` and say what they wrote (`saved`, `deleting`, `statements_changed`,
`actor_copies_changed`, `rebuild_positions`, `records_changed`). When the outermost `writing()`
block ends, still inside its transaction, the derived data follows once for everything the
block wrote:

- the current positions (`stances.refresh_positions`) of the actors concerned, once, and
  only when something that decides a position changed (a statement's question, date,
  stance or status, or its signatures);
- the positions' copies of actors' names and kinds, for actors whose name or kind changed,
  and whether their deciding statement names a condition, for statements whose conditions
  were written (`conditions_named_changed`; the positions refreshed above say it already);
- which of the actors concerned only drafts name, and which of the sources concerned no
  public statement cites, so readers may not see them (`HiddenActor.refresh`,
  `HiddenSource.refresh`: the sources of the statements written, old and new, and the
  sources written; every source after an import, an undo or a rebuild);
- the tallies by day (`stances.refresh_stance_counts`) and the numbers of statements of each
  status and stance (`StatementCount.refresh`) of the questions whose statements changed;
- the current status of conditions whose status changes were written (the latest change's);
- the page cache's versions, now and again after commit, so no process serves a page
  computed before the write: for writes of statements and their signatures only, the
  scopes of the pages that show them (`page_scopes`, `caching.bump_scopes`); for any other
  write, the global version (`caching.bump_data_version`); after commit, the bulk download
  files are scheduled to be written again (`bulkdata.schedule`, debounced);
- after a rebuild (a restore, generated data), the rendered fragments' generation
  (`fragments.bump_generation`): fragments of the rows put back are rendered anew;
- what the session moved (`Moved`: positions whose stance or deciding statement changed,
  statements published for the first time, conditions whose status changed) is handed to
  the `WRITE_OBSERVERS` named in the settings, still inside the transaction: the alerts'
  outbox (`alerts/outbox.py`) records it there and queues its delivery for after commit.
  This is the one extension point for work that follows what readers see change.

Nothing else does this work: no signal refreshes positions or bumps the cache. One guard is
left (`connect`): a write to the record outside `writing()` (a forgotten path, the
shell) warns with `UnrecordedWrite` and is repaired as if it had been recorded, so readers
never see stale positions; the tests make that warning an error for every path of the app.
"""

import contextlib
import functools
import importlib
import threading
import warnings
from dataclasses import dataclass
from dataclasses import field as dataclass_field

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, transaction
from django.db.models import Q
from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save, pre_delete
from django.utils import timezone

from . import bulkdata, caching, fragments, stances
from .folding import fold_actor
from .models import (
    Actor,
    Condition,
    ConditionStatus,
    ConditionStatusChange,
    HiddenActor,
    HiddenSource,
    Membership,
    Position,
    Question,
    Signatory,
    Source,
    StanceCountDay,
    Statement,
    StatementCount,
)

# A session that wrote more statements than this bumps every page: cheaper than scoping.
MAX_SCOPED_STATEMENTS = 500

# The fields of a statement that decide positions (rule 1 and 3 of stances.py).
POSITION_FIELDS = frozenset({"question_id", "date", "stance", "status"})
# The actor fields each of its positions keeps a copy of (boards are read and counted by them).
POSITION_ACTOR_FIELDS = frozenset({"name", "kind"})

_local = threading.local()  # One write session per thread, as Django's connections.


class UnrecordedWrite(UserWarning):
    """A write to the record that did not go through the write path."""


@dataclass(frozen=True)
class ConditionMove:
    """A condition whose current status a write session changed."""

    condition_id: int
    status_before: str
    status_after: str


@dataclass
class Moved:
    """
    What one write session moved, as the `WRITE_OBSERVERS` hear it: only what readers see
    change. A draft moves nothing; an edit that changes no position moves no position.
    """

    positions: list = dataclass_field(default_factory=list)  # `stances.PositionMove`
    published_statement_ids: list = dataclass_field(default_factory=list)  # first published now
    conditions: list = dataclass_field(default_factory=list)  # `ConditionMove`

    def __bool__(self):
        return bool(self.positions or self.published_statement_ids or self.conditions)


@functools.cache
def _load_observers(paths):
    return tuple(importlib.import_module(path) for path in paths)


def observers():
    """
    The modules `settings.WRITE_OBSERVERS` names. Each has `listening()`, asked once per
    session that wrote something (one query: whether anyone would hear), and `record(moved)`,
    called with the session's `Moved` when it moved something, inside its transaction.
    """
    return _load_observers(tuple(getattr(settings, "WRITE_OBSERVERS", ())))


class Changes:
    """What one write session wrote, accumulated until it ends."""

    def __init__(self):
        # Statements first published from now on are new to readers (`Moved`).
        self.started_at = timezone.now()
        self.statement_ids = set()  # statements whose positions may have moved
        self.actor_ids = set()  # actors to refresh (noted before their statements went)
        self.copied_actor_ids = set()
        self.named_statement_ids = set()  # statements whose conditions were written
        self.every_statement_named = False  # unknown which: every position's flag follows
        self.condition_ids = set()  # conditions whose status changes were written
        self.rebuild = False  # every position, from the record
        self.records = False  # anything readers see: the page cache goes stale
        # The pages: statements written (any field) and, noted before a deletion or a move,
        # the questions and actors that showed them. Anything else makes every page stale.
        self.shown_statement_ids = set()
        self.shown_question_ids = set()
        self.shown_actor_ids = set()
        # Sources whose hiding may follow: written, or left or taken up by a statement (the
        # sources of `statement_ids` are read at the end); or every source.
        self.source_ids = set()
        self.every_source = False
        self.everything = False
        # A statement written behind the write path's back: the question it left is unknown,
        # so every question's tallies by day are rewritten.
        self.every_question = False
        self.left_question_ids = set()  # questions statements were moved from or deleted on

    def apply(self):
        """Bring the derived data in line with what was written: once per session."""
        scopes = None
        # A rebuild (a restore, generated data) re-derives the record: nothing is news.
        listeners = [] if self.rebuild or not self.records else observers()
        listeners = [observer for observer in listeners if observer.listening()]
        moved = Moved() if listeners else None
        if self.rebuild:
            analyze_record()
            stances.refresh_positions()
            HiddenActor.refresh()
            HiddenSource.refresh()
            stances.refresh_stance_counts()
            StatementCount.refresh()
        else:
            actor_ids = self.actor_ids | stances.affected_actors(self.statement_ids)
            if self.records and not self.everything:
                scopes = self.page_scopes(actor_ids)
            if actor_ids:
                stances.refresh_positions(
                    actor_ids, moves=None if moved is None else moved.positions
                )
            if self.copied_actor_ids - actor_ids:
                stances.refresh_actor_copies(self.copied_actor_ids - actor_ids)
            # A statement's conditions are written beside it (a form's m2m, an import's
            # links): the positions it decides say whether it names one. Those of the
            # statements whose positions were refreshed above say so already.
            named = self.named_statement_ids - self.statement_ids
            if self.every_statement_named:
                stances.refresh_names_conditions()
            elif named:
                stances.refresh_names_conditions(named)
            # Whether readers may see an actor follows its signatures and their statements'
            # status: those of the actors whose positions were refreshed, and of those that
            # lost a signature (noted where they were shown).
            if actor_ids | self.shown_actor_ids:
                HiddenActor.refresh(actor_ids | self.shown_actor_ids)
            self.refresh_hidden_sources()
            # The tallies by day and the numbers of statements follow the same statements.
            if self.every_question:
                stances.refresh_stance_counts()
                StatementCount.refresh()
            elif self.statement_ids or self.left_question_ids:
                counted = self.counted_question_ids()
                stances.refresh_stance_counts(counted)
                StatementCount.refresh(counted)
        if self.condition_ids:
            refresh_condition_statuses(
                self.condition_ids, moves=None if moved is None else moved.conditions
            )
        if moved is not None and self.statement_ids:
            moved.published_statement_ids = first_published_since(
                self.statement_ids, self.started_at
            )
        if moved:
            for observer in listeners:
                observer.record(moved)
        if self.records and scopes is not None:
            caching.bump_scopes(scopes)
            transaction.on_commit(lambda: caching.bump_scopes(scopes))
        elif self.records:
            caching.bump_data_version()
            transaction.on_commit(caching.bump_data_version)
        if self.rebuild:
            # Rows put back wholesale: the stored fragments are forgotten, not trusted.
            fragments.bump_generation()
            transaction.on_commit(fragments.bump_generation)
        if self.records:
            transaction.on_commit(bulkdata.schedule)  # the downloads' files, debounced

    def refresh_hidden_sources(self):
        """
        Whether readers may see a source follows the status of the statements citing it:
        those of the sources written, or left or taken up by a statement, and of the
        statements whose status may have changed (every source's for more than
        MAX_SCOPED_STATEMENTS of them). An edit that changes neither costs nothing here.
        """
        if self.every_source or len(self.statement_ids) > MAX_SCOPED_STATEMENTS:
            HiddenSource.refresh()
        elif self.statement_ids or self.source_ids:
            cited = Statement.objects.filter(pk__in=self.statement_ids).values("source_id")
            HiddenSource.refresh(Q(pk__in=self.source_ids) | Q(pk__in=cited))

    def counted_question_ids(self):
        """
        The questions whose counting statements this session may have changed, for their
        tallies by day: those of the statements written (their question now), and those that
        showed statements moved elsewhere or deleted.
        """
        question_ids = set(self.left_question_ids)
        for chunk in stances.chunked(sorted(self.statement_ids)):
            question_ids.update(
                Statement.objects.filter(pk__in=chunk).values_list("question_id", flat=True)
            )
        return question_ids

    def page_scopes(self, actor_ids):
        """
        The page scopes (caching.py) that the statements written show in, read before the
        positions move: their questions (old and new: a position's row still names the
        statement's old question) and topics; their signatories (old and new: `actor_ids`,
        those whose positions they decide) with the organisations those are members of and
        their parents, whose pages list members' stances. Two queries. None (every page)
        for more than MAX_SCOPED_STATEMENTS statements.
        """
        statement_ids = self.statement_ids | self.shown_statement_ids
        if len(statement_ids) > MAX_SCOPED_STATEMENTS:
            return None
        deciding = Position.objects.filter(statement_id__in=statement_ids)
        questions = Question.objects.filter(
            Q(pk__in=self.shown_question_ids)
            | Q(pk__in=Statement.objects.filter(pk__in=statement_ids).values("question_id"))
            | Q(pk__in=deciding.values("question_id"))
        ).values_list("topic__slug", "slug")
        shown_actors = Q(pk__in=actor_ids | self.shown_actor_ids) | Q(
            pk__in=Signatory.objects.filter(statement_id__in=statement_ids).values("actor_id")
        )
        actors = Actor.objects.filter(
            shown_actors
            | Q(
                pk__in=Membership.objects.filter(
                    member__in=Actor.objects.filter(shown_actors)
                ).values("organization_id")
            )
            | Q(pk__in=Actor.objects.filter(shown_actors).values("parent_id"))
        ).values_list("slug", flat=True)
        scopes = set()
        for topic_slug, slug in questions:
            scopes.add(caching.question_scope(topic_slug, slug))
            scopes.add(caching.topic_scope(topic_slug))
        scopes.update(caching.actor_scope(slug) for slug in actors)
        return scopes


def current():
    """The `Changes` of the write session open in this thread, or None."""
    return getattr(_local, "changes", None)


@contextlib.contextmanager
def writing():
    """
    A write session: one transaction (a savepoint when nested) whose writes are recorded
    and whose derived data follow once, before the outermost block commits.
    """
    outer = current()
    if outer is not None:
        with transaction.atomic():
            yield outer
        return
    changes = _local.changes = Changes()
    try:
        with transaction.atomic():
            yield changes
            changes.apply()
    finally:
        _local.changes = None


def _session_or_own():
    """The caller's write session as it is (no savepoint), or a session of its own."""
    return contextlib.nullcontext() if current() is not None else writing()


def _session():
    changes = current()
    if changes is None:
        raise RuntimeError("Record writes inside positions.writes.writing().")
    return changes


def statements_changed(statement_ids):
    """Statements (or their signatures) were written in a way that may move positions."""
    changes = _session()
    changes.statement_ids.update(statement_ids)
    changes.records = True


def statements_deleting(statement_ids):
    """Statements are about to be deleted: note now whose positions they decide, and where
    they were shown."""
    changes = _session()
    changes.actor_ids.update(stances.affected_actors(statement_ids))
    rows = list(
        Statement.objects.filter(pk__in=statement_ids).values_list("question_id", "source_id")
    )
    left = {question_id for question_id, _source_id in rows}
    changes.shown_question_ids.update(left)
    changes.left_question_ids.update(left)
    changes.source_ids.update(source_id for _question_id, source_id in rows if source_id)
    changes.shown_actor_ids.update(
        Signatory.objects.filter(statement_id__in=statement_ids).values_list("actor_id", flat=True)
    )
    changes.records = True


def statements_shown(statement_ids):
    """Statements were written in a way that moves no position: the pages showing them."""
    changes = _session()
    changes.shown_statement_ids.update(statement_ids)
    changes.records = True


def conditions_named_changed(statement_ids):
    """The conditions these statements name were written: the positions they decide follow."""
    changes = _session()
    changes.named_statement_ids.update(statement_ids)
    changes.records = True


def actor_copies_changed(actor_ids):
    """Actors' names or kinds may have changed: their positions keep copies of them."""
    changes = _session()
    changes.copied_actor_ids.update(actor_ids)
    changes.records = changes.everything = True


def sources_changed(source_ids=None):
    """Sources were written (None: any, as an import or an undo may): whether readers may see
    them follows."""
    changes = _session()
    if source_ids is None:
        changes.every_source = True
    else:
        changes.source_ids.update(source_ids)
    changes.records = True


def analyze_record():
    """
    Before a rebuild on PostgreSQL: planner statistics for the record just written wholesale
    (ANALYZE counts the rows of its own open transaction). Planned on no statistics, the
    hidden actors' query ran a subquery scan per actor: over 10 minutes at a million
    statements, against seconds.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in (Actor, Statement, Signatory):
            cursor.execute(f"ANALYZE {model._meta.db_table}")


def rebuild_positions():
    """The record was written wholesale (a restore, generated data): rebuild every position."""
    changes = _session()
    changes.rebuild = True
    changes.records = True


def records_changed():
    """Something readers see changed that decides no position: a title, a source, a topic.
    Every page goes stale (only statements' writes are scoped)."""
    changes = _session()
    changes.records = changes.everything = True


def condition_status_changed(condition_ids):
    """Status changes of these conditions were written: their current status follows."""
    changes = _session()
    changes.condition_ids.update(condition_ids)
    changes.records = changes.everything = True


def first_published_since(statement_ids, moment):
    """Of these statements, the published ones first published at or after `moment`."""
    found = []
    for chunk in stances.chunked(sorted(statement_ids)):
        found += (
            Statement.objects.published()
            .filter(pk__in=chunk, first_published_at__gte=moment)
            .order_by()
            .values_list("pk", flat=True)
        )
    return sorted(found)


def refresh_condition_statuses(condition_ids, moves=None):
    """
    Each condition's current status, date and note: those of its latest status change (by
    date, then the later recorded), or open when it has none left. Saved only when they differ,
    so the condition's history shows when its status moved. `moves`, a list, receives a
    `ConditionMove` for each condition whose status changed.
    """
    latest = {}
    for change in ConditionStatusChange.objects.filter(condition_id__in=condition_ids).order_by(
        "condition_id", "date", "pk"
    ):
        latest[change.condition_id] = change
    for condition in Condition.objects.filter(pk__in=condition_ids):
        change = latest.get(condition.pk)
        wanted = {
            "status": change.status if change else ConditionStatus.OPEN,
            "status_date": change.date if change else None,
            "status_note": change.note if change else "",
        }
        if any(getattr(condition, name) != value for name, value in wanted.items()):
            if moves is not None and condition.status != wanted["status"]:
                moves.append(ConditionMove(condition.pk, condition.status, wanted["status"]))
            for name, value in wanted.items():
                setattr(condition, name, value)
            condition.save(update_fields=[*wanted, "updated_at"])


# The stored fields whose change moves derived data, per model: compared by `save`.
WATCHED_FIELDS = {
    Statement: ("question_id", "date", "stance", "status", "source_id"),
    Actor: ("name",),
}


def save(instance, *, stored=None, **kwargs):
    """
    Save `instance` and record what the save moves, judged against the stored row (a form's
    changed data is no guide when a history revert posts an old version whole). `stored`:
    the row's watched fields as the caller already read them, to save reading them again.
    In the caller's write session, or one of its own.
    """
    watched = WATCHED_FIELDS.get(type(instance))
    if isinstance(instance, Actor):
        # The folded copies follow the name and aliases: search and matching read them.
        folded = fold_actor(instance)
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = [*kwargs["update_fields"], *folded]
    with _session_or_own():
        before = stored
        if watched and before is None and not instance._state.adding:
            before = type(instance).objects.filter(pk=instance.pk).values(*watched).first()
        if isinstance(instance, Statement) and before is not None:
            _session().shown_question_ids.add(before["question_id"])  # moved: the old board
            if before["source_id"] != instance.source_id:  # either may be hidden now
                _session().source_ids.update({before["source_id"], instance.source_id} - {None})
            if before["question_id"] != instance.question_id:
                _session().left_question_ids.add(before["question_id"])
        elif isinstance(instance, Signatory) and not instance._state.adding:
            changing(instance)
        instance.save(**kwargs)
        changed = None
        if before is not None:
            changed = [field for field in watched if before[field] != getattr(instance, field)]
        saved(instance, changed)


def delete(instance):
    """Delete `instance`, noting first what it decides; in the caller's session or its own."""
    with _session_or_own():
        deleting(instance)
        instance.delete()


def saved(instance, changed_fields=None):
    """
    `instance` was saved; `changed_fields` names the fields that changed (None: unknown, so
    all). Routes the record to what it may move.
    """
    if isinstance(instance, Statement):
        if changed_fields is None or POSITION_FIELDS & set(changed_fields):
            statements_changed([instance.pk])
        else:
            statements_shown([instance.pk])
        return
    elif isinstance(instance, Signatory):
        statements_changed([instance.statement_id])
        _session().shown_actor_ids.add(instance.actor_id)  # a signature deleted, too
        return
    elif isinstance(instance, Actor) and (
        changed_fields is None or POSITION_ACTOR_FIELDS & set(changed_fields)
    ):
        actor_copies_changed([instance.pk])
        return
    elif isinstance(instance, ConditionStatusChange):
        condition_status_changed([instance.condition_id])
        return
    elif isinstance(instance, Source):
        sources_changed([instance.pk])  # a new one is cited by nothing yet
    records_changed()


def changing(instance):
    """
    `instance`, stored, is about to be changed by a form that saves it with no `stored`
    row (an inline): note where its stored version shows. A signature moved to another
    actor leaves the old actor's page.
    """
    if isinstance(instance, Signatory) and instance.pk:
        stored = Signatory.objects.filter(pk=instance.pk).values("actor_id", "statement_id")
        for row in stored:
            changes = _session()
            changes.shown_actor_ids.add(row["actor_id"])
            changes.shown_statement_ids.add(row["statement_id"])


def deleting(instance):
    """`instance` is about to be deleted."""
    if isinstance(instance, Statement):
        statements_deleting([instance.pk])
    elif isinstance(instance, Signatory):
        statements_changed([instance.statement_id])
        _session().shown_actor_ids.add(instance.actor_id)
    elif isinstance(instance, ConditionStatusChange):
        condition_status_changed([instance.condition_id])
    elif isinstance(instance, Condition):
        # Its links go with it: the statements naming it may name no condition any more.
        named = Statement.conditions.through.objects.filter(condition_id=instance.pk)
        conditions_named_changed(named.values_list("statement_id", flat=True))
        records_changed()
    else:
        records_changed()


def fill_positions_after_migrate(sender, using, **kwargs):
    """
    After `migrate`: a database that has statements but no positions, tallies by day or
    numbers of statements yet (a table was just created, or the data was loaded behind the
    write path's back) gets them computed once.
    """
    if using != DEFAULT_DB_ALIAS:
        return  # The record and its positions live in the default database.
    tables = connection.introspection.table_names()
    derived = (Position, StanceCountDay, StatementCount)
    if not {model._meta.db_table for model in derived} <= set(tables):
        return  # Migrated backwards, past the tables.
    if Statement.objects.published().exists() and not all(
        model.objects.exists() for model in derived
    ):
        with writing():
            rebuild_positions()


# --- The guard -------------------------------------------------------------------------------


def _unrecorded(instance, action):
    warnings.warn(
        UnrecordedWrite(
            f"{type(instance).__name__} {instance.pk} {action} outside "
            "positions.writes.writing(): repaired, but say what you write."
        ),
        stacklevel=4,
    )


def _guard_saved(sender, instance, raw=False, **kwargs):
    if raw or current() is not None:
        return  # A fixture or restore rebuilds at the end; a session records its own.
    _unrecorded(instance, "saved")
    with writing() as changes:
        saved(instance)
        changes.everything = True  # repaired broadly: every page goes stale
        changes.every_question = isinstance(instance, Statement | Signatory)
        changes.every_source = isinstance(instance, Statement)  # the source it left unknown


def _guard_deleting(sender, instance, **kwargs):
    if current() is not None or not isinstance(instance, Statement):
        return
    # Its signatures and the positions it decides go before post_delete: note them now.
    instance._unrecorded_position_actors = stances.affected_actors([instance.pk])


def _guard_deleted(sender, instance, **kwargs):
    if current() is not None:
        return
    _unrecorded(instance, "deleted")
    with writing() as changes:
        if isinstance(instance, Statement):
            changes.actor_ids.update(instance._unrecorded_position_actors)
            changes.left_question_ids.add(instance.question_id)
            changes.records = changes.everything = changes.every_source = True
        else:
            deleting(instance)


def _guard_m2m(sender, instance, action, pk_set=None, **kwargs):
    if action.startswith("post_") and current() is None:
        _unrecorded(instance, f"m2m {action}")
        with writing() as changes:
            records_changed()
            if sender is Statement.conditions.through:
                if isinstance(instance, Statement):
                    conditions_named_changed([instance.pk])
                elif pk_set:  # from the condition's side: the statements linked or unlinked
                    conditions_named_changed(pk_set)
                else:  # a condition's links cleared: which statements is not told
                    changes.every_statement_named = True


# Rewritten by `Changes.apply` from the record, never written on their own.
DERIVED_MODELS = (
    "Position",
    "HiddenActor",
    "HiddenSource",
    "StanceCountDay",
    "StatementCount",
)


def connect(app_config):
    """
    Called from `PositionsConfig.ready()`: positions after `migrate`, and the guard on every
    model of the record and its m2m tables.
    """
    post_migrate.connect(fill_positions_after_migrate, sender=app_config, dispatch_uid=__name__)
    from django.apps import apps

    for model in apps.get_app_config("positions").get_models():
        if model.__name__.startswith("Historical") or model.__name__ in DERIVED_MODELS:
            continue  # Written alongside a real write, or derived.
        if model.__name__ in ("ImportJob", "ImportBatch", "ImportBatchChange"):
            continue  # The imports' bookkeeping, not the record.
        uid = f"positions.writes.guard.{model.__name__}"
        post_save.connect(_guard_saved, sender=model, dispatch_uid=f"{uid}.save")
        pre_delete.connect(_guard_deleting, sender=model, dispatch_uid=f"{uid}.deleting")
        post_delete.connect(_guard_deleted, sender=model, dispatch_uid=f"{uid}.delete")
        for field in model._meta.local_many_to_many:
            through = field.remote_field.through
            m2m_changed.connect(_guard_m2m, sender=through, dispatch_uid=f"{uid}.{field.name}")
