"""
The planners of the types that link actors to other records: memberships (an actor in an
organisation) and formal acts (an actor's step on a topic). Neither has a key column of
its own: the key is the natural one the model's constraints keep, written as text so the
preview and the errors can name it, and matched once the file's actors are resolved (a
row may name an actor by slug in one file and by `bioguide:W000779` in the next).
"""

import datetime

from .. import editorial
from ..models import ActKind, FormalAct, Membership, Topic
from ..stances import chunked
from .cells import BlankCell, CellError, parse_choice
from .lookups import ActorLookup, SourceLookup
from .planning import Planner, RowError


def iso_or_raw(value):
    """A date cell as its key writes it: YYYY-MM-DD when it parses, else as written (the
    date's own parser reports it)."""
    value = value.strip()
    try:
        return datetime.date.fromisoformat(value).isoformat() if value else ""
    except ValueError:
        return value


def normal_role(role):
    """A role as the key compares it: `cells.parse_role`'s lower case, single spaces."""
    return " ".join(role.split()).lower()


class LinkedPlanner(ActorLookup, SourceLookup, Planner):
    """What memberships and acts share: actors by slug or identifier, sources, a natural
    key resolved in `prepare`, and one row per resolved key."""

    actor_columns = ()  # the key's actor columns
    required_columns = ()  # key columns that cannot be empty

    def key_errors(self, number, row, key):
        return [
            RowError(number, name, f"The {name.replace('_', ' ')} cannot be empty.")
            for name in self.required_columns
            if not row.get(name, "").strip()
        ]

    def match(self, number, key):
        return self.resolved.get(key, (key, ""))

    def key_actor(self, value):
        """A key's actor; an empty cell is `key_errors`' to report."""
        if not value.strip():
            raise BlankCell
        return self.actor_of(value)

    def plan_row(self, number, row):
        plan, errors = super().plan_row(number, row)
        if plan is not None:
            first = self.planned.setdefault(plan.key, number)
            if first != number:
                message = f"This row and row {first} are the same record ({plan.key})."
                return None, [RowError(number, self.file_type.key_column, message)]
        return plan, errors

    def resolve_rows(self, rows, canonical):
        """raw key -> (resolved key, how it matched), for rows whose actors are all known."""
        self.resolved, self.planned = {}, {}
        for row in rows:
            key = self.row_key(row)
            references = [row.get(name, "").strip() for name in self.actor_columns]
            if not key or any(r not in self.actors for r in references):
                continue
            slugs = [self.actors[r].slug for r in references]
            self.resolved[key] = (canonical(row, *slugs), self.matched_by(references))

    def label(self, model_field, pk):
        if model_field.name == "source":
            return self.source_label(pk)
        return self.actor_slugs.get(pk, f"#{pk}")


class MembershipPlanner(LinkedPlanner):
    """Keyed on member + organisation + role + start date, as `membership_once` is."""

    parsed_fields = frozenset({"start_date", "end_date", "area"})
    actor_columns = ("member", "organization")
    required_columns = ("member", "organization")

    @staticmethod
    def key_text(member, organization, role, start):
        return f"{member} in {organization} as {role} " + (f"from {start}" if start else "undated")

    def row_key(self, row):
        member, organization = row.get("member", "").strip(), row.get("organization", "").strip()
        if not member or not organization:
            return ""
        role = normal_role(row.get("role", "")) or "member"
        return self.key_text(member, organization, role, iso_or_raw(row.get("start_date", "")))

    def canonical(self, row, member, organization):
        role = normal_role(row.get("role", "")) or "member"
        return self.key_text(member, organization, role, iso_or_raw(row.get("start_date", "")))

    def prepare(self, rows):
        columns = (*self.actor_columns, "on_behalf_of")
        self.prepare_actors({r.get(c, "") for r in rows for c in columns})
        self.prepare_sources({r.get("source", "").strip() for r in rows} - {""})
        self.resolve_rows(rows, self.canonical)
        member_ids = sorted({a.pk for r in rows if (a := self.actors.get(r.get("member", "")))})
        organization_ids = {a.pk for r in rows if (a := self.actors.get(r.get("organization", "")))}
        self.existing = {}
        for chunk in chunked(member_ids):
            stored = Membership.objects.filter(
                member_id__in=chunk, organization_id__in=organization_ids
            )
            for membership in stored:
                start = membership.start_date.isoformat() if membership.start_date else ""
                key = self.key_text(
                    self.actor_slugs[membership.member_id],
                    self.actor_slugs[membership.organization_id],
                    # A role typed "Chair" in the admin is the file's "chair" (the row
                    # then writes it in lower case).
                    normal_role(membership.role),
                    start,
                )
                self.existing[key] = membership
        self.load_actor_slugs(m.on_behalf_of_id for m in self.existing.values())

    def parse_member(self, value):
        return self.key_actor(value)

    def parse_organization(self, value):
        return self.key_actor(value)

    def parse_on_behalf_of(self, value):
        return self.actor_of(value) if value.strip() else None

    def new_instance(self, key, related):
        return Membership()


class ActPlanner(LinkedPlanner):
    """
    Keyed on actor + topic + kind + date. Several reservations deposited on one day are one
    act with all their words, as depositaries' status tables print them. Acts follow the
    statements' editorial rules (`positions/editorial.py`): drafts by anyone, published or
    retracted ones by Publishers, and a published act needs a source (the model's rule).
    """

    parsed_fields = frozenset({"kind", "date", "status"})
    actor_columns = ("actor",)
    required_columns = ("actor", "topic")

    @staticmethod
    def key_text(actor, topic, kind, date):
        return f"{actor} {kind} of {topic} on {date}"

    @staticmethod
    def kind_of(row):
        try:
            return parse_choice(row.get("kind", ""), ActKind)
        except CellError:
            return row.get("kind", "").strip()

    def row_key(self, row):
        actor, topic = row.get("actor", "").strip(), row.get("topic", "").strip()
        kind, date = self.kind_of(row), iso_or_raw(row.get("date", ""))
        if not (actor and topic and kind and date):
            return ""
        return self.key_text(actor, topic, kind, date)

    def canonical(self, row, actor):
        date = iso_or_raw(row.get("date", ""))
        return self.key_text(actor, row.get("topic", "").strip(), self.kind_of(row), date)

    def prepare(self, rows):
        regarding = [r.get("regarding", "").strip().rpartition("/") for r in rows]
        self.prepare_actors({r.get("actor", "") for r in rows} | {a for a, _, _ in regarding})
        self.prepare_sources({r.get("source", "").strip() for r in rows} - {""})
        self.topics = {
            t.slug: t for t in Topic.objects.filter(slug__in={r.get("topic", "") for r in rows})
        }
        self.resolve_rows(rows, self.canonical)
        actor_ids = sorted({a.pk for a in self.actors.values()})
        self.existing, self.ambiguous, self.reservations = {}, set(), {}
        slug_of_topic = {t.pk: slug for slug, t in self.topics.items()}
        for chunk in chunked(actor_ids):
            stored = FormalAct.objects.filter(
                actor_id__in=chunk, topic__in=self.topics.values()
            ).select_related("regarding")
            for act in stored:
                date = act.date.isoformat()
                actor = self.actor_slugs[act.actor_id]
                key = self.key_text(actor, slug_of_topic[act.topic_id], act.kind, date)
                if key in self.existing:
                    self.ambiguous.add(key)
                self.existing[key] = act
                if act.kind == ActKind.RESERVATION:
                    self.reservations[(act.topic_id, actor, date)] = act
        self.stored_status = {act.pk: act.status for act in self.existing.values()}
        self.load_actor_slugs(a.regarding.actor_id for a in self.existing.values() if a.regarding)
        # The file's new reservations, which its objections and withdrawals may name.
        self.file_reservations = {}
        for key, _ in self.resolved.values():
            actor, _, rest = key.partition(f" {ActKind.RESERVATION.value} of ")
            if rest and key not in self.existing:
                topic, _, date = rest.partition(" on ")
                self.file_reservations[(topic, actor, date)] = key
        self.topic = None

    def key_errors(self, number, row, key):
        errors = super().key_errors(number, row, key)
        resolved, _ = self.match(number, key)
        if resolved in self.ambiguous:
            message = (
                f"Several stored acts are {resolved}: merge them in the admin (one act may "
                "hold every reservation of a day), then import again."
            )
            errors.append(RowError(number, "kind", message))
        return errors

    def parse_actor(self, value):
        return self.key_actor(value)

    def parse_topic(self, value):
        self.topic = self.topics.get(value.strip())
        if self.topic is None:
            raise CellError(f"Unknown topic '{value}': import it in a topics file first.")
        return self.topic

    def parse_regarding(self, value):
        """`actor/YYYY-MM-DD`: a reservation on the row's topic, stored or in the file."""
        value = value.strip()
        if not value:
            return None
        reference, slash, date = value.rpartition("/")
        if not slash or not reference:
            raise CellError(
                f"'{value}' does not name a reservation: write actor/YYYY-MM-DD, e.g. "
                "austria/2021-03-01."
            )
        actor = self.actor_of(reference)
        date = iso_or_raw(date)
        if self.topic is None:
            raise BlankCell  # the unknown topic has its own error
        stored = self.reservations.get((self.topic.pk, actor.slug, date))
        if stored is not None:
            return stored
        in_file = self.file_reservations.get((self.topic.slug, actor.slug, date))
        if in_file is not None:
            return in_file
        raise CellError(
            f"No reservation of '{actor.slug}' on {self.topic.slug} is dated {date}, in the "
            "database or in this file."
        )

    def new_instance(self, key, related):
        return FormalAct()

    def relate(self, number, instance, existing, changed, related, errors):
        if "regarding" not in related:
            related["regarding"] = None  # the column is left out: the stored one stays
            return False
        wanted = related["regarding"]
        stored_id = existing.regarding_id if existing else None
        if isinstance(wanted, FormalAct) and wanted.pk == stored_id:
            related["regarding"] = None
            return False
        if wanted is None and stored_id is None:
            return False
        if isinstance(wanted, str) and instance.kind not in (
            ActKind.OBJECTION,
            ActKind.RESERVATION_WITHDRAWAL,
        ):
            errors.append(
                RowError(
                    number, "regarding", "Only an objection or a withdrawal refers to another act."
                )
            )
            return False
        if existing is not None:
            old = self.regarding_text(existing.regarding) if stored_id else ""
            new = wanted if isinstance(wanted, str) else self.regarding_text(wanted)
            if not self.note_change("regarding", old, new):
                related["regarding"] = None
                return False
        # A reservation new in this file is set when it is written (`writing.write_acts`).
        instance.regarding = wanted if isinstance(wanted, FormalAct) else None
        changed.append("regarding")
        return True

    def regarding_text(self, act):
        if act is None:
            return ""
        return f"{self.actor_slugs.get(act.actor_id, act.actor_id)}/{act.date.isoformat()}"

    def check(self, number, instance, existing, errors):
        stored_status = self.stored_status[existing.pk] if existing else None
        message = editorial.transition(
            instance, instance.status, self.context.acting_user, stored_status=stored_status
        )
        if message:
            errors.append(RowError(number, "status", message))

    def label(self, model_field, pk):
        if model_field.name == "topic":
            return {t.pk: slug for slug, t in self.topics.items()}.get(pk, f"#{pk}")
        return super().label(model_field, pk)
