"""
Likely duplicates among actors: the rule the import's duplicate check applies, in Python on
the loaded actors, so SQLite and PostgreSQL flag the same rows.

A new row looks like an existing actor when its folded name (`positions.folding`) is that
actor's folded name or one of its aliases; or, among the actors with the same parent or the
same country, when the names are close: a `rapidfuzz` ratio of at least `CLOSE_RATIO`
(a typo, a missing letter), or the same last word with one first word short for the other
("Ed Markey", "Edward J. Markey").
"""

import functools
from collections import defaultdict, namedtuple

from django.db import DEFAULT_DB_ALIAS
from django.db.models import Q
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init
from rapidfuzz import fuzz, process

from ..folding import fold
from ..models import Actor

CLOSE_RATIO = 85
MAX_CANDIDATES = 3
# The actors a saved actor is compared with (`likely_duplicates_of`): its neighbours.
MAX_NEIGHBOURS = 5000


def _first_and_last(folded):
    words = folded.replace(".", " ").split()
    return (words[0], words[-1]) if len(words) > 1 else (None, None)


# A stored identifier as the import compares it (the writer makes an instance to delete one).
StoredIdentifier = namedtuple("StoredIdentifier", "pk actor_id scheme identifier")


@functools.cache
def _actor_columns():
    return tuple(f.attname for f in Actor._meta.concrete_fields)


def known_actors():
    """
    Stored actors as plain rows (a named tuple of its columns, `pk` first): what the
    duplicate check reads of every actor, and the import of the actors a file reaches
    (`stored_actors`). `instance_of(row)` makes the model instance of a row an import
    updates.
    """
    columns = ["pk" if c == Actor._meta.pk.attname else c for c in _actor_columns()]
    return Actor.objects.order_by().values_list(*columns, named=True)


def instance_of(known):
    """The Actor a `known_actors()` row stands for, as if loaded by a query."""
    columns = _actor_columns()
    if pre_init.has_listeners(Actor) or post_init.has_listeners(Actor):
        return Actor.from_db(DEFAULT_DB_ALIAS, columns, tuple(known))
    # What `Model.from_db` makes, without running each field's setter on values the
    # database gave (django-countries' cleans the code again): a fifth of a re-import's time.
    # The alias is the default database's: `connection.alias` costs a thread-local lookup.
    actor = Actor.__new__(Actor)
    actor._state = ModelState()
    actor._state.adding, actor._state.db = False, DEFAULT_DB_ALIAS
    actor.__dict__.update(zip(columns, known, strict=True))
    return actor


def _folded_names(known):
    """The actor's folded name and aliases: the stored copies, or folded here when they
    are missing (records written around the write path, such as synthetic data)."""
    names = [known.folded_name or fold(known.name)]
    if known.folded_aliases or not known.aliases:
        names += known.folded_aliases.splitlines()
    else:
        names += [fold(line) for line in known.aliases.splitlines() if line.strip()]
    return names


class DuplicateFinder:
    """The likely duplicates among `actors` (`known_actors()` rows)."""

    def __init__(self, actors):
        self.by_folded = defaultdict(list)
        self.groups = defaultdict(list)  # ("parent", id) or ("country", code) -> actors
        self.by_surname = defaultdict(list)  # (group, last word) -> actors
        for actor in actors:
            folded, *aliases = _folded_names(actor)
            self.by_folded[folded].append(actor)
            for alias in aliases:
                self.by_folded[alias].append(actor)
            first, last = _first_and_last(folded)
            for group in self.groups_of(actor.parent_id, actor.country or ""):
                self.groups[group].append((folded, actor))
                if last:
                    self.by_surname[(group, last)].append((first, actor))
        self._choices = {}

    @staticmethod
    def groups_of(parent_id, country):
        return [g for g in (("parent", parent_id), ("country", country)) if g[1]]

    def of(self, name, *, parent_id=None, country=""):
        """The existing actors a row named `name` (under the actor `parent_id`, in
        `country`) may be."""
        folded = fold(name)
        if not folded:
            return []
        found = list(self.by_folded.get(folded, []))
        first, last = _first_and_last(folded)
        for group in self.groups_of(parent_id, country):
            members = self.groups.get(group, [])
            if not members:
                continue
            names = self._choices.get(group)
            if names is None:  # once a group, not once a row
                names = self._choices[group] = [n for n, _ in members]
            for _match, _score, index in process.extract(
                folded, names, scorer=fuzz.ratio, score_cutoff=CLOSE_RATIO, limit=MAX_CANDIDATES
            ):
                found.append(members[index][1])
            if last:
                for other_first, actor in self.by_surname.get((group, last), []):
                    if other_first and (
                        other_first.startswith(first) or first.startswith(other_first)
                    ):
                        found.append(actor)
        unique = list(dict.fromkeys(found))
        return unique[:MAX_CANDIDATES]


def likely_duplicates_of(actor):
    """
    The saved actors the import's duplicate check would flag for `actor` (by its name or one
    of its aliases), for the actor's admin page: a duplicate made before the check, or by an
    editor who chose "new actor", is then one link away from a merge. One query: the actors
    that share its folded name or an alias, its parent or its country.
    """
    names = [actor.name, *actor.alias_list]
    folded = {fold(name) for name in names} - {""}
    nearby = Q(folded_name__in=folded) | Q(folded_aliases__contains=fold(actor.name))
    if actor.parent_id:
        nearby |= Q(parent_id=actor.parent_id)
    if actor.country:
        nearby |= Q(country=actor.country)
    neighbours = known_actors().filter(nearby).exclude(pk=actor.pk).order_by("pk")
    finder = DuplicateFinder(neighbours[:MAX_NEIGHBOURS])
    found = []
    for name in names:
        found += finder.of(name, parent_id=actor.parent_id, country=actor.country.code or "")
    return [instance_of(row) for row in dict.fromkeys(found)][:MAX_CANDIDATES]
