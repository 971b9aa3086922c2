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
from .cells import CellError, parse_http_url, split_list
from .columns import FALLBACK_KEY, LEAD_MARK, question_key
from .lookups import SourceLookup, identifier_pair
from .matching import DuplicateFinder, instance_of, known_actors
from .planners_linked import ActPlanner, MembershipPlanner
from .planning import Planner, RowError
from .reading import FIRST_DATA_ROW
from .stored_actors import BATCH_SIZE, StoredActors


def field_problems(model, name, value):
    """The messages of the model field's own validation of `value` ([] when valid)."""
    try:
        model._meta.get_field(name).clean(value, None)
    except ValidationError as error:
        return list(error.messages)
    return []


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
    """
    Keyed on the slug; a row whose slug is unknown is matched by any of its identifiers
    (`bioguide:W000779`) to the actor holding it. A row that matches nothing but looks
    like an existing actor (`likely_duplicates`) is flagged: the importer says whether it
    is the same actor (the row updates it) or a new one; nothing is merged silently.
    """

    batch_size = BATCH_SIZE  # slugs or identifiers a lookup query names
    run_clean = False  # Actor.clean() walks the parent chain a query a step: see `loops()`
    # The parsers check these as strictly as the model: the kind and country among their
    # choices, the website as an http(s) address no longer than the field (`parse_website`).
    parsed_fields = frozenset({"kind", "country", "website"})

    def prepare(self, rows):
        # The actors and identifiers the file reaches, a query per batch of its slugs or
        # identifiers, as plain rows (`stored_actors`), never every actor: parents are
        # resolved, parent chains checked for loops and rows compared without a query per
        # row. Model instances are made only of the stored actors the file names.
        self.stored = StoredActors(self.batch_size)
        self.file_slugs = {self.row_key(r) for r in rows}
        self.stored.read_slugs(self.file_slugs | {r.get("parent", "").strip() for r in rows})
        self.stored.read_identifiers_of(self.file_slugs)
        # The file's identifiers its own actors do not hold (all of them, for new actors):
        # matching by identifier and "already belongs to" look for their owners.
        pairs = {
            pair
            for r in rows
            for item in split_list(r.get("identifiers", ""))
            if (pair := identifier_pair(item))
        }
        self.stored.read_identifiers_named(pairs - set(self.stored.identifier_owner))
        self.known, self.slug_of = self.stored.known, self.stored.slug_of
        self.identifier_owner = self.stored.identifier_owner
        self.identifiers_by_actor = self.stored.identifiers_by_actor
        self.claimed = {}
        self.valid_schemes = {}  # scheme -> its error messages ([] when valid)
        numbers = self.row_numbers or range(FIRST_DATA_ROW, FIRST_DATA_ROW + len(rows))
        self.resolved, self.merged_keys, self.flagged, self.matched_by = {}, set(), {}, {}
        self._duplicates = None
        for number, row in zip(numbers, rows, strict=True):
            self.match_row(number, row)
        # A matched row's slug names the stored actor in the file's other rows (parents).
        self.file_slugs |= set(self.resolved.values())
        self.stored.read_ancestors()
        self.stored.read_identifiers_of(self.file_slugs)
        # As plain rows: `record_of` makes the instance of a row that writes.
        self.existing = {slug: self.known[slug] for slug in self.file_slugs if slug in self.known}
        self.parent_of = {k.slug: self.slug_of.get(k.parent_id) for k in self.known.values()}
        for row in rows:
            key = self.resolve(self.row_key(row))
            if "parent" in row and key:
                self.parent_of[key] = self.resolve(row["parent"].strip()) or None
        self.planned = {}

    @property
    def duplicates(self):
        # Only a row that matches nothing needs it: a re-import never builds it.
        if self._duplicates is None:
            self._duplicates = DuplicateFinder(known_actors())
        return self._duplicates

    def resolve(self, slug):
        return self.resolved.get(slug, slug)

    def match_row(self, number, row):
        """Match a row whose slug is unknown: by identifier, else look for a duplicate."""
        slug = self.row_key(row)
        if not slug or slug in self.known:
            return
        for item in split_list(row.get("identifiers", "")):
            scheme, _, identifier = (part.strip() for part in item.partition(":"))
            owner = self.identifier_owner.get((scheme.lower(), identifier))
            if owner and owner not in self.file_slugs:
                self.resolved[slug] = owner
                self.merged_keys.add(owner)
                self.matched_by[slug] = f"matched by {scheme.lower()}:{identifier}"
                return
        parent = self.known.get(row.get("parent", "").strip())
        candidates = self.duplicates.of(
            row.get("name", ""),
            parent_id=parent.pk if parent else None,
            country=row.get("country", "").strip().upper(),
        )
        candidates = [c for c in candidates if c.slug not in self.file_slugs]
        if not candidates:
            return
        choice = self.context.duplicate_choice(number)
        if choice == "same":
            self.stored.add(candidates[:1])
            self.resolved[slug] = candidates[0].slug
            self.merged_keys.add(candidates[0].slug)
            self.matched_by[slug] = f"same actor as '{candidates[0].slug}' (chosen)"
        elif choice != "new":
            self.flagged[number] = [instance_of(c) for c in candidates]

    def record_of(self, existing):
        return instance_of(existing)

    def match(self, number, key):
        resolved = self.resolve(key)
        return resolved, self.matched_by.get(key, "")

    def duplicates_of(self, number, key, instance):
        return self.flagged.get(number, [])

    def key_errors(self, number, row, key):
        errors = super().key_errors(number, row, key)
        resolved = self.resolve(key)
        if key and resolved in self.planned and resolved != key:
            errors.append(
                RowError(
                    number,
                    "slug",
                    f"This row and row {self.planned[resolved]} both name actor '{resolved}'.",
                )
            )
        elif key:
            self.planned.setdefault(resolved, number)
        return errors

    def label(self, model_field, pk):
        return self.slug_of.get(pk, f"#{pk}")

    def parse_parent(self, value):
        parent_slug = self.resolve(value.strip()) or None
        if parent_slug and parent_slug not in self.known and parent_slug not in self.file_slugs:
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

    def parse_website(self, value):
        website = parse_http_url(value)
        limit = Actor._meta.get_field("website").max_length
        if len(website) > limit:
            raise CellError(f"A web address may have at most {limit} characters.")
        return website

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
            pair = (scheme.lower(), identifier)
            # A stored identifier passed these checks when it was written.
            problems = [] if pair in self.identifier_owner else self.identifier_problems(*pair)
            if problems:
                messages += problems
                continue
            message = self.claim(pair, item)
            if message:
                messages.append(message)
            elif pair not in wanted:
                wanted.append(pair)
        if messages:
            raise CellError(*messages)
        return wanted

    def identifier_problems(self, scheme, identifier):
        """What ActorIdentifier's validation says of the pair, without an instance; each
        scheme is checked once a file."""
        if scheme not in self.valid_schemes:
            self.valid_schemes[scheme] = field_problems(ActorIdentifier, "scheme", scheme)
        problems = self.valid_schemes[scheme] + field_problems(
            ActorIdentifier, "identifier", identifier
        )
        if problems:
            return problems
        message = ActorIdentifier.format_error(scheme, identifier)
        return [message] if message else []

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
            if existing is None or self.note_change(
                "parent", current_parent or "", related["parent"] or ""
            ):
                changed.append("parent")
            else:
                related["parent"] = current_parent
        wanted = related.pop("identifiers", None)
        stored = self.identifiers_by_actor.get(self.key, [])
        current = [(i.scheme, i.identifier) for i in stored]
        if wanted is None or set(wanted) == set(current):
            return False
        if existing is not None:
            if self.key in self.merged_keys:
                # A row matched by identifier or taken as the same actor adds its
                # identifiers to the actor's: it does not know the others.
                wanted = current + [pair for pair in wanted if pair not in current]
                if set(wanted) == set(current):
                    return False
            as_text = [f"{s}:{i}" for s, i in sorted(current)], [f"{s}:{i}" for s, i in wanted]
            if not self.note_change("identifiers", *as_text):
                return False
        related["identifiers"] = wanted
        return True


class StatementPlanner(SourceLookup, Planner):
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
        if existing is not None and signatories_changed:
            self.note_change(
                "signatories", self.signatory_text(current), self.signatory_text(wanted)
            )
        if existing is not None and conditions_changed:
            names = {c.pk: c.slug for c in self.conditions.values()}
            if not self.note_change(
                "conditions",
                sorted(names.get(c, f"#{c}") for c in current_conditions),
                sorted(names.get(c, f"#{c}") for c in conditions_ids),
            ):
                conditions_ids, conditions_changed = current_conditions, False
        related.clear()
        related.update(
            signatories=wanted if signatories_changed else None,
            conditions=conditions_ids,
            conditions_changed=conditions_changed,
            statement_changed=bool(changed) or conditions_changed or existing is None,
        )
        return signatories_changed or conditions_changed

    def signatory_text(self, signatures):
        slugs = {a.pk: a.slug for a in self.actors.values()}
        return [
            slugs.get(actor_id, f"#{actor_id}") + (LEAD_MARK if lead else "")
            for actor_id, _order, lead in signatures
        ]

    def label(self, model_field, pk):
        if model_field.name == "question":
            keys = {q.pk: k for k, q in self.questions.items()}
            return keys.get(pk, f"#{pk}")
        if model_field.name == "source":
            return self.source_label(pk)
        return super().label(model_field, pk)

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
    "memberships": MembershipPlanner,
    "acts": ActPlanner,
}
