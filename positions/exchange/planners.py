"""
What each file type adds to the one planner (`planning.Planner`): the records its rows refer
to, loaded once per file (never a query per row), the cells that need them, and the
relations it compares itself. Topics and conditions need nothing more than the planner's
defaults.
"""

from django.core.exceptions import ValidationError
from django.db.models import Prefetch

from .. import editorial
from ..models import (
    Actor,
    ActorIdentifier,
    Condition,
    Question,
    Signatory,
    Source,
    Statement,
    Topic,
)
from ..stances import chunked
from .cells import CellError, looks_like_url, parse_http_url, split_list
from .columns import FALLBACK_KEY, LEAD_MARK, question_key
from .planning import Planner, RowError


class QuestionPlanner(Planner):
    """Keyed on topic + slug: `topic-slug/question-slug`."""

    def row_key(self, row):
        topic, slug = row.get("topic", "").strip(), row.get("slug", "").strip()
        return f"{topic}/{slug}" if topic and slug else ""

    def key_errors(self, number, row, key):
        if row.get("slug", "").strip():
            return []  # an unknown or empty topic is `parse_topic`'s
        return [RowError(number, "slug", "The key column cannot be empty.")]

    def prepare(self, rows):
        topic_slugs = {r.get("topic", "").strip() for r in rows}
        self.topics = {t.slug: t for t in Topic.objects.filter(slug__in=topic_slugs)}
        questions = Question.objects.filter(topic__slug__in=topic_slugs).select_related("topic")
        self.existing = {question_key(q): q for q in questions}

    def parse_topic(self, value):
        topic = self.topics.get(value.strip())
        if topic is None:
            raise CellError(f"Unknown topic '{value}'.")
        return topic

    def new_instance(self, key, related):
        return Question(topic=related["topic"], slug=key.partition("/")[2])


class SourcePlanner(Planner):
    """
    Keyed on the URL. A document that is not online has no URL: its title is its key
    (titles of such sources must then be distinct), in this file and in statements.
    """

    def row_key(self, row):
        url = row.get("url", "").strip()
        return url or (f"title:{row.get('title', '').strip()}" if row.get("title") else "")

    def key_errors(self, number, row, key):
        if key:
            return []
        message = "Give the URL, or a title for a document that is not online."
        return [RowError(number, "url", message)]

    def prepare(self, rows):
        self.existing = {}
        urls = [r.get("url", "").strip() for r in rows if r.get("url", "").strip()]
        for chunk in chunked(urls):
            self.existing.update({s.url: s for s in Source.objects.filter(url__in=chunk)})
        titles = [r.get("title", "").strip() for r in rows if not r.get("url", "").strip()]
        for chunk in chunked(titles):
            for source in Source.objects.filter(url="", title__in=chunk).order_by("pk"):
                self.existing.setdefault(f"title:{source.title}", source)

    def new_instance(self, key, related):
        return Source()


class ActorPlanner(Planner):
    run_clean = False  # Actor.clean() walks the parent chain a query a step: see `loops()`

    def prepare(self, rows):
        # Actors are few (thousands at most): one query loads them all, so parents can be
        # resolved and parent chains checked for loops without a query per row.
        self.existing = {a.slug: a for a in Actor.objects.all()}
        self.slug_of = {a.pk: a.slug for a in self.existing.values()}
        self.file_slugs = {self.row_key(r) for r in rows}
        self.parent_of = {a.slug: self.slug_of.get(a.parent_id) for a in self.existing.values()}
        for row in rows:
            if "parent" in row and self.row_key(row):
                self.parent_of[self.row_key(row)] = row["parent"].strip() or None
        self.prepare_identifiers(rows)

    def prepare_identifiers(self, rows):
        identifiers = {}
        for row in rows:
            for item in split_list(row.get("identifiers", "")):
                identifiers.setdefault(item.partition(":")[2].strip(), None)
        self.identifiers_by_actor = {}
        self.identifier_owner = {}
        # One query a chunk (an OR of chunks would be one query past SQLite's parameter limit).
        file_actor_ids = [a.pk for slug, a in self.existing.items() if slug in self.file_slugs]
        found = {}
        for chunk in chunked(file_actor_ids):
            found.update((i.pk, i) for i in ActorIdentifier.objects.filter(actor_id__in=chunk))
        for chunk in chunked(identifiers):
            found.update((i.pk, i) for i in ActorIdentifier.objects.filter(identifier__in=chunk))
        for identifier in sorted(found.values(), key=lambda i: i.pk):
            owner = self.slug_of.get(identifier.actor_id)
            self.identifier_owner[(identifier.scheme, identifier.identifier)] = owner
            self.identifiers_by_actor.setdefault(owner, []).append(identifier)
        self.claimed = {}

    def parse_parent(self, value):
        parent_slug = value.strip() or None
        if parent_slug and parent_slug not in self.existing and parent_slug not in self.file_slugs:
            raise CellError(f"Unknown actor '{parent_slug}'.")
        if parent_slug and self.loops(self.key):
            raise CellError("The parent chain loops back to this actor.")
        return parent_slug

    def loops(self, slug):
        seen, current = {slug}, self.parent_of.get(slug)
        while current:
            if current in seen:
                return True
            seen.add(current)
            current = self.parent_of.get(current)
        return False

    def parse_identifiers(self, value):
        """`scheme:identifier|...` -> [(scheme, identifier)], each claimed by this actor."""
        wanted, messages = [], []
        for item in split_list(value):
            scheme, colon, identifier = (part.strip() for part in item.partition(":"))
            if not colon or not scheme or not identifier:
                messages.append(
                    f"'{item}' is not an identifier: write scheme:identifier, e.g. wikidata:Q42."
                )
                continue
            candidate = ActorIdentifier(scheme=scheme.lower(), identifier=identifier)
            try:
                candidate.clean_fields(exclude={"actor"})
                candidate.clean()
            except ValidationError as error:
                messages += [m for ms in error.message_dict.values() for m in ms]
                continue
            pair = (candidate.scheme, candidate.identifier)
            message = self.claim(pair, item)
            if message:
                messages.append(message)
            elif pair not in wanted:
                wanted.append(pair)
        if messages:
            raise CellError(*messages)
        return wanted

    def claim(self, pair, item):
        """Give the identifier `pair` to the row's actor, or say whose it is."""
        if not self.key:
            return None  # the row is refused for its key; it claims nothing
        owner = self.identifier_owner.get(pair)
        if owner and owner != self.key and owner not in self.file_slugs:
            return f"{item} already belongs to actor '{owner}'."
        if pair in self.claimed and self.claimed[pair] != self.key:
            return f"{item} is also given to actor '{self.claimed[pair]}' in this file."
        self.claimed[pair] = self.key
        return None

    def relate(self, number, instance, existing, changed, related, errors):
        current_parent = self.slug_of.get(instance.parent_id)
        if "parent" not in related:
            related["parent"] = current_parent
        elif related["parent"] != current_parent:
            changed.append("parent")
        wanted = related.pop("identifiers", None)
        current = {(i.scheme, i.identifier) for i in self.identifiers_by_actor.get(self.key, [])}
        if wanted is None or set(wanted) == current:
            return False
        related["identifiers"] = wanted
        return True


class StatementPlanner(Planner):
    parsed_fields = frozenset({"date", "date_precision", "stance", "attribution", "status"})

    def prepare(self, rows):
        keys = [self.row_key(r) for r in rows if self.row_key(r)]
        self.prepare_existing(keys)
        question_keys = {r.get("question", "").strip() for r in rows}
        questions = Question.objects.filter(
            topic__slug__in={k.partition("/")[0] for k in question_keys},
            slug__in={k.partition("/")[2] for k in question_keys},
        ).select_related("topic")
        self.questions = {question_key(q): q for q in questions}
        actor_slugs = {
            s.rstrip(LEAD_MARK).strip() for r in rows for s in split_list(r.get("signatories", ""))
        }
        self.actors = {}
        for chunk in chunked(actor_slugs):
            actors = Actor.objects.filter(slug__in=chunk).only("pk", "slug", "name")
            self.actors.update({a.slug: a for a in actors})
        self.prepare_sources({r.get("source", "").strip() for r in rows} - {""})
        condition_slugs = {s for r in rows for s in split_list(r.get("conditions", ""))}
        self.conditions = {c.slug: c for c in Condition.objects.filter(slug__in=condition_slugs)}

    def prepare_existing(self, keys):
        """The statements the file updates, by import_ref or `pt-<id>`, with their relations."""
        queryset = Statement.objects.prefetch_related(
            Prefetch("signatures", queryset=Signatory.objects.order_by("order", "pk"))
        )
        self.existing = {}
        for chunk in chunked(keys):
            self.existing.update({s.import_ref: s for s in queryset.filter(import_ref__in=chunk)})
        fallback_ids = {
            int(m.group(1)): key
            for key in keys
            if key not in self.existing and (m := FALLBACK_KEY.match(key))
        }
        for chunk in chunked(fallback_ids):
            for statement in queryset.filter(pk__in=chunk, import_ref=""):
                self.existing[fallback_ids[statement.pk]] = statement
        self.stored_status = {s.pk: s.status for s in self.existing.values()}
        through = Statement.conditions.through
        self.condition_links = {}
        for chunk in chunked([s.pk for s in self.existing.values()]):
            for link in through.objects.filter(statement_id__in=chunk):
                self.condition_links.setdefault(link.statement_id, {})[link.condition_id] = link

    def prepare_sources(self, references):
        urls = [r for r in references if looks_like_url(r)]
        titles = [r for r in references if not looks_like_url(r)]
        self.sources, self.offline_sources = {}, {}
        for chunk in chunked(urls):
            self.sources.update({s.url: s for s in Source.objects.filter(url__in=chunk)})
        for chunk in chunked(titles):
            for source in Source.objects.filter(url="", title__in=chunk):
                self.offline_sources.setdefault(source.title, []).append(source)

    def new_instance(self, key, related):
        return Statement(import_ref=key)

    def parse_question(self, value):
        question = self.questions.get(value.strip())
        if question is None:
            raise CellError(
                f"Unknown question '{value}': write topic-slug/question-slug of an existing "
                "question."
            )
        return question

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

    def parse_signatories(self, value):
        """`a|b*|c` -> [(actor, is_lead)]: the one marked `*` leads, else the first."""
        items = split_list(value)
        if not items:
            raise CellError("At least one signatory (an actor slug) is required.")
        marked = [item for item in items if item.endswith(LEAD_MARK)]
        if len(marked) > 1:
            raise CellError("Only one signatory can be marked as lead with '*'.")
        result, seen, unknown = [], set(), []
        for index, item in enumerate(items):
            slug = item.rstrip(LEAD_MARK).strip()
            actor = self.actors.get(slug)
            if actor is None:
                unknown.append(slug)
                continue
            if slug in seen:
                raise CellError(f"Actor '{slug}' is listed twice.")
            seen.add(slug)
            result.append((actor, item in marked if marked else index == 0))
        if unknown:
            raise CellError(
                f"Unknown actor{'s' if len(unknown) > 1 else ''} "
                f"{', '.join(repr(s) for s in unknown)}: import them in an actors file first."
            )
        return result

    def parse_conditions(self, value):
        slugs = split_list(value)
        unknown = [s for s in slugs if s not in self.conditions]
        if unknown:
            raise CellError(
                f"Unknown condition{'s' if len(unknown) > 1 else ''} "
                f"{', '.join(repr(s) for s in unknown)}."
            )
        if len(set(slugs)) != len(slugs):
            raise CellError("A condition is listed twice.")
        return [self.conditions[s] for s in slugs]

    def relate(self, number, instance, existing, changed, related, errors):
        # A statement the file does not touch keeps its conditions.
        current_conditions = set(self.condition_links.get(instance.pk, {})) if existing else set()
        conditions = related.get("conditions")
        conditions_ids = current_conditions if conditions is None else {c.pk for c in conditions}
        message = Statement.conditions_error(instance.stance, conditions_ids)
        if message:
            errors.append(RowError(number, "conditions", message))
        wanted = [(a.pk, order, lead) for order, (a, lead) in enumerate(related["signatories"])]
        current = (
            [(s.actor_id, s.order, s.is_lead) for s in instance.signatures.all()]
            if existing
            else []
        )
        signatories_changed = wanted != current
        conditions_changed = conditions_ids != current_conditions
        related.clear()
        related.update(
            signatories=wanted if signatories_changed else None,
            conditions=conditions_ids,
            conditions_changed=conditions_changed,
            statement_changed=bool(changed) or conditions_changed or existing is None,
        )
        return signatories_changed or conditions_changed

    def check(self, number, instance, existing, errors):
        stored_status = self.stored_status[existing.pk] if existing else None
        message = editorial.transition(
            instance, instance.status, self.context.acting_user, stored_status=stored_status
        )
        if message:
            errors.append(RowError(number, "status", message))


PLANNERS = {
    "topics": Planner,
    "questions": QuestionPlanner,
    "conditions": Planner,
    "actors": ActorPlanner,
    "sources": SourcePlanner,
    "statements": StatementPlanner,
}
