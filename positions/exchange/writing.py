"""
Writing a planned import: in batches, with a history record for every change ("Imported
from <file>", by the importing user), inside one write session (`positions.writes.writing`)
that records what moved, so positions and the page cache follow once for the whole file:

- statements whose question, date, stance or status changed, or whose signatures did:
  `writes.statements_changed`;
- actors whose name or kind changed (positions keep copies): `writes.actor_copies_changed`;
- statements whose conditions may have changed (positions say whether their deciding
  statement names one): `writes.conditions_named_changed`;
- which sources statements cite, after an import of statements or sources:
  `writes.sources_changed`;
- everything else readers see: `writes.records_changed`.

New records and their history rows are inserted in bulk (`bulk.create_with_history`: COPY on
PostgreSQL); simple-history's bulk helpers write the updates and theirs in batches; a row
deleted or changed one at a time (a signature, an identifier) records its own through
simple-history's signal.
"""

from django.db import connection
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from .. import writes
from ..folding import fold_actor
from ..models import Actor, ActorIdentifier, FormalAct, Signatory, Source, Statement
from ..stances import chunked
from . import batches
from .bulk import create_with_history

BATCH_SIZE = 500


def write(planner, plans, progress=None):
    """
    Write `plans` (all valid) in one write session: all or nothing. Recorded as an
    `ImportBatch` (`batches.recording`), which is returned, so that it can be undone.
    """
    if progress:
        progress.phase(f"Writing {planner.file_type.kind}", 1)
    with writes.writing(), batches.recording(planner, plans) as batch:
        WRITERS.get(planner.file_type.kind, write_simple)(planner, plans, planner.context)
        if planner.file_type.model in (Statement, Source):
            writes.sources_changed()  # which statements cite which sources: every source
        writes.records_changed()
    if progress:
        progress.advance()
    return batch


def history(context):
    """Who imported, and from which file, for `bulk.create_with_history`."""
    return {"user": context.user, "reason": context.change_reason}


def bulk_history(context):
    """The same, as simple-history's bulk helpers name them."""
    return {"default_user": context.user, "default_change_reason": context.change_reason}


def save_with_history(instance, context):
    instance._history_user = context.user
    instance._change_reason = context.change_reason
    writes.save(instance)


def delete_with_history(instance, context):
    instance._history_user = context.user
    instance._change_reason = context.change_reason
    writes.delete(instance)


def write_simple(planner, plans, context):
    """Bulk create and update records without relations of their own, with history."""
    model = planner.file_type.model
    new = [p.instance for p in plans if p.action == "new"]
    create_with_history(new, model, **history(context))
    update_changed([p for p in plans if p.action == "update"], model, context)


def update_changed(plans, model, context, stamps=()):
    """Bulk update the fields that changed in `plans`, stamped now, with history."""
    plans = [p for p in plans if p.changed_fields]
    if not plans:
        return
    now = timezone.now()
    fields = {f for p in plans for f in p.changed_fields} | {"updated_at", *stamps}
    for plan in plans:
        plan.instance.updated_at = now
    bulk_update_with_history(
        [p.instance for p in plans],
        model,
        fields=sorted(fields),
        batch_size=BATCH_SIZE,
        **bulk_history(context),
    )


# --- Actors ---------------------------------------------------------------------------------


def write_actors(planner, plans, context):
    # The folded name and aliases follow the name and aliases (no save() does it).
    for plan in plans:
        if plan.action == "new":
            fold_actor(plan.instance)
        elif {"name", "aliases"} & set(plan.changed_fields):
            plan.changed_fields += fold_actor(plan.instance)
    pk_of = {slug: known.pk for slug, known in planner.known.items()}
    pending = {p.key: p for p in plans if p.action == "new"}
    # Parents first: an actor whose parent is new in this file waits for its parent.
    while pending:
        level = [p for p in pending.values() if p.related.get("parent") not in pending]
        for plan in level:
            plan.instance.parent_id = pk_of.get(plan.related["parent"] or "")
        create_with_history([p.instance for p in level], Actor, **history(context))
        for plan in level:
            pk_of[plan.key] = plan.instance.pk
            del pending[plan.key]
    updated = [p for p in plans if p.action == "update" and p.changed_fields]
    for plan in updated:
        plan.instance.parent_id = pk_of.get(plan.related["parent"] or "")
    update_changed(updated, Actor, context)
    writes.actor_copies_changed(
        [p.instance.pk for p in updated if writes.POSITION_ACTOR_FIELDS & set(p.changed_fields)]
    )
    write_identifiers(planner, [p for p in plans if "identifiers" in p.related], context)


def write_identifiers(planner, plans, context):
    stored = planner.identifiers_by_actor
    # Deletions first: an identifier may move from one actor to another in one file.
    for plan in plans:
        wanted = set(plan.related["identifiers"])
        for identifier in stored.get(plan.key, []):
            if (identifier.scheme, identifier.identifier) not in wanted:
                delete_with_history(stored_identifier(identifier), context)
    to_create = []
    for plan in plans:
        current = {(i.scheme, i.identifier) for i in stored.get(plan.key, [])}
        to_create += [
            ActorIdentifier(actor=plan.instance, scheme=scheme, identifier=identifier)
            for scheme, identifier in plan.related["identifiers"]
            if (scheme, identifier) not in current
        ]
    create_with_history(to_create, ActorIdentifier, **history(context))


def stored_identifier(row):
    """The ActorIdentifier of a `matching.StoredIdentifier` row, as if loaded by a query."""
    return ActorIdentifier.from_db(
        connection.alias, ("id", "actor_id", "scheme", "identifier"), row
    )


# --- Statements -----------------------------------------------------------------------------


def write_statements(planner, plans, context):
    new = [p for p in plans if p.action == "new"]
    updated = [p for p in plans if p.action == "update"]
    for plan in new:
        plan.instance.created_by = plan.instance.updated_by = context.user
    Statement.objects.bulk_create([p.instance for p in new], batch_size=BATCH_SIZE)
    changed = [p for p in updated if p.changed_fields]
    if changed:
        now = timezone.now()
        fields = {f for p in changed for f in p.changed_fields}
        fields |= {"updated_at", "updated_by", "first_published_at", "retracted_at"}
        for plan in changed:
            plan.instance.updated_at, plan.instance.updated_by = now, context.user
        Statement.objects.bulk_update(
            [p.instance for p in changed], sorted(fields), batch_size=BATCH_SIZE
        )
    links = write_conditions(planner, new + updated)
    write_signatories(new, updated, context)
    writes.statements_changed([p.instance.pk for p in new + updated if moves_positions(p)])
    writes.conditions_named_changed([p.instance.pk for p in updated])
    changed_or_new = [p for p in new + updated if p.related["statement_changed"]]
    write_statement_history(changed_or_new, links, context)


def moves_positions(plan):
    """A new statement, or one whose position fields or signatures changed."""
    if plan.action == "new" or plan.related["signatories"] is not None:
        return True
    attnames = {Statement._meta.get_field(name).attname for name in plan.changed_fields}
    return bool(attnames & writes.POSITION_FIELDS)


def write_statement_history(plans, links, context):
    """One record per new or changed statement, with the conditions it names at that point
    (simple-history's m2m snapshot)."""
    records = []
    for is_update in (False, True):
        batch = [p for p in plans if (p.action == "update") == is_update]
        if not batch:
            continue
        created = Statement.history.bulk_history_create(
            [p.instance for p in batch],
            batch_size=BATCH_SIZE,
            update=is_update,
            **bulk_history(context),
        )
        records += zip(batch, created, strict=True)
    m2m_history = Statement.history.model.conditions.model
    m2m_history.objects.bulk_create(
        [
            m2m_history(
                history=record,
                id=links[plan.instance.pk][condition_id].pk,
                statement_id=plan.instance.pk,
                condition_id=condition_id,
            )
            for plan, record in records
            for condition_id in sorted(plan.related["conditions"])
        ],
        batch_size=BATCH_SIZE,
    )


def write_conditions(planner, plans):
    """Add and remove statement-condition links; return every statement's links."""
    through = Statement.conditions.through
    links = {}
    to_add, to_remove = [], []
    for plan in plans:
        current = dict(planner.condition_links.get(plan.instance.pk, {}))
        wanted = plan.related["conditions"]
        to_remove += [link.pk for cid, link in current.items() if cid not in wanted]
        for cid in wanted - set(current):
            current[cid] = through(statement_id=plan.instance.pk, condition_id=cid)
            to_add.append(current[cid])
        links[plan.instance.pk] = {cid: link for cid, link in current.items() if cid in wanted}
    for chunk in chunked(to_remove):
        through.objects.filter(pk__in=chunk).delete()
    through.objects.bulk_create(to_add, batch_size=BATCH_SIZE)
    return links


def write_signatories(new, updated, context):
    to_create = [
        Signatory(statement=p.instance, actor_id=actor_id, order=order, is_lead=is_lead)
        for p in new
        for actor_id, order, is_lead in p.related["signatories"]
    ]
    for plan in updated:
        if plan.related["signatories"] is not None:
            to_create += update_signatures(plan, context)
    create_with_history(to_create, Signatory, **history(context))


def update_signatures(plan, context):
    """Bring a stored statement's signatures in line; return the new ones to create."""
    wanted = {actor_id: (order, lead) for actor_id, order, lead in plan.related["signatories"]}
    current = {s.actor_id: s for s in plan.instance.signatures.all()}
    # Remove, then drop the old lead flag, then set the rest: the database allows one lead
    # per statement at every step.
    for actor_id, signature in current.items():
        if actor_id not in wanted:
            delete_with_history(signature, context)
    for actor_id, signature in current.items():
        if actor_id in wanted and signature.is_lead and not wanted[actor_id][1]:
            signature.is_lead = False
            save_with_history(signature, context)
    to_create = []
    for actor_id, (order, is_lead) in wanted.items():
        signature = current.get(actor_id)
        if signature is None:
            to_create.append(
                Signatory(statement=plan.instance, actor_id=actor_id, order=order, is_lead=is_lead)
            )
        elif (signature.order, signature.is_lead) != (order, is_lead):
            signature.order, signature.is_lead = order, is_lead
            save_with_history(signature, context)
    return to_create


# --- Formal acts ----------------------------------------------------------------------------


def write_acts(planner, plans, context):
    """
    New acts, then the objections and withdrawals that name a reservation new in this file
    (`related["regarding"]` is then its key), then the changed ones; memberships need no
    more than `write_simple`.
    """
    by_key = {p.key: p.instance for p in plans}
    waiting = [p for p in plans if isinstance(p.related.get("regarding"), str)]
    new = [
        p for p in plans if p.action == "new" and not isinstance(p.related.get("regarding"), str)
    ]
    create_with_history([p.instance for p in new], FormalAct, **history(context))
    for plan in waiting:
        plan.instance.regarding = by_key[plan.related["regarding"]]
    create_with_history(
        [p.instance for p in waiting if p.action == "new"], FormalAct, **history(context)
    )
    updated = [p for p in plans if p.action == "update"]
    update_changed(updated, FormalAct, context, stamps=("first_published_at", "retracted_at"))


WRITERS = {"actors": write_actors, "statements": write_statements, "acts": write_acts}
