"""
Merging a duplicate actor into the actor to keep: the one place that does it (the admin
only calls `plan_merge` to show what will move and `merge_actors` to do it).

Everything that points at the duplicate moves to the kept actor: its signatures, identifiers,
memberships (those it holds and those of its members), formal acts, child actors, the
questions it decides, the redirects of actors merged into it before, and whatever relation
to actors a later model adds (found from the model's metadata, so none is forgotten). Its
name and aliases become aliases of the kept actor; the kept actor's blank fields (country,
description, website, parent) take the duplicate's values. Then:

- two signatures of one statement (both actors signed it) become one, the lead if either was;
- an identifier both hold, or a membership both hold (same organisation, role and start),
  stays once; a membership of one in the other goes (an actor is no member of itself);
- two different identifiers in a register that gives one to each actor
  (`ActorIdentifier.ONE_PER_ACTOR`) mean two entries of that register: the merge is refused;
- so is a merge of an actor into itself or into one of its own parts (a loop of parents);
- the duplicate's slug redirects to the kept actor (`ActorRedirect`), and the duplicate is
  deleted; the history of the kept actor, of every row moved and of the duplicate names the
  merge.

It runs in one write session (`writes.writing`), which recomputes the positions of the
statements whose signatures moved and bumps the page cache. The number of queries does not
grow with the number of signatures or other rows moved: each kind is read, updated and given
its history rows in bulk.
"""

from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalChanges

from . import writes
from .folding import fold
from .models import (
    Actor,
    ActorIdentifier,
    ActorRedirect,
    Membership,
    Position,
    Signatory,
)

# The actor's fields a merge fills on the kept actor when they are blank there.
FILLED_FIELDS = ("country", "description", "website", "parent")


class MergeRefused(ValueError):
    """The merge cannot be done as asked; the message says why. Nothing was changed."""


@dataclass
class MergePlan:
    """What a merge of `duplicate` into `keep` moves, combines and drops (read, not written)."""

    keep: Actor
    duplicate: Actor
    error: str = ""
    signatures_moved: list = field(default_factory=list)
    # (the duplicate's signature, the kept actor's on the same statement)
    signatures_combined: list = field(default_factory=list)
    identifiers_moved: list = field(default_factory=list)
    identifiers_combined: list = field(default_factory=list)
    memberships_moved: list = field(default_factory=list)  # held, of members, on behalf of
    memberships_combined: list = field(default_factory=list)  # the kept actor holds the same
    memberships_dropped: list = field(default_factory=list)  # of one actor in the other
    # Other relations: label -> rows, e.g. "formal acts", "child actors", "questions decided".
    others: dict = field(default_factory=dict)
    aliases_added: list = field(default_factory=list)
    fields_filled: dict = field(default_factory=dict)  # field -> the duplicate's value
    # The duplicate's values that differ from the kept actor's and are not kept.
    values_not_kept: dict = field(default_factory=dict)

    @property
    def statement_ids(self):
        signatures = [*self.signatures_moved, *(dup for dup, _ in self.signatures_combined)]
        return sorted({s.statement_id for s in signatures})

    @property
    def change_reason(self):
        return f"Merged “{self.duplicate.name}” ({self.duplicate.slug}) into this actor"

    @property
    def moved_count(self):
        return (
            len(self.signatures_moved)
            + len(self.identifiers_moved)
            + len(self.memberships_moved)
            + sum(len(rows) for rows in self.others.values())
        )


def plan_merge(keep, duplicate):
    """What merging `duplicate` into `keep` would do, or why it cannot (`error`). Reads only."""
    plan = MergePlan(keep=keep, duplicate=duplicate)
    plan.error = _refusal(keep, duplicate)
    if plan.error:
        return plan
    _plan_signatures(plan)
    _plan_identifiers(plan)
    if plan.error:
        return plan
    _plan_memberships(plan)
    for model, field_name, label in other_relations():
        rows = list(model._default_manager.filter(**{field_name: duplicate}).order_by("pk"))
        for row in rows:
            setattr(row, field_name, duplicate)  # Their names need no query.
        if rows:
            plan.others[label] = rows
    _plan_fields(plan)
    return plan


def merge_actors(keep, duplicate, user):
    """
    Merge `duplicate` into `keep` for `user` and return the `MergePlan` it carried out.
    Raises `MergeRefused`, changing nothing, if the merge cannot be done. In the caller's
    write session, or one of its own.
    """
    with writes.writing():
        # Both rows as they stand, locked until the session commits: no edit slips between
        # the plan and the writes.
        locked = {
            a.pk: a
            for a in Actor.objects.select_for_update().filter(pk__in=[keep.pk, duplicate.pk])
        }
        if keep.pk not in locked or duplicate.pk not in locked:
            raise MergeRefused("One of the two actors no longer exists.")
        plan = plan_merge(locked[keep.pk], locked[duplicate.pk])
        if plan.error:
            raise MergeRefused(plan.error)
        _write(plan, user)
    return plan


# --- Planning ----------------------------------------------------------------------------------


def _refusal(keep, duplicate):
    if keep.pk == duplicate.pk:
        return "An actor cannot be merged into itself: choose another actor to keep."
    # The kept actor must not be one of the duplicate's parts: its children would move to it
    # and it would become a part of itself.
    if duplicate.pk in _ancestor_ids(keep):
        return (
            f"“{keep}” is part of “{duplicate}” (its parents lead there): merging “{duplicate}” "
            f"into it would make it a part of itself. Keep “{duplicate}” instead, or change "
            f"the parent of “{keep}” first."
        )
    return ""


def _ancestor_ids(actor):
    """The ids up the actor's parent chain (one query a level; a loop in the data ends it)."""
    ancestors, ancestor_id = [], actor.parent_id
    while ancestor_id is not None and ancestor_id not in ancestors and ancestor_id != actor.pk:
        ancestors.append(ancestor_id)
        ancestor_id = (
            Actor.objects.filter(pk=ancestor_id).values_list("parent_id", flat=True).first()
        )
    return ancestors


def _plan_signatures(plan):
    signatures = list(
        Signatory.objects.filter(actor__in=[plan.keep, plan.duplicate])
        .filter(statement__in=Signatory.objects.filter(actor=plan.duplicate).values("statement"))
        .select_related("statement__question")
        .order_by("statement_id", "pk")
    )
    kept = {s.statement_id: s for s in signatures if s.actor_id == plan.keep.pk}
    for signature in signatures:
        if signature.actor_id != plan.duplicate.pk:
            continue
        if signature.statement_id in kept:
            plan.signatures_combined.append((signature, kept[signature.statement_id]))
        else:
            plan.signatures_moved.append(signature)


def _plan_identifiers(plan):
    identifiers = list(
        ActorIdentifier.objects.filter(actor__in=[plan.keep, plan.duplicate]).order_by("pk")
    )
    kept = [i for i in identifiers if i.actor_id == plan.keep.pk]
    kept_pairs = {(i.scheme, i.identifier) for i in kept}
    kept_by_scheme = {i.scheme: i for i in kept}
    conflicts = []
    for identifier in identifiers:
        if identifier.actor_id != plan.duplicate.pk:
            continue
        if (identifier.scheme, identifier.identifier) in kept_pairs:
            plan.identifiers_combined.append(identifier)
            continue
        other = kept_by_scheme.get(identifier.scheme)
        if other is not None and identifier.scheme in ActorIdentifier.ONE_PER_ACTOR:
            conflicts.append(
                f"“{plan.keep}” has {identifier.scheme} {other.identifier} and “{plan.duplicate}” "
                f"has {identifier.scheme} {identifier.identifier}"
            )
            continue
        plan.identifiers_moved.append(identifier)
    if conflicts:
        plan.error = (
            "These actors hold different identifiers in a register that gives each actor one: "
            + "; ".join(conflicts)
            + ". They look like two different actors. If one identifier is wrong, remove it "
            "from its actor first, then merge."
        )


def _plan_memberships(plan):
    keep, duplicate = plan.keep.pk, plan.duplicate.pk
    touching = list(
        Membership.objects.filter(
            Q(member__in=[keep, duplicate])
            | Q(organization__in=[keep, duplicate])
            | Q(on_behalf_of=duplicate)
        )
        .select_related("member", "organization")
        .order_by("pk")
    )

    def moved(pk):
        return keep if pk == duplicate else pk

    # What the kept actor holds already, and the memberships of its members.
    held = {
        (m.member_id, m.organization_id, m.role, m.start_date)
        for m in touching
        if duplicate not in (m.member_id, m.organization_id)
    }
    for membership in touching:
        sides = (membership.member_id, membership.organization_id)
        if duplicate not in sides:
            if membership.on_behalf_of_id == duplicate:
                plan.memberships_moved.append(membership)  # Only "on behalf of" moves.
            continue
        member, organization = moved(membership.member_id), moved(membership.organization_id)
        if member == organization:
            plan.memberships_dropped.append(membership)
        elif (member, organization, membership.role, membership.start_date) in held:
            plan.memberships_combined.append(membership)
        else:
            plan.memberships_moved.append(membership)


# Relations of actors handled by name above, or derived (positions follow the write session).
HANDLED = {
    (Signatory, "actor"),
    (ActorIdentifier, "actor"),
    (Membership, "member"),
    (Membership, "organization"),
    (Membership, "on_behalf_of"),
    (Position, "actor"),
}
LABELS = {
    (Actor, "parent"): "child actors (parts of it)",
    (ActorRedirect, "actor"): "addresses of actors merged into it before",
}


def other_relations():
    """Every other foreign key to actors: `(model, field name, label)`."""
    for relation in Actor._meta.get_fields(include_hidden=True):
        if not (relation.is_relation and relation.auto_created and not relation.concrete):
            continue  # Not a reverse relation.
        if relation.many_to_many:
            continue  # Statement.actors: its rows are the signatures.
        model, name = relation.related_model, relation.field.name
        if issubclass(model, HistoricalChanges) or (model, name) in HANDLED:
            continue  # History keeps what was; the rest is handled above.
        label = LABELS.get((model, name))
        if label is None:
            label = str(model._meta.verbose_name_plural)
            if name != "actor":
                label += f" ({relation.field.verbose_name})"
        yield model, name, label


def _plan_fields(plan):
    keep, duplicate = plan.keep, plan.duplicate
    known = {fold(keep.name), *(fold(a) for a in keep.alias_list)}
    for alias in [duplicate.name, *duplicate.alias_list]:
        if fold(alias) not in known:
            plan.aliases_added.append(alias)
            known.add(fold(alias))
    for name in ("kind", *FILLED_FIELDS):
        ours, theirs = _value(keep, name), _value(duplicate, name)
        if not theirs or ours == theirs:
            continue
        if name != "kind" and not ours and not (name == "parent" and _would_loop(keep, duplicate)):
            plan.fields_filled[name] = getattr(duplicate, name)
        else:
            plan.values_not_kept[name] = _display(duplicate, name)


def _value(actor, name):
    if name == "parent":
        return actor.parent_id
    value = getattr(actor, name)
    return getattr(value, "code", value) or ""


def _display(actor, name):
    if name == "kind":
        return actor.get_kind_display()
    if name == "country":
        return actor.country_name
    return str(getattr(actor, name))


def _would_loop(keep, duplicate):
    """Whether the duplicate's parent is the kept actor or one of its parts."""
    parent = duplicate.parent_id
    return parent in (keep.pk, duplicate.pk) or keep.pk in _ancestor_ids(duplicate.parent)


# --- Writing -----------------------------------------------------------------------------------


def _write(plan, user):
    keep, duplicate = plan.keep, plan.duplicate
    reason = plan.change_reason
    history = {"user": user, "reason": reason}
    # Rows that would collide go first (a second signature, the second lead of a statement).
    _delete_with_history(Signatory, [dup for dup, _ in plan.signatures_combined], **history)
    _delete_with_history(ActorIdentifier, plan.identifiers_combined, **history)
    _delete_with_history(
        Membership, [*plan.memberships_combined, *plan.memberships_dropped], **history
    )
    # One signature per statement: the lead if either was, in the first place either held.
    combined = []
    for dup, kept in plan.signatures_combined:
        if (dup.is_lead and not kept.is_lead) or dup.order < kept.order:
            kept.is_lead = kept.is_lead or dup.is_lead
            kept.order = min(kept.order, dup.order)
            combined.append(kept)
    if combined:
        Signatory.objects.bulk_update(combined, ["is_lead", "order"])
        _bulk_history(Signatory, combined, "~", user, reason)
    _move(Signatory, "actor", plan.signatures_moved, keep, **history)
    _move(ActorIdentifier, "actor", plan.identifiers_moved, keep, **history)
    _move_memberships(plan, **history)
    for model, name, label in other_relations():
        _move(model, name, plan.others.get(label, []), keep, **history)

    # The kept actor: blanks filled, the duplicate's names as aliases, the merge in its history.
    for name, value in plan.fields_filled.items():
        setattr(keep, name, value)
    if plan.aliases_added:
        keep.aliases = "\n".join([*keep.alias_list, *plan.aliases_added])
    keep._history_user = user
    keep._change_reason = reason
    writes.save(keep)

    # The duplicate goes; its history's last row says where it went, its slug redirects.
    old_slug = duplicate.slug
    duplicate._history_user = user
    duplicate._change_reason = f"Merged into “{keep.name}” ({keep.slug})"
    writes.delete(duplicate)
    # An old slug merged once before (an actor made later with it, now merged too) moves on.
    if not ActorRedirect.objects.filter(old_slug=old_slug).update(actor=keep):
        ActorRedirect.objects.create(old_slug=old_slug, actor=keep)
    writes.statements_changed(plan.statement_ids)
    writes.records_changed()


def _move(model, field_name, rows, keep, *, user, reason):
    """Point `rows` of `model` at `keep` in one update, with a history row each (in bulk)."""
    if not rows:
        return
    changes = {field_name: keep}
    if any(f.name == "updated_at" for f in model._meta.concrete_fields):
        changes["updated_at"] = timezone.now()
    model._default_manager.filter(pk__in=[row.pk for row in rows]).update(**changes)
    for row in rows:
        for name, value in changes.items():
            setattr(row, name, value)
    _bulk_history(model, rows, "~", user, reason)


def _move_memberships(plan, *, user, reason):
    """Memberships point at the kept actor on each side (one update per side, not per row)."""
    keep, duplicate = plan.keep, plan.duplicate
    rows = plan.memberships_moved
    if not rows:
        return
    now = timezone.now()
    ids = [m.pk for m in rows]
    for name in ("member", "organization", "on_behalf_of"):
        Membership.objects.filter(pk__in=ids, **{name: duplicate}).update(
            **{name: keep, "updated_at": now}
        )
    # "On behalf of" itself makes no sense: a legislator does not sit for itself.
    Membership.objects.filter(pk__in=ids, member=keep, on_behalf_of=keep).update(on_behalf_of=None)
    for membership in rows:
        for name in ("member", "organization", "on_behalf_of"):
            if getattr(membership, f"{name}_id") == duplicate.pk:
                setattr(membership, name, keep)
        if membership.on_behalf_of_id == membership.member_id:
            membership.on_behalf_of = None
        membership.updated_at = now
    _bulk_history(Membership, rows, "~", user, reason)


def _delete_with_history(model, rows, *, user, reason):
    """
    Delete `rows` in one query, with their deletion in their history in one more. Their
    models have nothing that cascades from them; the write session records what they moved.
    """
    if not rows:
        return
    _bulk_history(model, rows, "-", user, reason)
    # A plain delete, not the model's signals: simple-history would write a second row for
    # each, one query at a time.
    model._default_manager.filter(pk__in=[row.pk for row in rows])._raw_delete(
        model._default_manager.db
    )


def _bulk_history(model, rows, history_type, user, reason):
    """History rows for `rows` as they now stand, in bulk (simple-history's own row format)."""
    manager_name = getattr(model._meta, "simple_history_manager_attribute", None)
    if manager_name is None:
        return  # A model without history (the redirects).
    history = getattr(model, manager_name).model
    now = timezone.now()
    history.objects.bulk_create(
        [
            history(
                history_date=now,
                history_user=user,
                history_change_reason=reason,
                history_type=history_type,
                **{f.attname: getattr(row, f.attname) for f in history.tracked_fields},
            )
            for row in rows
        ]
    )
