"""
Cells that name stored records shared by several file types, loaded once per file by the
planners that mix these in (`planners.py`, `planners_linked.py`): actors named by slug or
by an identifier in another register (`bioguide:W000779`), and sources named by URL or,
for a document that is not online, by title.
"""

from ..models import Actor, ActorIdentifier, Source
from ..stances import chunked
from .cells import CellError, looks_like_url, parse_http_url


def identifier_pair(reference):
    """`bioguide:W000779` -> ("bioguide", "W000779"); a slug (no colon) -> None."""
    scheme, colon, identifier = (part.strip() for part in reference.partition(":"))
    if not colon or not scheme or not identifier:
        return None
    return scheme.lower(), identifier


class ActorLookup:
    """Actors by the references of the file: a slug (slugs have no colon), or an identifier."""

    def prepare_actors(self, references):
        references = {r.strip() for r in references} - {""}
        slugs = sorted(r for r in references if ":" not in r)
        pairs = {pair: r for r in references if ":" in r and (pair := identifier_pair(r))}
        self.actors = {}  # reference as written -> Actor
        for chunk in chunked(slugs):
            self.actors.update(
                {a.slug: a for a in Actor.objects.filter(slug__in=chunk).only("pk", "slug", "name")}
            )
        schemes = {scheme for scheme, _ in pairs}
        for chunk in chunked(sorted({identifier for _, identifier in pairs})):
            found = ActorIdentifier.objects.filter(
                scheme__in=schemes, identifier__in=chunk
            ).select_related("actor")
            for stored in found:
                reference = pairs.get((stored.scheme, stored.identifier))
                if reference:
                    self.actors[reference] = stored.actor
        self.actor_slugs = {a.pk: a.slug for a in self.actors.values()}

    def load_actor_slugs(self, actor_ids):
        """The slugs of stored relations the file does not name, for the preview's diff."""
        missing = sorted(set(actor_ids) - set(self.actor_slugs) - {None})
        for chunk in chunked(missing):
            self.actor_slugs.update(Actor.objects.filter(pk__in=chunk).values_list("pk", "slug"))

    def actor_of(self, value):
        reference = value.strip()
        actor = self.actors.get(reference)
        if actor is not None:
            return actor
        if ":" in reference:
            if identifier_pair(reference) is None:
                raise CellError(
                    f"'{reference}' is not an identifier: write scheme:identifier, e.g. "
                    "bioguide:W000779, or an actor's slug."
                )
            raise CellError(
                f"No actor has the identifier '{reference}': add it to the actor (actors file, "
                "`identifiers` column) or name the actor by its slug."
            )
        raise CellError(f"Unknown actor '{reference}': import it in an actors file first.")

    def matched_by(self, references):
        """How a row's actors were found when a cell named one by identifier."""
        return "; ".join(
            f"{ref} is '{self.actors[ref].slug}'"
            for ref in references
            if ref in self.actors and ref != self.actors[ref].slug
        )


class SourceLookup:
    """Sources by URL, or by the title of a document that is not online."""

    def prepare_sources(self, references):
        urls = [r for r in references if looks_like_url(r)]
        titles = [r for r in references if not looks_like_url(r)]
        self.sources, self.offline_sources = {}, {}
        for chunk in chunked(urls):
            self.sources.update({s.url: s for s in Source.objects.filter(url__in=chunk)})
        for chunk in chunked(titles):
            for source in Source.objects.filter(url="", title__in=chunk):
                self.offline_sources.setdefault(source.title, []).append(source)

    def parse_source(self, value):
        if not value:
            return None
        if not looks_like_url(value):
            found = self.offline_sources.get(value, [])
            if len(found) > 1:
                raise CellError(
                    f"Several sources without a URL have the title '{value}': give them "
                    "distinct titles."
                )
            if not found:
                raise CellError(
                    f"No source has the URL or title '{value}': import it in a sources file first."
                )
            return found[0]
        source = self.sources.get(value.strip())
        if source is None:
            parse_http_url(value)  # a bad address gets its own message
            raise CellError(f"No source has the URL '{value}': import it in a sources file first.")
        return source

    def source_label(self, pk):
        refs = {s.pk: k for k, s in self.sources.items()}
        refs.update({s.pk: t for t, ss in self.offline_sources.items() for s in ss})
        return refs.get(pk, f"#{pk}")
