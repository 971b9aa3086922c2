"""
The stored actors and identifiers an actor file reaches, read in a query per batch of the
file's slugs or identifiers (`StoredActors.load`), never every actor: a re-import of a
20,000-row file then reads its own 20,000 actors, whatever the database holds.

What the file reaches, and why each is read:

- the actors its rows and parent cells name by slug (updates, parents);
- the stored identifiers its rows name, and their actors (matching by identifier, "already
  belongs to ..."), in the schemes the file names;
- the ancestors of every actor read (a parent chain checked for a loop, the preview's old
  parent by slug), a query per batch and level: hierarchies are a few levels deep;
- the identifiers of the actors the rows update (compared with the file's, deleted by the
  writer).

Rows are plain named tuples (`matching.known_actors()`), not model instances: the planner
compares cells with them and makes an instance (`matching.instance_of`) only of a row that
writes something.
"""

from ..lookups import any_of
from ..models import ActorIdentifier
from ..stances import chunked
from .matching import StoredIdentifier, known_actors

# The values a lookup query names: under SQLite's parameter limit.
BATCH_SIZE = 900


class StoredActors:
    def __init__(self, batch_size=BATCH_SIZE):
        self.batch_size = batch_size
        self.known = {}  # slug -> `known_actors()` row
        self.slug_of = {}  # pk -> slug, of every actor read
        self.identifier_owner = {}  # (scheme, identifier) -> the slug of its actor
        self.identifiers_by_actor = {}  # slug -> [StoredIdentifier], of the actors read
        self._identifier_pks = set()
        self._identifiers_read_for = set()  # pks of the actors whose identifiers were read

    def add(self, rows):
        for row in rows:
            self.known[row.slug] = row
            self.slug_of[row.pk] = row.slug

    def read_slugs(self, slugs):
        wanted = sorted(set(slugs) - set(self.known) - {"", None})
        for chunk in chunked(wanted, self.batch_size):
            self.add(known_actors().filter(any_of("slug", chunk)))

    def read_pks(self, pks):
        wanted = sorted(set(pks) - set(self.slug_of) - {None})
        for chunk in chunked(wanted, self.batch_size):
            self.add(known_actors().filter(any_of("pk", chunk)))

    def read_ancestors(self):
        """Every parent of an actor read, up the chains, a level at a time."""
        while missing := {k.parent_id for k in self.known.values()} - set(self.slug_of) - {None}:
            self.read_pks(missing)

    def read_identifiers_named(self, pairs):
        """The stored identifiers among `pairs` ((scheme, identifier)), and their actors."""
        schemes = sorted({scheme for scheme, _ in pairs})
        values = sorted({identifier for _, identifier in pairs})
        found = []
        for chunk in chunked(values, self.batch_size):
            found += ActorIdentifier.objects.filter(
                any_of("scheme", schemes), any_of("identifier", chunk)
            ).values_list("pk", "actor_id", "scheme", "identifier")
        # The query is by scheme and by value: keep the pairs the file names.
        found = [row for row in found if (row[2], row[3]) in pairs]
        self.read_pks(row[1] for row in found)
        self._add_identifiers(found)

    def read_identifiers_of(self, slugs):
        """Every stored identifier of the actors `slugs` (those read), for the comparison."""
        pks = {self.known[s].pk for s in slugs if s in self.known} - self._identifiers_read_for
        self._identifiers_read_for |= pks
        for chunk in chunked(sorted(pks), self.batch_size):
            self._add_identifiers(
                ActorIdentifier.objects.filter(any_of("actor_id", chunk)).values_list(
                    "pk", "actor_id", "scheme", "identifier"
                )
            )
        for identifiers in self.identifiers_by_actor.values():
            identifiers.sort(key=lambda i: (i.scheme, i.identifier, i.pk))

    def _add_identifiers(self, rows):
        for row in rows:
            stored = StoredIdentifier(*row)
            if stored.pk in self._identifier_pks:
                continue
            self._identifier_pks.add(stored.pk)
            owner = self.slug_of[stored.actor_id]
            self.identifier_owner[(stored.scheme, stored.identifier)] = owner
            self.identifiers_by_actor.setdefault(owner, []).append(stored)
