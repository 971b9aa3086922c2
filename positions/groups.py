"""
Splits of a board by group: its positions counted by stance for each group of actors (by
kind, by country, by bloc, by party of the question's deciding body), and the board filtered
to one group. The positions come from `stances.current_positions` (the position rules);
memberships only say which group an actor is in on the day asked about, never its stance.

Each split is one SQL query (a GROUP BY over the positions joined to actors and memberships),
whatever the number of actors; filtering by a group adds nothing (the filter is part of the
board's own queries).

- **kind**: the actor's kind.
- **country**: the actor's country; without one, the country of the area (ISO 3166-2) of a
  membership it holds that day; without one, its ISO 3166-1 identifier.
- **bloc**: the organisations of a bloc kind (`BLOC_KINDS`) the actor is a member of that day.
  An actor in several blocs is counted in each of them, so the rows may add up to more than
  the board; those in none are counted once, under "In no bloc".
- **party**: for a question with a deciding body, the party a member sits for ("on behalf
  of") in its membership of the body that day; the members without one, and the actors who
  are not members, are counted apart.
"""

import functools
from dataclasses import dataclass, field

import pycountry
from django.db.models import CharField, Count, Exists, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, NullIf, Substr
from django.utils import timezone

from .models import ActorIdentifier, ActorKind, Membership
from .stances import STANCE_ORDER, kind_counts
from .states import SCHEME as ISO_SCHEME
from .states import readable_name

# The kinds of organisation whose members form a bloc or a coalition: intergovernmental
# bodies (the EU, the African Union, the G77) and civil-society groups of groups (a coalition
# of NGOs). Chambers and parties (legislative groups) are the deciding body's and its parties'.
BLOC_KINDS = (ActorKind.INTERGOVERNMENTAL, ActorKind.NGO)

SPLITS = {
    "kind": "Kind of actor",
    "country": "Country",
    "bloc": "Bloc or coalition",
    "party": "Party",
}
DEFAULT_SPLIT = "kind"

# Keys of the rows that are not a group of their own; none can be a slug, a kind or a code.
NONE = "~none"  # no country, no bloc, a member of the body with no party recorded
OUTSIDE = "~outside"  # not a member of the deciding body that day

NONE_LABELS = {
    "kind": "No kind",  # never happens: every actor has a kind
    "country": "No country recorded",
    "bloc": "In no bloc",
    "party": "Member, no party recorded",
}


@functools.cache
def country_label(code):
    """The name readers know for an ISO 3166-1 code, from pycountry; the code if unknown."""
    country = pycountry.countries.get(alpha_2=code)
    return readable_name(country) if country else code


@dataclass
class GroupRow:
    """One group of a split, its board actors counted by stance."""

    key: str
    name: str
    counts: dict = field(default_factory=lambda: dict.fromkeys(STANCE_ORDER, 0))
    link: str = ""  # the board filtered to this group (set by the view)
    selected: bool = False

    @property
    def total(self):
        return sum(self.counts.values())

    @property
    def cells(self):
        return [self.counts[s] for s in STANCE_ORDER]

    @property
    def is_apart(self):
        return self.key in (NONE, OUTSIDE)


@dataclass
class Split:
    """The split of a board by one kind of group, and the group it is filtered to, if any."""

    by: str
    label: str
    rows: list
    choices: list  # (value, label) of the splits this board offers
    group: GroupRow | None = None  # the group the board is filtered to
    notices: list = field(default_factory=list)
    body_name: str = ""
    # Split by kind: the board's `stances.kind_counts` in the group shown, its composition.
    kind_counts: list | None = None


# --- The group of each position, as SQL --------------------------------------------------


def _memberships_on(day):
    return Membership.objects.on(day)


def _country_key(day):
    """The actor's country, else its membership area's, else its ISO identifier (or NULL)."""
    area = (
        _memberships_on(day)
        .filter(member_id=OuterRef("actor_id"))
        .exclude(area="")
        .order_by(F("start_date").desc(nulls_last=True), "-pk")
        .values(code=Substr("area", 1, 2))[:1]
    )
    identifier = ActorIdentifier.objects.filter(
        actor_id=OuterRef("actor_id"), scheme=ISO_SCHEME
    ).values("identifier")[:1]
    return Coalesce(
        NullIf(F("actor__country"), Value("")),
        Subquery(area, output_field=CharField()),
        Subquery(identifier, output_field=CharField()),
        output_field=CharField(),
    )


def _seats(question, day):
    """The body's memberships of each actor that day, one with a party first, latest first."""
    return (
        _memberships_on(day)
        .filter(organization_id=question.deciding_body_id, member_id=OuterRef("actor_id"))
        .order_by(
            F("on_behalf_of_id").asc(nulls_last=True),
            F("start_date").desc(nulls_last=True),
            "-pk",
        )
    )


def _party_key(question, day):
    """The slug of the party a member sits for; NONE without one; NULL for a non-member."""
    seat = _seats(question, day).values(
        key=Coalesce("on_behalf_of__slug", Value(NONE), output_field=CharField())
    )[:1]
    return Subquery(seat, output_field=CharField())


def _party_name(question, day):
    return Subquery(_seats(question, day).values("on_behalf_of__name")[:1])


def _bloc_memberships(day):
    return _memberships_on(day).filter(organization__kind__in=BLOC_KINDS)


# --- Counting ---------------------------------------------------------------------------------


def _rows_of(counted, names):
    """`(key, stance, number)` rows into `GroupRow`s, the largest first, the rest apart last."""
    groups = {}
    for key, stance, number in counted:
        row = groups.get(key)
        if row is None:
            row = groups[key] = GroupRow(key, names(key))
        row.counts[stance] += number
    return sorted(groups.values(), key=lambda g: (g.is_apart, -g.total, g.name.lower(), g.key))


def _count_by_kind(counted):
    return _rows_of(counted, lambda key: ActorKind(key).label)


def _count_by_country(positions, day):
    counted = (
        positions.order_by()
        .annotate(group_key=_country_key(day))
        .values_list("group_key", "position_stance")
        .annotate(number=Count("pk"))
    )
    counted = [(code or NONE, stance, number) for code, stance, number in counted]
    return _rows_of(
        counted, lambda key: NONE_LABELS["country"] if key == NONE else country_label(key)
    )


def _count_by_party(positions, question, day, body_name):
    counted = list(
        positions.order_by()
        .annotate(group_key=_party_key(question, day), group_name=_party_name(question, day))
        .values_list("group_key", "group_name", "position_stance")
        .annotate(number=Count("pk"))
    )
    names = {NONE: NONE_LABELS["party"], OUTSIDE: f"Not a member of {body_name}"}
    for key, name, _stance, _number in counted:
        if key and key != NONE:
            names[key] = name
    return _rows_of(
        [(key or OUTSIDE, stance, number) for key, _name, stance, number in counted],
        names.__getitem__,
    )


def _count_by_bloc(positions, day):
    """
    One query: the positions joined to their actors' bloc memberships of the day, grouped by
    bloc and stance (an actor holding two roles in a bloc counted once), and, in the same
    statement (UNION ALL), those in no bloc grouped by stance.
    """
    base = positions.order_by()
    held = Q(actor__memberships__organization__kind__in=BLOC_KINDS) & (
        Q(actor__memberships__start_date__isnull=True) | Q(actor__memberships__start_date__lte=day)
    )
    held &= Q(actor__memberships__end_date__isnull=True) | Q(actor__memberships__end_date__gte=day)
    in_blocs = (
        base.filter(held)
        .values(
            group_key=F("actor__memberships__organization__slug"),
            group_name=F("actor__memberships__organization__name"),
            group_stance=F("position_stance"),
        )
        .annotate(number=Count("actor_id", distinct=True))
    )
    members = _bloc_memberships(day).filter(member_id=OuterRef("actor_id"))
    in_none = (
        base.exclude(Exists(members))
        .values(
            group_key=Value(NONE, output_field=CharField()),
            group_name=Value(NONE_LABELS["bloc"], output_field=CharField()),
            group_stance=F("position_stance"),
        )
        .annotate(number=Count("pk"))
    )
    counted = list(
        in_blocs.union(in_none, all=True).values_list(
            "group_key", "group_name", "group_stance", "number"
        )
    )
    names = {key: name for key, name, _stance, _number in counted}
    return _rows_of([(key, stance, n) for key, _name, stance, n in counted], names.__getitem__)


# --- The board's split and its filter -------------------------------------------------------


def choices_for(question):
    """The splits a board offers: by party only where the question names a deciding body."""
    return [
        (key, label)
        for key, label in SPLITS.items()
        if key != "party" or question.deciding_body_id is not None
    ]


def clean_split(value, question):
    """The split asked for, or the default with a message for a value the board lacks."""
    offered = dict(choices_for(question))
    if not value or value == DEFAULT_SPLIT:
        return DEFAULT_SPLIT, None
    if value in offered:
        return value, None
    if value == "party":
        return DEFAULT_SPLIT, (
            "Split by: this question names no deciding body, so it has no split by party. "
            "This filter was ignored; the split by kind of actor is shown."
        )
    return DEFAULT_SPLIT, (
        f"Split by: choose one of {', '.join(offered.values()).lower()}. "
        "This filter was ignored; the split by kind of actor is shown."
    )


def split_board(positions, question, split=None, group=None, as_of=None):
    """
    The split of a board's `positions` (from `stances.current_positions`, its actor filters
    applied) by `split` (a key of `SPLITS`), as of `as_of` (default today), and the group
    `group` names, if it is one of the split's rows. One query. Unknown values are reported in
    `notices` and ignored.
    """
    day = as_of or timezone.localdate()
    body_name = question.deciding_body.name if question.deciding_body_id else ""
    by, notice = clean_split(split, question)
    counted = None
    if by == "kind":
        counted = kind_counts(positions)
        rows = _count_by_kind(counted)
    elif by == "country":
        rows = _count_by_country(positions, day)
    elif by == "bloc":
        rows = _count_by_bloc(positions, day)
    else:
        rows = _count_by_party(positions, question, day, body_name)
    result = Split(by, SPLITS[by], rows, choices_for(question), body_name=body_name)
    if notice:
        result.notices.append(notice)
    if group:
        chosen = next((row for row in rows if row.key == group), None)
        if chosen is None:
            result.notices.append(
                f"Group: no actor with a position on this board is in that group "
                f"({SPLITS[by].lower()}). This filter was ignored."
            )
        else:
            chosen.selected = True
            result.group = chosen
    if counted is not None:
        shown_kind = result.group.key if result.group else None
        result.kind_counts = [row for row in counted if shown_kind in (None, row[0])]
    return result


def in_group(positions, split, question, as_of=None):
    """`positions` of the actors in `split.group` (all of them without a group)."""
    group = split.group
    if group is None:
        return positions
    day = as_of or timezone.localdate()
    key = group.key
    if split.by == "kind":
        return positions.filter(position_actor_kind=key)
    if split.by == "country":
        positions = positions.annotate(group_key=_country_key(day))
        if key == NONE:
            return positions.filter(group_key__isnull=True)
        return positions.filter(group_key=key)
    if split.by == "bloc":
        blocs = _bloc_memberships(day)
        if key == NONE:
            return positions.exclude(Exists(blocs.filter(member_id=OuterRef("actor_id"))))
        members = blocs.filter(organization__slug=key, member_id=OuterRef("actor_id"))
        return positions.filter(Exists(members))
    positions = positions.annotate(group_key=_party_key(question, day))
    if key == OUTSIDE:
        return positions.filter(group_key__isnull=True)
    return positions.filter(group_key=key)
