"""
Institutions: memberships of organisation-actors (chambers, parties, blocs), the members of a
question's deciding body on a date, and the whip count of that body against the question's
rule. Positions themselves come from `stances.py` (the one place for the position rules):
a membership never gives an actor a stance, it only says whose stances are counted.
"""

import datetime
from dataclasses import dataclass

from django.db.models import CharField, DateField, F, Value
from django.urls import reverse

from .models import Actor, ActorKind, Membership


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


def relations(actor, day, limit):
    """
    What an actor page lists beside positions, in one query (a union of three indexed
    lookups): the organisations `actor` belongs to (every membership, with its dates,
    relation "membership"), the actors that are part of it (parent, relation "part") and its
    members on `day` (relation "member"). Plain rows, memberships first, then by name; at
    most `limit` of them (an organisation page lists a whole chamber).
    """
    held = Membership.objects.filter(member=actor).values(
        **_membership_columns("organization", "1-membership")
    )
    parts = Actor.objects.filter(parent=actor).values(
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
        Membership.objects.of(actor).on(day).values(**_membership_columns("member", "3-member"))
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
        return reverse("positions:actor", args=[self.actor_slug])

    def get_actor_kind_display(self):
        return ActorKind(self.actor_kind).label
