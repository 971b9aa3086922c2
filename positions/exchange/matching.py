"""
Likely duplicates among actors: the rule the import's duplicate check applies, in Python on
the loaded actors, so SQLite and PostgreSQL flag the same rows.

A new row looks like an existing actor when its folded name (`positions.folding`) is that
actor's folded name or one of its aliases; or, among the actors with the same parent or the
same country, when the names are close: a `rapidfuzz` ratio of at least `CLOSE_RATIO`
(a typo, a missing letter), or the same last word with one first word short for the other
("Ed Markey", "Edward J. Markey").
"""

from collections import defaultdict

from django.db.models import Q
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


class DuplicateFinder:
    def __init__(self, actors):
        self.by_folded = defaultdict(list)
        self.groups = defaultdict(list)  # ("parent", id) or ("country", code) -> actors
        self.by_surname = defaultdict(list)  # (group, last word) -> actors
        for actor in actors:
            folded = actor.folded_name or fold(actor.name)
            self.by_folded[folded].append(actor)
            for alias in actor.alias_list:
                self.by_folded[fold(alias)].append(actor)
            first, last = _first_and_last(folded)
            for group in self.groups_of(actor.parent_id, actor.country.code or ""):
                self.groups[group].append((folded, actor))
                if last:
                    self.by_surname[(group, last)].append((first, actor))
        self._choices = {}

    @staticmethod
    def groups_of(parent_id, country):
        return [g for g in (("parent", parent_id), ("country", country)) if g[1]]

    def of(self, name, *, parent=None, country=""):
        """The existing actors a row named `name` (under `parent`, in `country`) may be."""
        folded = fold(name)
        if not folded:
            return []
        found = list(self.by_folded.get(folded, []))
        first, last = _first_and_last(folded)
        for group in self.groups_of(parent.pk if parent else None, country):
            members = self.groups.get(group, [])
            if not members:
                continue
            names = self._choices.setdefault(group, [n for n, _ in members])
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
    neighbours = (
        Actor.objects.filter(nearby)
        .exclude(pk=actor.pk)
        .only("pk", "name", "slug", "aliases", "folded_name", "parent_id", "country")
        .order_by("pk")[:MAX_NEIGHBOURS]
    )
    finder = DuplicateFinder(neighbours)
    parent = Actor(pk=actor.parent_id) if actor.parent_id else None
    found = []
    for name in names:
        found += finder.of(name, parent=parent, country=actor.country.code or "")
    return list(dict.fromkeys(found))[:MAX_CANDIDATES]
