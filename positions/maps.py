"""
The world map of a board (each state by its stance) or of a status table (each state by its
formal status), drawn on the server as SVG from the vendored shapes in `mapdata/` (from the
npm package @svg-maps/world, CC BY 4.0: see mapdata/README.md). Templates render it
(`includes/world_map.html`); no JavaScript, no tile server.

Colour is never the only cue: each category has a pattern as well (hatching, cross-hatching,
dots), the legend names it, each country has a `<title>`, and a table below gives the same
data. States without a shape (Antarctica, a state actor without a country code) are listed
beside the map, never dropped.
"""

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path

import pycountry

from . import acts, stances
from .models import ActorKind, Stance, country_name

SHAPES_FILE = Path(__file__).resolve().parent / "mapdata" / "world.json"
MODES = ("stance", "status")
NONE = "none"

# (category, legend label), in the legend's order; the CSS class is `map__c--<category>`.
STANCE_CATEGORIES = [(s.value, s.label) for s in Stance] + [(NONE, "No known position")]
STATUS_CATEGORIES = [
    ("party", "Party (ratified, accepted, approved, acceded or succeeded)"),
    ("party-reservation", "Party, with a reservation in force"),
    ("signatory", "Signed, not ratified"),
    ("withdrawn", "Withdrawn (denounced)"),
    (NONE, "No formal act"),
]


# Besides its colour, each category but the solid and the empty ones has a pattern.
PATTERNS = {
    Stance.CONDITIONAL.value: "hatch",
    Stance.OPPOSES.value: "cross",
    Stance.UNDECIDED.value: "dots",
    "signatory": "hatch",
    "withdrawn": "cross",
    "party-reservation": "dots",
}


@functools.cache
def shapes():
    """`(viewBox, {ISO code: (name, path)})`, read once a process."""
    data = json.loads(SHAPES_FILE.read_text(encoding="utf-8"))
    return data["viewBox"], {code: (c["name"], c["d"]) for code, c in data["countries"].items()}


@functools.cache
def iso_codes():
    return frozenset(c.alpha_2 for c in pycountry.countries)


@dataclass
class Entry:
    """What the map says of one state: its category and the actor it comes from."""

    category: str
    label: str
    actor_name: str = ""
    actor_slug: str = ""
    code: str = ""

    @property
    def country(self):
        return country_name(self.code) if self.code else ""


@dataclass
class Country:
    code: str
    name: str
    path: str
    category: str
    title: str


@dataclass
class WorldMap:
    """
    A map from its data: `entries` ({ISO code: Entry}) and `no_country` (entries of state
    actors without a code). What it draws is worked out on first use, so a page whose map
    fragment is stored (keyed by these fields, fragments.py) never lays out the shapes.
    """

    mode: str
    entries: dict
    no_country: list
    categories: list = field(default_factory=list)
    heading: str = ""

    @property
    def patterns(self):
        return [(c, PATTERNS[c]) for c, _label in self.categories if c in PATTERNS]

    @property
    def has_data(self):
        return bool(self.entries or self.no_country)

    @property
    def view_box(self):
        return shapes()[0]

    @functools.cached_property
    def countries(self):
        """`Country`, one per shape."""
        labels = dict(self.categories)
        countries = []
        for code, (shape_name, path) in sorted(shapes()[1].items()):
            entry = self.entries.get(code)
            name = country_name(code) if code in iso_codes() else shape_name
            category = entry.category if entry else NONE
            label = entry.label if entry else labels[NONE]
            countries.append(Country(code, name, path, category, f"{name}: {label}"))
        return countries

    @functools.cached_property
    def legend(self):
        """(category, label, number of states); "no known position" counts the empty shapes."""
        counts = {}
        for entry in self.listed:
            counts[entry.category] = counts.get(entry.category, 0) + 1
        counts[NONE] = sum(1 for country in self.countries if country.category == NONE)
        return [(category, label, counts.get(category, 0)) for category, label in self.categories]

    @functools.cached_property
    def listed(self):
        """The entries with data, by name: the table under the map."""
        return sorted(
            [*self.entries.values(), *self.no_country],
            key=lambda e: (e.country or e.actor_name).lower(),
        )

    @functools.cached_property
    def unmapped(self):
        """(name, label) of ISO countries and state actors without a shape."""
        labels = dict(self.categories)
        entries = self.entries
        unmapped = [
            (country_name(code), entries[code].label if code in entries else labels[NONE])
            for code in sorted(iso_codes() - set(shapes()[1]))
        ]
        unmapped += [(f"{e.actor_name} (no country code)", e.label) for e in self.no_country]
        return unmapped


def stance_map(state_positions):
    """
    The map of a board: `state_positions` are `(country code, actor name, actor slug,
    stance)` of the states with a position (`current_positions(...).filter(kind=state)`).
    Where editors keep two state actors for one country, the first by name fills it.
    """
    labels = dict(STANCE_CATEGORIES)
    entries, no_country = {}, []
    for code, name, slug, stance in state_positions:
        entry = Entry(stance, labels[stance], name, slug, code or "")
        if not code:
            no_country.append(entry)
        else:
            entries.setdefault(code, entry)
    return WorldMap(
        "stance", entries, no_country, STANCE_CATEGORIES, heading="Map of the states' positions"
    )


def status_category(participant):
    status = participant.status
    if status == acts.Status.PARTY:
        return "party-reservation" if participant.has_reservation else "party"
    return status


def status_map(participants):
    """The map of a status table: the participants (`acts.participants_of`) that are states."""
    labels = dict(STATUS_CATEGORIES)
    entries, no_country = {}, []
    for row in participants:
        if row.actor_kind != ActorKind.STATE:
            continue
        category = status_category(row)
        entry = Entry(category, labels[category], row.actor_name, row.actor_slug, row.country)
        if not row.country:
            no_country.append(entry)
        else:
            entries.setdefault(row.country, entry)
    return WorldMap(
        "status", entries, no_country, STATUS_CATEGORIES, heading="Map of the states' formal status"
    )


def mode_of(value):
    """The map a board shows: its stances unless `?map=status` asks for the formal status."""
    return value if value in MODES else "stance"


def board_context(request, question, as_of, groups, topic_has_acts=True):
    """
    What a board adds: each shown row's formal status on the question's topic (`row.formal`,
    an `acts.Participant`, or None without a published act: states show "no formal act",
    other actors nothing) and the map, in stance mode (the shown actors' acts, one query if
    any row is shown and `topic_has_acts`, False when no act on the topic is published; the
    states' positions for the map, one query) or in status mode (the topic's acts: one
    query for the rows and the map).
    """
    mode = mode_of(request.GET.get("map"))
    shown = [row for _stance, rows, _count in groups for row in rows]
    if mode == "status":
        shown_acts = acts.published_acts(question.topic, as_of, with_sources=False)
        participants = acts.participants_of(shown_acts)
        formal = {row.actor_id: row for row in participants}
        world = status_map(participants)
    else:
        formal = {}
        if shown and topic_has_acts:
            formal = acts.status_of(question.topic, as_of, {row.actor_id for row in shown})
        states = (
            stances.current_positions(question, as_of)
            .filter(position_actor_kind=ActorKind.STATE)
            .values_list("actor__country", "position_actor_name", "actor__slug", "position_stance")
        )
        world = stance_map(states)
    for row in shown:
        row.formal = formal.get(row.actor_id)
    switch = []
    for value, label in (("stance", "stance"), ("status", "formal status")):
        params = request.GET.copy()
        params["map"] = value
        params.pop("page", None)
        switch.append((value, label, f"?{params.urlencode()}#map-heading"))
    return {"map": world, "map_switch": switch}
