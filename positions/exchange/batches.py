"""
Import batches: every confirmed import is recorded, and a Publisher can undo it.

How a batch knows exactly what it wrote (the simplest exact approach): **snapshots of the
rows in the import's reach, read just before and just after the writer, in its write
session**, and diffed by primary key. The reach is the rows of the file's type the import
updates or creates, and the rows of the relations its writer writes (`RELATED`: an actor's
identifiers; a statement's signatures and condition links). Each difference becomes an
`ImportBatchChange`:

- a row only after: created (its fingerprint as written);
- a row in both that differs: updated (the previous stored values of the fields that
  changed, and the fingerprint as written);
- a row only before: deleted (the whole row, to put it back).

Snapshots compare what the database stores, so they do not depend on how the writer writes
(bulk or one by one, with or without simple-history) and cannot miss a stamp the writer sets
(`updated_at`, a statement's `first_published_at`). simple-history's rows stay the audit
trail (their change reason names the batch: "Imported from f.csv (import #7)"); they are no
source for an undo: a record loaded without history has no previous version there, and a
condition link has no history row at all.

An undo (`undo`) runs only while nothing the batch wrote has changed since: every row it
created or updated still has its fingerprint, no other row now refers to a row it created,
and every row it deleted can come back. Otherwise it names the records (`Conflict`) and
writes nothing. It deletes what the batch created, restores what it updated and puts back
what it deleted, in one write session (positions and the page cache follow), records each
change in history ("Undo of import #N", by the user who undoes) and marks the batch undone.
"""

import datetime
import decimal
import hashlib
import json
import uuid
from dataclasses import dataclass

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models
from django.db.models import Count
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from simple_history.models import HistoricalChanges

from .. import editorial, writes
from ..lookups import any_of
from ..models import (
    Actor,
    ActorIdentifier,
    BatchAction,
    ImportBatch,
    ImportBatchChange,
    Position,
    Signatory,
    Statement,
)
from ..stances import chunked
from . import bulk

BATCH_SIZE = 500
MAX_CONFLICTS_NAMED = 50

# The relations each type's writer writes besides its own rows: (model, the field naming the
# row of the file's type). A writer that writes another relation adds it here (the undo test
# compares every table, so a forgotten one fails it).
RELATED = {
    "actors": ((ActorIdentifier, "actor_id"),),
    "statements": ((Signatory, "statement_id"), (Statement.conditions.through, "statement_id")),
}

# What a record is called in a conflict's name: the first of these fields it has.
LABEL_FIELDS = ("name", "title", "slug", "import_ref", "identifier", "url")


# --- Recording ---------------------------------------------------------------------------------


class Recording:
    """`recording()`'s handle: the batch, and the snapshot taken before the writer ran."""

    def __init__(self, planner, plans):
        self.kind = planner.file_type.kind
        self.model = planner.file_type.model
        self.plans = plans
        context = planner.context
        self.batch = ImportBatch.objects.create(
            kind=self.kind,
            file_name=(context.file_name or "")[:255],
            user=context.user,
            new_rows=sum(1 for p in plans if p.action == "new"),
            changed_rows=sum(1 for p in plans if p.action == "update"),
            unchanged_rows=sum(1 for p in plans if p.action == "skip"),
        )
        context.batch_id = self.batch.pk
        stored = [p.instance.pk for p in plans if p.action == "update"]
        self.before = {model: read(model, field, stored) for model, field in self.scopes()}

    def scopes(self):
        return ((self.model, "pk"), *RELATED.get(self.kind, ()))

    def finish(self):
        written = [p.instance.pk for p in self.plans if p.action in ("new", "update")]
        changes = []
        for model, field in self.scopes():
            changes += diff(self.batch, model, self.before[model], read(model, field, written))
        bulk.create(changes, ImportBatchChange)  # COPY on PostgreSQL: a row per record


class recording:  # noqa: N801 -- used as a context manager, like `writes.writing`
    """
    Record the write of `plans` as an `ImportBatch`: `with recording(planner, plans):` around
    the writer, inside its write session. The batch is created first, so history rows can
    name it (`ImportContext.batch_id`).
    """

    def __init__(self, planner, plans):
        self.planner, self.plans = planner, plans

    def __enter__(self):
        self.recording = Recording(self.planner, self.plans)
        return self.recording.batch

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.recording.finish()
        return False


ENCODED_FIELDS = (
    models.DateField,  # and DateTimeField
    models.TimeField,
    models.DecimalField,
    models.UUIDField,
)


def read(model, field, ids):
    """The stored rows of `model` whose `field` is one of `ids`: pk -> encoded row (in the
    model's field order, which `fingerprint` relies on)."""
    fields = model._meta.concrete_fields
    names = [f.attname for f in fields]
    encoded = [i for i, f in enumerate(fields) if isinstance(f, ENCODED_FIELDS)]
    pk_index = names.index(model._meta.pk.attname)
    rows = {}
    for chunk in chunked(sorted(set(ids) - {None})):
        for values in model.objects.filter(any_of(field, chunk)).values_list(*names):
            if encoded:
                values = list(values)
                for i in encoded:
                    values[i] = encode(values[i])
            rows[values[pk_index]] = dict(zip(names, values, strict=True))
    return rows


def diff(batch, model, before, after):
    label = model._meta.label_lower
    changes = []
    for pk, row in after.items():
        old = before.get(pk)
        if old is None:
            action, previous = BatchAction.CREATED, None
        elif old != row:
            action = BatchAction.UPDATED
            previous = {name: value for name, value in old.items() if row.get(name) != value}
        else:
            continue
        changes.append(
            ImportBatchChange(
                batch=batch,
                model=label,
                object_id=pk,
                action=action,
                before=previous,
                fingerprint=fingerprint(row),
                label=label_of(row),
            )
        )
    for pk in before.keys() - after.keys():
        changes.append(
            ImportBatchChange(
                batch=batch,
                model=label,
                object_id=pk,
                action=BatchAction.DELETED,
                before=before[pk],
                label=label_of(before[pk]),
            )
        )
    return changes


def encode(value):
    """A stored value as JSON keeps it exactly (Django's encoder cuts microseconds)."""
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    return value


def decode(model, row):
    """An encoded row (or part of one) back to attribute values."""
    fields = {f.attname: f for f in model._meta.concrete_fields}
    values = {}
    for name, value in row.items():
        field = fields[name]
        target = field.target_field if field.is_relation else field
        values[name] = None if value is None else target.to_python(value)
    return values


def fingerprint(row):
    """A hash of a row as `read` gives it (its fields in the model's order)."""
    text = json.dumps(list(row.values()), separators=(",", ":"), default=str)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def label_of(row):
    for name in LABEL_FIELDS:
        if row.get(name):
            return str(row[name])[:200]
    return ""


# --- What changed since ------------------------------------------------------------------------


@dataclass
class Conflict:
    """A record that keeps a batch from being undone, as the admin names it."""

    model: str  # its verbose name
    name: str
    url: str  # its admin page (or its history, once deleted); "" if it has none
    reason: str

    def __str__(self):
        return f"{self.model} '{self.name}': {self.reason}"


class UndoRefused(Exception):
    def __init__(self, message, conflicts=()):
        super().__init__(message)
        self.message, self.conflicts = message, list(conflicts)


def by_model(changes):
    grouped = {}
    for change in changes:
        grouped.setdefault(apps.get_model(change.model), []).append(change)
    return grouped


def conflicts(batch, changes=None):
    """What was edited since `batch` wrote it, in a few queries per model and chunk."""
    grouped = by_model(changes if changes is not None else batch.changes.all())
    found = []
    for model, model_changes in grouped.items():
        written = {c.object_id: c for c in model_changes if c.action != BatchAction.DELETED}
        current = read(model, "pk", written)
        for pk, change in written.items():
            if pk not in current:
                found.append(deleted_since(model, change))
            elif fingerprint(current[pk]) != change.fingerprint:
                found.append((model, pk, "was edited after the import."))
    created = {
        model: {c.object_id for c in cs if c.action == BatchAction.CREATED}
        for model, cs in grouped.items()
    }
    found += dependents(created)
    # Named (a query or two each) up to a page's worth; the count says how many in all.
    named = Conflicts(
        describe(item) if isinstance(item, tuple) else item for item in found[:MAX_CONFLICTS_NAMED]
    )
    named.total = len(found)
    return named


class Conflicts(list):
    """The first conflicts, named; `total` counts them all."""

    total = 0


def deleted_since(model, change):
    return Conflict(
        model._meta.verbose_name,
        change.label or f"#{change.object_id}",
        admin_url(model, change.object_id, "history"),
        "was deleted after the import.",
    )


def record_models():
    """Every model of the record (its history, the derived data and bookkeeping aside)."""
    for model in apps.get_app_config("positions").get_models(include_auto_created=True):
        if issubclass(model, HistoricalChanges) or model.__name__ in writes.DERIVED_MODELS:
            continue
        if model._meta.object_name in ("ImportJob", "ImportBatch", "ImportBatchChange"):
            continue
        yield model


def dependents(created):
    """Rows not created by the batch that now refer to a row it created (an editor's
    signature, membership or child of an imported actor): deleting would take them along."""
    found = []
    for model in record_models():
        own = created.get(model, set())
        for field in model._meta.concrete_fields:
            targets = created.get(field.related_model) if field.is_relation else None
            if not targets:
                continue
            for chunk in chunked(sorted(targets)):
                rows = model.objects.filter(**{f"{field.attname}__in": chunk})
                for pk, target in rows.values_list("pk", field.attname):
                    if pk not in own:
                        found.append(
                            (
                                model,
                                pk,
                                f"refers to {field.related_model._meta.verbose_name} "
                                f"#{target}, which the import created.",
                            )
                        )
    return found


def describe(item):
    """(model, pk, reason) as a `Conflict`: its name and admin page, read now."""
    model, pk, reason = item
    obj = model.objects.filter(pk=pk).first()
    if isinstance(obj, Signatory):
        return Conflict(
            "signature",
            f"{obj.actor} on statement #{obj.statement_id}",
            admin_url(Statement, obj.statement_id),
            reason,
        )
    if model is Statement.conditions.through:
        return Conflict(
            "condition of a statement",
            f"{obj.condition} on statement #{obj.statement_id}",
            admin_url(Statement, obj.statement_id),
            reason,
        )
    return Conflict(model._meta.verbose_name, str(obj), admin_url(model, pk), reason)


def admin_url(model, pk, view="change"):
    try:
        return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=[pk])
    except NoReverseMatch:
        return ""


# --- Undoing ---------------------------------------------------------------------------------


def may_undo(user):
    """Publishers (and the server's operator, `user` None) undo imports: an undo can delete
    and change published statements."""
    return user is None or (user.is_active and editorial.can_publish(user))


def undo(batch, user=None):
    """
    Undo `batch` for `user` (None: the server's operator), all or nothing. Raises
    `UndoRefused` (with the conflicts, if any) and writes nothing when it cannot.
    """
    if not may_undo(user):
        raise UndoRefused("Only a Publisher can undo an import.")
    reason = f"Undo of import #{batch.pk}"
    try:
        with writes.writing():
            batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
            if batch.is_undone:
                raise UndoRefused(f"Import #{batch.pk} was already undone.")
            changes = list(batch.changes.all())
            found = conflicts(batch, changes)
            if found:
                raise UndoRefused(
                    f"Import #{batch.pk} cannot be undone: {found.total} of the records it "
                    "wrote changed since. Nothing was undone.",
                    found,
                )
            Undo(by_model(changes), user, reason).run()
            batch.undone_at, batch.undone_by = timezone.now(), user
            batch.save(update_fields=["undone_at", "undone_by"])
    except IntegrityError as error:
        raise UndoRefused(
            f"The database refused the undo ({error}); nothing was undone."
        ) from error
    return batch


class Undo:
    """One undo's steps, in the order the database's constraints allow."""

    def __init__(self, grouped, user, reason):
        self.grouped, self.user, self.reason = grouped, user, reason
        self.history = {}  # model -> pks to record as changed ("~") once all is done
        self.recreated = {}  # model -> the instances put back ("+")

    def of(self, model, action):
        return [c for c in self.grouped.get(model, []) if c.action == action]

    def run(self):
        # The actors whose positions the statements and signatures decide now, before any
        # is deleted; and, at the end, those they decide once restored.
        statement_ids = self.statements_concerned()
        writes.statements_deleting(statement_ids)
        order = deletion_order(self.grouped)
        for model in order:  # Rows that refer to others go first.
            self.delete_created(model, self.of(model, BatchAction.CREATED))
        for model in order:
            self.restore_updated(model, self.of(model, BatchAction.UPDATED))
        for model in reversed(order):  # Rows referred to come back first.
            self.recreate_deleted(model, self.of(model, BatchAction.DELETED))
        self.record_history()
        writes.statements_changed(statement_ids)
        writes.sources_changed()  # statements' sources put back, sources recreated
        writes.records_changed()

    def statements_concerned(self):
        ids = {c.object_id for c in self.grouped.get(Statement, [])}
        signatures = self.grouped.get(Signatory, [])
        ids |= {c.before["statement_id"] for c in signatures if c.action == BatchAction.DELETED}
        stored = [c.object_id for c in signatures if c.action != BatchAction.DELETED]
        for chunk in chunked(stored):
            ids |= set(
                Signatory.objects.filter(pk__in=chunk).values_list("statement_id", flat=True)
            )
        return ids

    def delete_created(self, model, changes):
        """
        Delete in bulk, with one "-" history row each, also in bulk (simple-history's delete
        signal costs a query per row). Nothing else refers to these rows any more: `conflicts`
        refused rows of others, the batch's own went first (`deletion_order`), and the
        derived positions go here; so no cascade is left for Django to collect.
        """
        history = getattr(model, "history", None)
        for chunk in chunked([c.object_id for c in changes]):
            instances = list(model.objects.filter(pk__in=chunk))
            self.note(model, instances)
            if history is not None:
                deletion_history(history.model, instances, self.user, self.reason)
            for field in Position._meta.concrete_fields:
                if field.is_relation and field.related_model is model:
                    Position.objects.filter(**{f"{field.attname}__in": chunk}).delete()
            model.objects.filter(pk__in=chunk)._raw_delete(model.objects.db)

    def restore_updated(self, model, changes):
        before = {c.object_id: decode(model, c.before) for c in changes}
        instances = []
        for chunk in chunked(sorted(before)):
            instances += model.objects.filter(pk__in=chunk)
        fields = {f.attname: f.name for f in model._meta.concrete_fields}
        for instance in instances:
            for attname, value in before[instance.pk].items():
                setattr(instance, attname, value)
        # A flag turned back off first: a "one lead per statement" constraint holds at
        # every row of the update.
        off = {i.pk for i in instances if turns_a_flag_off(model, before[i.pk])}
        flags_off = [i for i in instances if i.pk in off]
        rest = [i for i in instances if i.pk not in off]
        for group in (flags_off, rest):
            names = sorted({fields[a] for i in group for a in before[i.pk]})
            if group:
                model.objects.bulk_update(group, names, batch_size=BATCH_SIZE)
        self.note(model, instances, changed=[n for c in changes for n in c.before])
        self.history.setdefault(model, set()).update(i.pk for i in instances)

    def recreate_deleted(self, model, changes):
        instances = []
        for change in changes:
            instance = model(**decode(model, change.before))
            instances.append(instance)
        problems = comeback_problems(model, instances)
        if problems:
            raise UndoRefused(
                f"{len(problems)} records the import removed cannot be put back. Nothing was "
                "undone.",
                problems,
            )
        model.objects.bulk_create(instances, batch_size=BATCH_SIZE)
        self.note(model, instances)
        self.recreated.setdefault(model, []).extend(instances)

    def note(self, model, instances, changed=None):
        """Tell the write path what moved, so positions and the cache follow (statements
        and signatures: `run`)."""
        if model is Statement.conditions.through:
            # A statement's history shows its conditions: record the statement again. The
            # positions it decides say whether it names one.
            self.history.setdefault(Statement, set()).update(i.statement_id for i in instances)
            writes.conditions_named_changed({i.statement_id for i in instances})
        elif model is Actor and (changed is None or writes.POSITION_ACTOR_FIELDS & set(changed)):
            writes.actor_copies_changed([i.pk for i in instances])
        writes.records_changed()

    def record_history(self):
        """A history row per restored or recreated record, "Undo of import #N"."""
        kwargs = {"default_user": self.user, "default_change_reason": self.reason}
        for model, instances in self.recreated.items():
            if hasattr(model, "history"):
                model.history.bulk_history_create(instances, batch_size=BATCH_SIZE, **kwargs)
        for model, pks in self.history.items():
            if not hasattr(model, "history"):
                continue
            recreated = {i.pk for i in self.recreated.get(model, [])}
            instances = list(model.objects.filter(pk__in=pks - recreated))
            records = model.history.bulk_history_create(
                instances, batch_size=BATCH_SIZE, update=True, **kwargs
            )
            if model is Statement:
                statement_conditions_history(records)


def deletion_history(history_model, instances, user, reason):
    now = timezone.now()
    history_model.objects.bulk_create(
        [
            history_model(
                history_date=now,
                history_user=user,
                history_change_reason=reason,
                history_type="-",
                **{f.attname: getattr(i, f.attname) for f in history_model.tracked_fields},
            )
            for i in instances
        ],
        batch_size=BATCH_SIZE,
    )


def statement_conditions_history(records):
    """The conditions each statement names at its new history row (simple-history's m2m
    snapshot, which its bulk helpers leave out)."""
    through = Statement.conditions.through
    m2m_history = Statement.history.model.conditions.model
    ids = [r.id for r in records]
    links = {}
    for chunk in chunked(ids):
        for link in through.objects.filter(statement_id__in=chunk):
            links.setdefault(link.statement_id, []).append(link)
    m2m_history.objects.bulk_create(
        [
            m2m_history(
                history=record,
                id=link.pk,
                statement_id=link.statement_id,
                condition_id=link.condition_id,
            )
            for record in records
            for link in links.get(record.id, [])
        ],
        batch_size=BATCH_SIZE,
    )


def turns_a_flag_off(model, before):
    fields = {f.attname: f for f in model._meta.concrete_fields}
    return any(
        isinstance(fields[name], models.BooleanField) and value is False
        for name, value in before.items()
    )


def deletion_order(models_):
    """The batch's models, each before the models it refers to."""
    remaining, order = set(models_), []
    while remaining:
        free = [
            m
            for m in remaining
            if not any(refers_to(other, m) for other in remaining if other is not m)
        ]
        free = free or list(remaining)  # a cycle: the deferred constraints cope
        free.sort(key=lambda m: m._meta.label)
        order += free
        remaining -= set(free)
    return order


def refers_to(model, target):
    return any(f.is_relation and f.related_model is target for f in model._meta.concrete_fields)


def comeback_problems(model, instances):
    """Why rows the import deleted cannot be put back: a key taken since, or a record they
    refer to deleted since."""
    problems = []
    for instance in instances:
        try:
            instance.validate_unique()
            instance.validate_constraints()
        except ValidationError as error:
            problems.append(
                Conflict(
                    model._meta.verbose_name,
                    label_of(instance.__dict__) or f"#{instance.pk}",
                    admin_url(model, instance.pk, "history"),
                    f"cannot be put back: {'; '.join(error.messages)}",
                )
            )
    for field in model._meta.concrete_fields:
        if not field.is_relation:
            continue
        wanted = {getattr(i, field.attname) for i in instances} - {None}
        present = set()
        for chunk in chunked(sorted(wanted)):
            present |= set(
                field.related_model.objects.filter(pk__in=chunk).values_list("pk", flat=True)
            )
        for instance in instances:
            target = getattr(instance, field.attname)
            if target is not None and target not in present:
                problems.append(
                    Conflict(
                        model._meta.verbose_name,
                        label_of(instance.__dict__) or f"#{instance.pk}",
                        admin_url(model, instance.pk, "history"),
                        f"cannot be put back: its {field.verbose_name} #{target} was deleted.",
                    )
                )
    return problems


def summary(batch):
    """What the batch wrote, by model: [(verbose name plural, created, updated, deleted)]."""
    counts = {}
    rows = batch.changes.order_by().values_list("model", "action").annotate(n=Count("pk"))
    for label, action, number in rows:
        name = apps.get_model(label)._meta.verbose_name_plural
        counts.setdefault(name, dict.fromkeys(BatchAction.values, 0))[action] = number
    return [(name, *row.values()) for name, row in sorted(counts.items())]
