"""
Institutions: memberships of organisation-actors (chambers, parties, blocs), the members of a
question's deciding body on a date, and the whip count of that body against the question's
rule. Positions themselves come from `stances.py` (the one place for the position rules):
a membership never gives an actor a stance, it only says whose stances are counted.
"""

import datetime
from dataclasses import dataclass, field

from django.db.models import CharField, Count, DateField, F, OuterRef, Q, Subquery, Value
from django.utils import timezone

from . import stances
from .models import Actor, ActorKind, Membership, Question, Stance
from .stances import STANCE_ORDER
from .urlprefix import page_url


def _none(field):
    return Value(None, output_field=field)


def _membership_columns(membership_side, relation):
    """The columns of a membership seen from `membership_side` ("member" or "organization")."""
    return {
        "relation": Value(relation, output_field=CharField()),
        "actor_name": F(f"{membership_side}__name"),
        "actor_slug": F(f"{membership_side}__slug"),
        "actor_kind": F(f"{membership_side}__kind"),
        "the_role": F("role"),
        "the_start_date": F("start_date"),
        "the_end_date": F("end_date"),
        "party_name": F("on_behalf_of__name"),
        "party_slug": F("on_behalf_of__slug"),
        "the_area": F("area"),
    }


def relations(actor, day, limit, *, visible=None):
    """
    What an actor page lists beside positions, in one query (a union of three indexed
    lookups): the organisations `actor` belongs to (every membership, with its dates,
    relation "membership"), the actors that are part of it (parent, relation "part") and its
    members on `day` (relation "member"). Plain rows, memberships first, then by name; at
    most `limit` of them (an organisation page lists a whole chamber). `visible`: the actors
    the reader may see (default: every actor); the others are left out.
    """
    visible = Actor.objects.all() if visible is None else visible
    held = Membership.objects.filter(member=actor, organization__in=visible).values(
        **_membership_columns("organization", "1-membership")
    )
    parts = visible.filter(parent=actor).values(
        relation=Value("2-part", output_field=CharField()),
        actor_name=F("name"),
        actor_slug=F("slug"),
        actor_kind=F("kind"),
        the_role=_none(CharField()),
        the_start_date=_none(DateField()),
        the_end_date=_none(DateField()),
        party_name=_none(CharField()),
        party_slug=_none(CharField()),
        the_area=_none(CharField()),
    )
    members = (
        Membership.objects.of(actor)
        .on(day)
        .filter(member__in=visible)
        .values(**_membership_columns("member", "3-member"))
    )
    # Each part unordered (SQLite refuses an ORDER BY inside a union): the union is sorted.
    held, parts, members = (part.order_by() for part in (held, parts, members))
    rows = held.union(parts, members, all=True).order_by("relation", "actor_name", "actor_slug")
    # Named apart from the model's fields (an annotation may not shadow one).
    return [
        Relation(
            **{key.removeprefix("the_"): value for key, value in row.items()},
        )
        for row in rows[:limit]
    ]


@dataclass
class Relation:
    """One row of `relations`: the other actor, and the membership's details if any."""

    relation: str
    actor_name: str
    actor_slug: str
    actor_kind: str
    role: str | None
    start_date: datetime.date | None
    end_date: datetime.date | None
    party_name: str | None
    party_slug: str | None
    area: str | None

    def __post_init__(self):
        self.relation = self.relation.split("-", 1)[1]  # The sort prefix goes.

    def get_absolute_url(self):
        return page_url("positions:actor", self.actor_slug)

    def get_actor_kind_display(self):
        return ActorKind(self.actor_kind).label


# --- An organisation's members on a date -----------------------------------------------------


def _held_on(organization, day):
    """
    The memberships that make an actor a member of `organization` on `day`: a membership of
    it, or (for a party) a seat held for it in another body ("on behalf of"), as the seed
    reports record the senators: members of the Senate on behalf of their party.
    """
    return Membership.objects.on(day).filter(
        Q(organization=organization) | Q(on_behalf_of=organization)
    )


def members_on(organization, day, visible=None):
    """
    The members of `organization` on `day` (see `_held_on`) as the membership shown for each,
    once per member, by the member's name: the one that started last if it holds several
    that day (its role, party and area), with its member, organisation and party loaded. A
    queryset, to filter and page through: its size never changes the number of queries.
    `visible`: the actors the reader may see.
    """
    held = _held_on(organization, day)
    visible = Actor.objects.all() if visible is None else visible
    latest = held.filter(member_id=OuterRef("member_id")).order_by(
        F("start_date").desc(nulls_last=True), "-pk"
    )
    return (
        held.filter(member__in=visible, pk=Subquery(latest.values("pk")[:1]))
        .select_related("member", "organization", "on_behalf_of")
        .order_by("member__name", "member_id")
    )


def named(members, text):
    """Those of `members` (from `members_on`) whose name, alias or identifier matches."""
    from .search import actor_search  # search imports the models; this module, stances

    return members.filter(member__in=Actor.objects.filter(actor_search(text)))


def sitting_for(members, organization, day, party_slug):
    """Those of `members` who hold a membership counted by `members_on` for that party."""
    held = _held_on(organization, day).filter(on_behalf_of__slug=party_slug)
    return members.filter(member_id__in=held.values("member_id"))


def parties_on(organization, day, visible=None):
    """`[(slug, name)]` of the parties the members sit for on `day`, by name: one query."""
    held = _held_on(organization, day).exclude(on_behalf_of=None)
    visible = Actor.objects.all() if visible is None else visible
    parties = visible.filter(pk__in=held.values("on_behalf_of_id")).order_by("name", "pk")
    return list(parties.values_list("slug", "name"))


def holding(members, question, stance, as_of=None):
    """
    Those of `members` whose position on `question` as of `as_of` is `stance`
    (`stances.current_positions`, the one rule); with `UNKNOWN`, those with no position.
    """
    holders = stances.current_positions(question, as_of).order_by()
    if stance == UNKNOWN:
        return members.exclude(member_id__in=holders.values("actor_id"))
    return members.filter(member_id__in=holders.filter(position_stance=stance).values("actor_id"))


def decided_by(organization, day):
    """
    A filter of the questions an organisation decides on `day`: those naming it as their
    deciding body and, for a party, those decided by a body its members sit in for it.
    """
    sits_in = Membership.objects.on(day).filter(on_behalf_of=organization)
    return Q(deciding_body=organization) | Q(deciding_body__in=sits_in.values("organization_id"))


def questions_in_view(organization, day):
    """
    Every question, narrow rows by topic and order, each with `decided` (`decided_by`): the
    members page's question menu and its columns, in one query.
    """
    return (
        Question.objects.order_by("topic__title", "topic_id", "display_order", "pk")
        .annotate(decided=Q(decided_by(organization, day)))
        .values("pk", "title", "short_label", "slug", "topic__title", "topic__slug", "decided")
    )


# --- The whip count -------------------------------------------------------------------------

UNKNOWN = "unknown"  # No known position: the member has no counting statement.
WHIP_ORDER = [*STANCE_ORDER, UNKNOWN]
WHIP_LABELS = {**{s: Stance(s).label for s in STANCE_ORDER}, UNKNOWN: "No known position"}
NO_PARTY = "No party recorded"


@dataclass
class GroupCounts:
    """The body's members of one group (a party, a kind of actor), counted by stance."""

    name: str
    slug: str | None = None
    counts: dict = field(default_factory=lambda: dict.fromkeys(WHIP_ORDER, 0))

    @property
    def total(self):
        return sum(self.counts.values())

    @property
    def cells(self):
        return [self.counts[s] for s in WHIP_ORDER]


@dataclass
class WhipCount:
    """
    The members of a question's deciding body on `day`, counted by their positions against
    the votes `needed`. Conditional supporters are counted apart: they count towards the
    threshold only if their conditions are met, and a condition marked met moves nobody by
    itself (a member moves when it makes a new statement).
    """

    day: datetime.date
    needed: int | None
    seats: int | None
    rule: str
    counts: dict
    conditions: list  # `stances.ConditionNamed`, named by the conditional members
    by_party: list
    by_kind: list

    @property
    def members(self):
        return sum(self.counts.values())

    @property
    def supports(self):
        return self.counts[Stance.SUPPORTS]

    @property
    def conditional(self):
        return self.counts[Stance.CONDITIONAL]

    @property
    def opposes(self):
        return self.counts[Stance.OPPOSES]

    @property
    def undecided(self):
        return self.counts[Stance.UNDECIDED]

    @property
    def unknown(self):
        return self.counts[UNKNOWN]

    @property
    def with_conditions(self):
        """Supporters, and the conditional supporters if their conditions were met."""
        return self.supports + self.conditional

    @property
    def vacant(self):
        return max((self.seats or 0) - self.members, 0)

    @property
    def summary(self):
        """'57 of the 67 needed: 40 support, 17 only on conditions, 20 oppose, ...'."""
        counted = (
            f"{self.supports} support, {self.conditional} only on conditions, "
            f"{self.opposes} oppose, {self.undecided} undecided, {self.unknown} unknown"
        )
        if self.needed is None:
            return f"{self.with_conditions} in favour: {counted}."
        return f"{self.with_conditions} of the {self.needed} needed: {counted}."

    @property
    def verdict(self):
        if self.needed is None:
            return ""
        if self.supports >= self.needed:
            return "Enough support without the conditional supporters."
        if self.with_conditions >= self.needed:
            short = self.needed - self.supports
            return (
                f"Enough only if conditions are met: {short} more needed beyond the "
                f"unconditional supporters."
            )
        return f"{self.needed - self.with_conditions} short, even if every condition is met."

    @property
    def rows(self):
        """The table: (key, label, count) in the bar's order."""
        return [(s, WHIP_LABELS[s], self.counts[s]) for s in WHIP_ORDER]

    @property
    def bar(self):
        """Segments and the threshold as percentages of the bar: all seats, or more."""
        scale = max(self.seats or 0, self.members, self.needed or 0, 1)
        segments, offset = [], 0.0
        for stance in WHIP_ORDER:
            width = 100.0 * self.counts[stance] / scale
            if width:
                segments.append({"stance": stance, "x": round(offset, 3), "width": round(width, 3)})
            offset += width
        marker = None if self.needed is None else round(100.0 * self.needed / scale, 3)
        return {"segments": segments, "threshold_x": marker}


def whip_count(question, as_of=None, conditions_shown=12):
    """
    The whip count of `question` as of `as_of` (default today) if it names a deciding body,
    else None. The members are the actors with a membership of the body on the day (any
    role; a member with two memberships that day counts once, for the party of the one that
    started last); their positions are `stances.current_positions(question, as_of)`. Two
    queries whatever the size of the body: the members grouped by kind, party and position,
    and the conditions the conditional members' deciding statements name.
    """
    if question.deciding_body_id is None:
        return None
    day = as_of or timezone.localdate()
    memberships = Membership.objects.filter(organization_id=question.deciding_body_id).on(day)
    positions = stances.current_positions(question, as_of)

    seat = memberships.exclude(on_behalf_of=None).order_by(
        F("start_date").desc(nulls_last=True), "-pk"
    )
    members = Actor.objects.filter(pk__in=memberships.values("member_id"))
    rows = (
        members.annotate(
            whip_stance=Subquery(
                positions.filter(actor_id=OuterRef("pk")).order_by().values("position_stance")[:1]
            ),
            party_name=Subquery(
                seat.filter(member_id=OuterRef("pk")).values("on_behalf_of__name")[:1]
            ),
            party_slug=Subquery(
                seat.filter(member_id=OuterRef("pk")).values("on_behalf_of__slug")[:1]
            ),
        )
        .order_by()
        .values_list("kind", "party_name", "party_slug", "whip_stance")
        .annotate(number=Count("pk"))
    )
    counts = dict.fromkeys(WHIP_ORDER, 0)
    parties, kinds = {}, {}
    for kind, party_name, party_slug, stance, number in rows:
        stance = stance or UNKNOWN
        counts[stance] += number
        party = parties.setdefault(party_slug, GroupCounts(party_name or NO_PARTY, party_slug))
        party.counts[stance] += number
        group = kinds.setdefault(kind, GroupCounts(ActorKind(kind).label))
        group.counts[stance] += number
    conditional = positions.filter(
        actor_id__in=memberships.values("member_id"), position_stance=Stance.CONDITIONAL
    )
    return WhipCount(
        day=day,
        needed=question.threshold(),
        seats=question.seats,
        rule=question.threshold_description,
        counts=counts,
        conditions=stances.conditions_named(conditional, conditions_shown),
        by_party=sorted(parties.values(), key=lambda g: (g.slug is None, -g.total, g.name)),
        by_kind=sorted(kinds.values(), key=lambda g: (-g.total, g.name)),
    )
