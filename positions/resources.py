"""
The file types of the tracker: one resource per type, keyed on natural keys, never ids.

| type       | key                         | lists in one cell (separated by `|`)            |
| ---------- | --------------------------- | ----------------------------------------------- |
| topics     | slug                        |                                                 |
| questions  | topic + slug                |                                                 |
| conditions | slug                        |                                                 |
| actors     | slug                        | aliases; identifiers as `scheme:identifier`     |
| sources    | url                         |                                                 |
| statements | import_ref                  | signatories (actor slugs, lead marked with `*`   |
|            |                             | unless it is the first); conditions (slugs)     |

Each resource is the single place that knows its columns, both ways: `export_row()` writes
them (admin export, public downloads) and `plan_row()` reads them back (admin import,
management commands, benchmark), so a file exported from the tracker imports unchanged.
Columns are documented in docs/import-format.md.

The import itself (reading files, validating every row, all-or-nothing writes with
history) is the service in `positions/importing.py`; django-import-export's admin calls it
through `TrackerResource.import_data()`.
"""

import functools
import re

import tablib
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import Prefetch
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django_countries import countries
from import_export import resources
from import_export.admin import ImportExportMixin
from import_export.fields import Field
from import_export.formats import base_formats
from import_export.forms import ImportForm
from import_export.results import InvalidRow, Result, RowResult
from import_export.tmp_storages import CacheStorage
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from . import editorial, importing, stances
from .importing import (
    BlankCell,
    CellError,
    ImportContext,
    RowError,
    RowPlan,
    chunked,
    join_list,
    parse_choice,
    parse_date,
    parse_http_url,
    parse_int,
    split_list,
)
from .models import (
    Actor,
    ActorIdentifier,
    ActorKind,
    Attribution,
    Condition,
    ConditionStatus,
    DatePrecision,
    Question,
    Signatory,
    Source,
    SourceKind,
    Stance,
    Statement,
    StatementStatus,
    Topic,
)

BATCH_SIZE = 500
LEAD_MARK = "*"
# Statements entered in the admin have no import reference; exports key them by id.
FALLBACK_KEY = re.compile(r"^pt-([1-9][0-9]*)$")


def text(value):
    return "" if value is None else str(value)


def iso(value):
    return value.isoformat() if value else ""


@functools.cache
def unvalidated_fields(model):
    """Relations (resolved from prefetched maps) and fields editors never type."""
    return frozenset(f.name for f in model._meta.fields if f.is_relation or not f.editable)


@functools.cache
def fields_by_name(model):
    return {f.name: f for f in model._meta.fields}


class TrackerResource(resources.ModelResource):
    """Shared behaviour: export by `export_row()`, import through `positions.importing`."""

    kind = ""
    key_column = ""
    columns = ()
    required_columns = ()
    list_columns = frozenset()

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.existing = {}

    # --- export --------------------------------------------------------------------------

    @classmethod
    def export_queryset(cls, queryset=None):
        """The rows of an export, in a stable order, with what `export_row` needs loaded."""
        raise NotImplementedError

    def export_values(self, obj):
        """Column -> value; list columns as lists of strings, everything else a string."""
        raise NotImplementedError

    def export_row(self, obj):
        values = self.export_values(obj)
        return {
            column: join_list(values[column]) if column in self.list_columns else values[column]
            for column in self.columns
        }

    def export(self, queryset=None, **kwargs):
        # The admin passes its filtered changelist queryset: keep the filter, replace its
        # prefetches and ordering with ours so the export runs a fixed number of queries.
        if queryset is not None:
            queryset = queryset.prefetch_related(None)
        queryset = self.export_queryset(queryset)
        return super().export(queryset=queryset, **kwargs)

    def export_resource(self, instance, selected_fields=None, **kwargs):
        row = self.export_row(instance)
        return [row[field.column_name] for field in self.get_export_fields(selected_fields)]

    def iter_queryset(self, queryset):
        # Our querysets prefetch; iterate them whole (chunked iterator() would drop it).
        return iter(queryset)

    # --- import --------------------------------------------------------------------------

    def row_key(self, row):
        return row.get(self.key_column, "").strip()

    def prepare(self, rows, context):
        """Load, in a few queries for the whole file, everything the rows refer to."""

    def plan_row(self, number, row, context):
        raise NotImplementedError

    def write(self, plans, context):
        raise NotImplementedError

    def cell(self, number, row, column, parser, errors, values, attribute=None):
        """Parse one cell into `values[attribute]`; a bad cell becomes a `RowError`."""
        if column not in row:
            return
        try:
            values[attribute or column] = parser(row[column])
        except BlankCell:
            pass
        except CellError as error:
            errors.append(RowError(number, column, str(error)))

    # Fields whose cells the parsers already checked as strictly as the model would
    # (choices, dates); `validate()` does not check them twice.
    parsed_fields = frozenset()

    def validate(self, number, instance, errors, run_clean=True):
        """
        The model's own rules (field validators, `clean()`) without database queries:
        relations are resolved from the prefetched maps, and uniqueness is the key's job.
        """
        if errors:
            return
        exclude = unvalidated_fields(type(instance)) | self.parsed_fields
        methods = [lambda: instance.clean_fields(exclude=exclude)]
        if run_clean:
            methods.append(instance.clean)
        for method in methods:
            try:
                method()
            except ValidationError as error:
                for name, messages in error.update_error_dict({}).items():
                    column = "" if name == NON_FIELD_ERRORS else self.column_of(name)
                    errors.extend(RowError(number, column, str(m)) for m in messages)

    def column_of(self, field_name):
        return field_name if field_name in self.columns else ""

    @staticmethod
    def apply(instance, values):
        """Set `values` on `instance`; return the names of the fields that changed."""
        changed = []
        fields = fields_by_name(type(instance))
        for name, value in values.items():
            field = fields[name]
            if field.is_relation:
                # Compare ids: reading the related object could cost a query.
                current, new = getattr(instance, field.attname), value.pk if value else None
            else:
                current, new = getattr(instance, name), value
            if current != new:
                setattr(instance, name, value)
                changed.append(name)
        return changed

    def write_simple(self, plans, context, model):
        """Bulk create and update rows of a model without relations, with history."""
        now = timezone.now()
        new = [p.instance for p in plans if p.action == "new"]
        changed = [p for p in plans if p.action == "update"]
        bulk_create_with_history(
            new,
            model,
            batch_size=BATCH_SIZE,
            default_user=context.user,
            default_change_reason=context.change_reason,
        )
        if changed:
            fields = sorted({f for p in changed for f in p.changed_fields})
            for plan in changed:
                plan.instance.updated_at = now
            bulk_update_with_history(
                [p.instance for p in changed],
                model,
                fields=[*fields, "updated_at"],
                batch_size=BATCH_SIZE,
                default_user=context.user,
                default_change_reason=context.change_reason,
            )

    # --- django-import-export admin bridge ----------------------------------------------

    def get_user_visible_fields(self):
        return [self.fields[column] for column in self.columns]

    def import_data(self, dataset, dry_run=False, raise_errors=False, **kwargs):
        """
        The admin's import preview (dry run) and confirm step, through the same service as
        the management commands; returns django-import-export's `Result` for its templates.
        """
        user = kwargs.get("user")
        context = ImportContext(user=user, file_name=kwargs.get("file_name") or "")
        table = importing.Table(
            headers=[importing._header(h) for h in dataset.headers or []],
            rows=importing._rows([importing._header(h) for h in dataset.headers or []], dataset),
        )
        report = importing.run_import(self, table, context=context, dry_run=dry_run)
        return self.result_from_report(report)

    def result_from_report(self, report):
        result = Result()
        result.diff_headers = list(self.columns)
        result.total_rows = len(report.plans) + len({e.row for e in report.errors})
        by_row = {}
        for error in report.errors:
            by_row.setdefault(error.row, {}).setdefault(error.column or NON_FIELD_ERRORS, [])
            by_row[error.row][error.column or NON_FIELD_ERRORS].append(error.message)
        for number, row_messages in sorted(by_row.items()):
            # Problems with the file as a whole are shown on row 1, the header row.
            result.invalid_rows.append(
                InvalidRow(
                    number=number or 1,
                    validation_error=ValidationError(row_messages),
                    values=tuple(
                        report.error_rows.get(number, {}).get(column, "") for column in self.columns
                    ),
                )
            )
            result.totals[RowResult.IMPORT_TYPE_INVALID] += 1
        for plan in report.plans:
            row_result = RowResult()
            row_result.import_type = plan.action
            row_result.diff = [plan.values.get(column, "") for column in self.columns]
            if report.written and plan.action != "skip":
                row_result.instance = plan.instance
                row_result.add_instance_info(plan.instance)
            result.increment_row_result_total(row_result)
            result.append_row_result(row_result)
        return result


def keyed(resource_class):
    """Declare one django-import-export Field per column, so the admin lists them."""
    for column in resource_class.columns:
        resource_class.fields[column] = Field(attribute=None, column_name=column)
    resource_class._meta.export_order = resource_class.columns
    resource_class._meta.import_order = resource_class.columns
    return resource_class


# --- Topics, questions, conditions, sources ---------------------------------------------


@keyed
class TopicResource(TrackerResource):
    kind = "topics"
    key_column = "slug"
    columns = ("slug", "title", "summary")
    required_columns = ("slug",)

    class Meta:
        model = Topic
        fields = ()
        clean_model_instances = True

    @classmethod
    def export_queryset(cls, queryset=None):
        return (queryset if queryset is not None else Topic.objects.all()).order_by("slug")

    def export_values(self, topic):
        return {"slug": topic.slug, "title": topic.title, "summary": topic.summary}

    def prepare(self, rows, context):
        keys = {self.row_key(r) for r in rows}
        self.existing = {t.slug: t for t in Topic.objects.filter(slug__in=keys)}

    def plan_row(self, number, row, context):
        errors, values = [], {"slug": self.row_key(row)}
        for column in ("title", "summary"):
            self.cell(number, row, column, str, errors, values)
        return plan_simple(self, number, Topic, values, errors)

    def write(self, plans, context):
        self.write_simple(plans, context, Topic)


def plan_simple(resource, number, model, values, errors):
    key = values.get(resource.key_column, "")
    if not key:
        errors.append(RowError(number, resource.key_column, "The key column cannot be empty."))
        return None, errors
    existing = resource.existing.get(key)
    instance = existing or model()
    changed = resource.apply(instance, values)
    resource.validate(number, instance, errors)
    if errors:
        return None, errors
    action = "new" if existing is None else ("update" if changed else "skip")
    return RowPlan(number, key, action, instance, changed_fields=changed), []


@keyed
class QuestionResource(TrackerResource):
    kind = "questions"
    key_column = "slug"
    columns = ("topic", "slug", "title", "short_label", "description", "display_order")
    required_columns = ("topic", "slug")

    class Meta:
        model = Question
        fields = ()
        clean_model_instances = True

    @classmethod
    def export_queryset(cls, queryset=None):
        queryset = queryset if queryset is not None else Question.objects.all()
        return queryset.select_related("topic").order_by("topic__slug", "display_order", "slug")

    def export_values(self, question):
        return {
            "topic": question.topic.slug,
            "slug": question.slug,
            "title": question.title,
            "short_label": question.short_label,
            "description": question.description,
            "display_order": str(question.display_order),
        }

    def row_key(self, row):
        topic, slug = row.get("topic", "").strip(), row.get("slug", "").strip()
        return f"{topic}/{slug}" if topic and slug else ""

    def prepare(self, rows, context):
        topic_slugs = {r.get("topic", "").strip() for r in rows}
        self.topics = {t.slug: t for t in Topic.objects.filter(slug__in=topic_slugs)}
        self.existing = {
            f"{q.topic.slug}/{q.slug}": q
            for q in Question.objects.filter(topic__slug__in=topic_slugs).select_related("topic")
        }

    def plan_row(self, number, row, context):
        errors, values = [], {}
        topic = self.topics.get(row.get("topic", "").strip())
        if topic is None:
            errors.append(RowError(number, "topic", f"Unknown topic '{row.get('topic', '')}'."))
        slug = row.get("slug", "").strip()
        if not slug:
            errors.append(RowError(number, "slug", "The key column cannot be empty."))
        for column in ("title", "short_label", "description"):
            self.cell(number, row, column, str, errors, values)
        self.cell(number, row, "display_order", parse_int, errors, values)
        if errors:
            return None, errors
        key = self.row_key(row)
        existing = self.existing.get(key)
        instance = existing or Question(topic=topic, slug=slug)
        changed = self.apply(instance, values)
        self.validate(number, instance, errors)
        if errors:
            return None, errors
        action = "new" if existing is None else ("update" if changed else "skip")
        return RowPlan(number, key, action, instance, changed_fields=changed), []

    def write(self, plans, context):
        self.write_simple(plans, context, Question)


@keyed
class ConditionResource(TrackerResource):
    kind = "conditions"
    key_column = "slug"
    columns = ("slug", "text", "description", "status", "status_date", "status_note")
    required_columns = ("slug",)

    class Meta:
        model = Condition
        fields = ()
        clean_model_instances = True

    @classmethod
    def export_queryset(cls, queryset=None):
        return (queryset if queryset is not None else Condition.objects.all()).order_by("slug")

    def export_values(self, condition):
        return {
            "slug": condition.slug,
            "text": condition.text,
            "description": condition.description,
            "status": condition.status,
            "status_date": iso(condition.status_date),
            "status_note": condition.status_note,
        }

    def prepare(self, rows, context):
        keys = {self.row_key(r) for r in rows}
        self.existing = {c.slug: c for c in Condition.objects.filter(slug__in=keys)}

    def plan_row(self, number, row, context):
        errors, values = [], {"slug": self.row_key(row)}
        for column in ("text", "description", "status_note"):
            self.cell(number, row, column, str, errors, values)
        self.cell(
            number,
            row,
            "status",
            lambda v: parse_choice(v, ConditionStatus, optional=True, what="status"),
            errors,
            values,
        )
        self.cell(number, row, "status_date", parse_date, errors, values)
        return plan_simple(self, number, Condition, values, errors)

    def write(self, plans, context):
        self.write_simple(plans, context, Condition)


def looks_like_url(value):
    """A source reference is a URL when it has a scheme; anything else is a title."""
    return "://" in value or URL_SCHEME.match(value) is not None


# Schemes that are never a document's address but could be pasted into a cell.
URL_SCHEME = re.compile(r"^(javascript|data|vbscript|file|mailto|ftp):", re.IGNORECASE)


@keyed
class SourceResource(TrackerResource):
    """
    Keyed on the URL. A document that is not online has no URL: its title is its key
    (titles of such sources must then be distinct), in this file and in statements.
    """

    kind = "sources"
    key_column = "url"
    columns = ("url", "title", "publisher", "kind", "archive_url", "published_on")
    required_columns = ("url", "title")

    class Meta:
        model = Source
        fields = ()
        clean_model_instances = True

    @classmethod
    def export_queryset(cls, queryset=None):
        queryset = queryset if queryset is not None else Source.objects.all()
        return queryset.order_by("url", "title", "pk")

    @staticmethod
    def reference(source):
        """How statements refer to a source: its URL, or the title of an offline document."""
        return source.url or source.title

    def export_values(self, source):
        return {
            "url": source.url,
            "title": source.title,
            "publisher": source.publisher,
            "kind": source.kind,
            "archive_url": source.archive_url,
            "published_on": iso(source.published_on),
        }

    def row_key(self, row):
        url = row.get("url", "").strip()
        return url or (f"title:{row.get('title', '').strip()}" if row.get("title") else "")

    def prepare(self, rows, context):
        self.existing = {}
        urls = [r.get("url", "").strip() for r in rows if r.get("url", "").strip()]
        for chunk in chunked(urls):
            self.existing.update({s.url: s for s in Source.objects.filter(url__in=chunk)})
        titles = [r.get("title", "").strip() for r in rows if not r.get("url", "").strip()]
        for chunk in chunked(titles):
            for source in Source.objects.filter(url="", title__in=chunk).order_by("pk"):
                self.existing.setdefault(f"title:{source.title}", source)

    def plan_row(self, number, row, context):
        errors, values = [], {}
        self.cell(number, row, "url", parse_http_url, errors, values)
        for column in ("title", "publisher"):
            self.cell(number, row, column, str, errors, values)
        self.cell(
            number,
            row,
            "kind",
            lambda v: parse_choice(v, SourceKind, what="source kind"),
            errors,
            values,
        )
        self.cell(number, row, "archive_url", parse_http_url, errors, values)
        self.cell(number, row, "published_on", parse_date, errors, values)
        key = self.row_key(row)
        if not key:
            errors.append(
                RowError(
                    number, "url", "Give the URL, or a title for a document that is not online."
                )
            )
        if errors:
            return None, errors
        existing = self.existing.get(key)
        instance = existing or Source()
        changed = self.apply(instance, values)
        self.validate(number, instance, errors)
        if errors:
            return None, errors
        action = "new" if existing is None else ("update" if changed else "skip")
        return RowPlan(number, key, action, instance, changed_fields=changed), []

    def write(self, plans, context):
        self.write_simple(plans, context, Source)


# --- Actors -------------------------------------------------------------------------------


def parse_country(value):
    if not value:
        return ""
    code = value.strip().upper()
    if code not in dict(countries):
        raise CellError(f"Unknown country '{value}': use a two-letter ISO 3166-1 code.")
    return code


@keyed
class ActorResource(TrackerResource):
    kind = "actors"
    key_column = "slug"
    columns = (
        "slug",
        "name",
        "kind",
        "country",
        "parent",
        "aliases",
        "description",
        "website",
        "identifiers",
    )
    required_columns = ("slug",)
    list_columns = frozenset({"aliases", "identifiers"})

    class Meta:
        model = Actor
        fields = ()
        clean_model_instances = True

    @classmethod
    def export_queryset(cls, queryset=None):
        queryset = queryset if queryset is not None else Actor.objects.all()
        return queryset.select_related("parent").prefetch_related("identifiers").order_by("slug")

    def export_values(self, actor):
        return {
            "slug": actor.slug,
            "name": actor.name,
            "kind": actor.kind,
            "country": actor.country.code or "",
            "parent": actor.parent.slug if actor.parent else "",
            "aliases": actor.alias_list,
            "description": actor.description,
            "website": actor.website,
            "identifiers": [f"{i.scheme}:{i.identifier}" for i in actor.identifiers.all()],
        }

    def prepare(self, rows, context):
        # Actors are few (thousands at most): one query loads them all, so parents can be
        # resolved and parent chains checked for loops without a query per row.
        self.all_actors = {a.slug: a for a in Actor.objects.all()}
        self.slug_of = {a.pk: a.slug for a in self.all_actors.values()}
        self.existing = self.all_actors
        self.file_slugs = {self.row_key(r) for r in rows}
        self.parent_of = {a.slug: self.slug_of.get(a.parent_id) for a in self.all_actors.values()}
        for row in rows:
            if "parent" in row and self.row_key(row):
                self.parent_of[self.row_key(row)] = row["parent"].strip() or None
        identifiers = {}
        for row in rows:
            for item in split_list(row.get("identifiers", "")):
                identifiers.setdefault(item.partition(":")[2].strip(), None)
        self.identifiers_by_actor = {}
        self.identifier_owner = {}
        queryset = ActorIdentifier.objects.filter(actor__slug__in=self.file_slugs)
        for chunk in chunked(identifiers):
            queryset = queryset | ActorIdentifier.objects.filter(identifier__in=chunk)
        for identifier in queryset:
            owner = self.slug_of.get(identifier.actor_id)
            self.identifier_owner[(identifier.scheme, identifier.identifier)] = owner
            self.identifiers_by_actor.setdefault(owner, []).append(identifier)
        self.claimed = {}

    def parse_identifiers(self, number, slug, value, errors):
        wanted = []
        for item in split_list(value):
            scheme, colon, identifier = (part.strip() for part in item.partition(":"))
            if not colon or not scheme or not identifier:
                errors.append(
                    RowError(
                        number,
                        "identifiers",
                        f"'{item}' is not an identifier: write scheme:identifier, e.g. "
                        "wikidata:Q42.",
                    )
                )
                continue
            candidate = ActorIdentifier(scheme=scheme.lower(), identifier=identifier)
            try:
                candidate.clean_fields(exclude={"actor"})
                candidate.clean()
            except ValidationError as error:
                for messages in error.message_dict.values():
                    errors.extend(RowError(number, "identifiers", m) for m in messages)
                continue
            pair = (candidate.scheme, candidate.identifier)
            owner = self.identifier_owner.get(pair)
            if owner and owner != slug and owner not in self.file_slugs:
                errors.append(
                    RowError(number, "identifiers", f"{item} already belongs to actor '{owner}'.")
                )
            elif pair in self.claimed and self.claimed[pair] != slug:
                errors.append(
                    RowError(
                        number,
                        "identifiers",
                        f"{item} is also given to actor '{self.claimed[pair]}' in this file.",
                    )
                )
            else:
                self.claimed[pair] = slug
                if pair not in wanted:
                    wanted.append(pair)
        return wanted

    def plan_row(self, number, row, context):
        errors, values = [], {}
        slug = self.row_key(row)
        if not slug:
            return None, [RowError(number, "slug", "The key column cannot be empty.")]
        for column in ("name", "description"):
            self.cell(number, row, column, str, errors, values)
        self.cell(
            number,
            row,
            "kind",
            lambda v: parse_choice(v, ActorKind, what="actor kind"),
            errors,
            values,
        )
        self.cell(number, row, "country", parse_country, errors, values)
        self.cell(number, row, "website", parse_http_url, errors, values)
        if "aliases" in row:
            values["aliases"] = "\n".join(split_list(row["aliases"]))
        parent_slug = self.parent_of.get(slug)
        if "parent" in row and parent_slug:
            if parent_slug not in self.all_actors and parent_slug not in self.file_slugs:
                errors.append(RowError(number, "parent", f"Unknown actor '{parent_slug}'."))
            elif self.loops(slug):
                errors.append(
                    RowError(number, "parent", "The parent chain loops back to this actor.")
                )
        wanted_identifiers = None
        if "identifiers" in row:
            wanted_identifiers = self.parse_identifiers(number, slug, row["identifiers"], errors)
        existing = self.existing.get(slug)
        instance = existing or Actor(slug=slug)
        changed = self.apply(instance, values)
        current_parent = self.slug_of.get(instance.parent_id)
        if "parent" in row and (parent_slug or None) != current_parent:
            changed.append("parent")
        # Actor.clean() walks the parent chain with a query per step; `loops()` checks the
        # same rule on the chain loaded in `prepare()`.
        self.validate(number, instance, errors, run_clean=False)
        if errors:
            return None, errors
        related = {"parent": parent_slug if "parent" in row else current_parent}
        current = {(i.scheme, i.identifier) for i in self.identifiers_by_actor.get(slug, [])}
        identifiers_changed = False
        if wanted_identifiers is not None and set(wanted_identifiers) != current:
            related["identifiers"] = wanted_identifiers
            identifiers_changed = True
        action = "new" if existing is None else "update"
        if existing is not None and not changed and not identifiers_changed:
            action = "skip"
        return RowPlan(number, slug, action, instance, changed_fields=changed, related=related), []

    def loops(self, slug):
        seen, current = {slug}, self.parent_of.get(slug)
        while current:
            if current in seen:
                return True
            seen.add(current)
            current = self.parent_of.get(current)
        return False

    def write(self, plans, context):
        now = timezone.now()
        by_slug = dict(self.all_actors)
        new = {p.key: p for p in plans if p.action == "new"}
        # Parents first: an actor whose parent is new in this file waits for its parent.
        pending = dict(new)
        while pending:
            level = [p for p in pending.values() if p.related.get("parent") not in pending]
            for plan in level:
                parent = (
                    by_slug.get(plan.related.get("parent")) if plan.related.get("parent") else None
                )
                plan.instance.parent = parent
            bulk_create_with_history(
                [p.instance for p in level],
                Actor,
                batch_size=BATCH_SIZE,
                default_user=context.user,
                default_change_reason=context.change_reason,
            )
            for plan in level:
                by_slug[plan.key] = plan.instance
                del pending[plan.key]
        changed = [p for p in plans if p.action == "update" and p.changed_fields]
        for plan in changed:
            parent_slug = plan.related.get("parent")
            plan.instance.parent = by_slug.get(parent_slug) if parent_slug else None
            plan.instance.updated_at = now
        if changed:
            fields = {f for p in changed for f in p.changed_fields}
            bulk_update_with_history(
                [p.instance for p in changed],
                Actor,
                fields=sorted(fields | {"updated_at"}),
                batch_size=BATCH_SIZE,
                default_user=context.user,
                default_change_reason=context.change_reason,
            )
            if "name" in fields:  # Bulk updates send no signal: the positions' copies.
                stances.refresh_actor_names([p.instance.pk for p in changed])
        self.write_identifiers([p for p in plans if "identifiers" in p.related], context)

    def write_identifiers(self, plans, context):
        to_create = []
        for plan in plans:
            wanted = set(plan.related["identifiers"])
            for identifier in self.identifiers_by_actor.get(plan.key, []):
                if (identifier.scheme, identifier.identifier) not in wanted:
                    delete_with_history(identifier, context)
        # Deletions first: an identifier may move from one actor to another in one file.
        for plan in plans:
            current = {
                (i.scheme, i.identifier) for i in self.identifiers_by_actor.get(plan.key, [])
            }
            to_create += [
                ActorIdentifier(actor=plan.instance, scheme=scheme, identifier=identifier)
                for scheme, identifier in plan.related["identifiers"]
                if (scheme, identifier) not in current
            ]
        bulk_create_with_history(
            to_create,
            ActorIdentifier,
            batch_size=BATCH_SIZE,
            default_user=context.user,
            default_change_reason=context.change_reason,
        )


def editorial_error(existing, old_status, new_status, user):
    """
    The editorial rules (`positions.editorial`) for a row that creates or changes a
    statement. A new row in any status restores a record as it stands elsewhere, so only
    what readers would see needs a Publisher; an existing statement moves as in the admin.
    """
    if existing is None:
        if new_status == StatementStatus.DRAFT or editorial.can_publish(user):
            return None
        return editorial.ONLY_PUBLISHERS
    if not editorial.may_edit(user, old_status):
        return editorial.locked_message(old_status)
    return editorial.status_change_error(user, old_status, new_status)


def delete_with_history(instance, context):
    """Delete one row; simple-history's signal records who and why."""
    instance._history_user = context.user
    instance._change_reason = context.change_reason
    instance.delete()


def save_with_history(instance, context):
    instance._history_user = context.user
    instance._change_reason = context.change_reason
    instance.save()


# --- Statements ---------------------------------------------------------------------------


@keyed
class StatementResource(TrackerResource):
    kind = "statements"
    key_column = "import_ref"
    columns = (
        "import_ref",
        "question",
        "date",
        "date_precision",
        "stance",
        "signatories",
        "conditions",
        "summary",
        "quote",
        "quote_locator",
        "attribution",
        "source",
        "status",
        "correction_note",
    )
    required_columns = ("import_ref", "question", "date", "stance", "signatories", "summary")
    list_columns = frozenset({"signatories", "conditions"})
    parsed_fields = frozenset({"date", "date_precision", "stance", "attribution", "status"})

    class Meta:
        model = Statement
        fields = ()
        clean_model_instances = True

    @classmethod
    def export_queryset(cls, queryset=None):
        queryset = queryset if queryset is not None else Statement.objects.all()
        return (
            queryset.select_related("question__topic", "source")
            .prefetch_related(
                Prefetch(
                    "signatures",
                    queryset=Signatory.objects.select_related("actor").order_by("order", "pk"),
                ),
                Prefetch("conditions", queryset=Condition.objects.order_by("slug")),
            )
            .order_by("date", "pk")
        )

    @staticmethod
    def key_of(statement):
        return statement.import_ref or f"pt-{statement.pk}"

    def export_values(self, statement):
        signatures = list(statement.signatures.all())
        first_is_lead = (
            not signatures or signatures[0].is_lead or not any(s.is_lead for s in signatures)
        )
        return {
            "import_ref": self.key_of(statement),
            "question": f"{statement.question.topic.slug}/{statement.question.slug}",
            "date": iso(statement.date),
            "date_precision": statement.date_precision,
            "stance": statement.stance,
            "signatories": [
                s.actor.slug + (LEAD_MARK if s.is_lead and not first_is_lead else "")
                for s in signatures
            ],
            "conditions": [c.slug for c in statement.conditions.all()],
            "summary": statement.summary,
            "quote": statement.quote,
            "quote_locator": statement.quote_locator,
            "attribution": statement.attribution,
            "source": SourceResource.reference(statement.source) if statement.source else "",
            "status": statement.status,
            "correction_note": statement.correction_note,
        }

    # --- import: one query per related table for the whole file -------------------------

    def prepare(self, rows, context):
        keys = [self.row_key(r) for r in rows if self.row_key(r)]
        existing_qs = Statement.objects.prefetch_related(
            Prefetch("signatures", queryset=Signatory.objects.order_by("order", "pk"))
        )
        self.existing = {}
        for chunk in chunked(keys):
            self.existing.update(
                {s.import_ref: s for s in existing_qs.filter(import_ref__in=chunk)}
            )
        fallback_ids = {
            int(m.group(1)): key
            for key in keys
            if key not in self.existing and (m := FALLBACK_KEY.match(key))
        }
        for chunk in chunked(fallback_ids):
            for statement in existing_qs.filter(pk__in=chunk, import_ref=""):
                self.existing[fallback_ids[statement.pk]] = statement
        through = Statement.conditions.through
        self.condition_links = {}
        for chunk in chunked([s.pk for s in self.existing.values()]):
            for link in through.objects.filter(statement_id__in=chunk):
                self.condition_links.setdefault(link.statement_id, {})[link.condition_id] = link

        question_keys = {r.get("question", "").strip() for r in rows}
        topic_slugs = {k.partition("/")[0] for k in question_keys}
        question_slugs = {k.partition("/")[2] for k in question_keys}
        self.questions = {
            f"{q.topic.slug}/{q.slug}": q
            for q in Question.objects.filter(
                topic__slug__in=topic_slugs, slug__in=question_slugs
            ).select_related("topic")
        }
        actor_slugs = {
            s.rstrip(LEAD_MARK).strip() for r in rows for s in split_list(r.get("signatories", ""))
        }
        self.actors = {}
        for chunk in chunked(actor_slugs):
            self.actors.update(
                {a.slug: a for a in Actor.objects.filter(slug__in=chunk).only("pk", "slug", "name")}
            )
        references = {r.get("source", "").strip() for r in rows} - {""}
        urls = [r for r in references if looks_like_url(r)]
        titles = [r for r in references if not looks_like_url(r)]
        self.sources, self.offline_sources = {}, {}
        for chunk in chunked(urls):
            self.sources.update({s.url: s for s in Source.objects.filter(url__in=chunk)})
        for chunk in chunked(titles):
            for source in Source.objects.filter(url="", title__in=chunk):
                self.offline_sources.setdefault(source.title, []).append(source)
        condition_slugs = {s for r in rows for s in split_list(r.get("conditions", ""))}
        self.conditions = {c.slug: c for c in Condition.objects.filter(slug__in=condition_slugs)}

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
            is_lead = item in marked if marked else index == 0
            result.append((actor, is_lead))
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

    def plan_row(self, number, row, context):
        errors, values = [], {}
        key = self.row_key(row)
        if not key:
            errors.append(RowError(number, "import_ref", "The key column cannot be empty."))
        self.cell(number, row, "question", self.parse_question, errors, values)
        self.cell(number, row, "date", lambda v: parse_date(v, required=True), errors, values)
        self.cell(
            number,
            row,
            "date_precision",
            lambda v: parse_choice(v, DatePrecision, optional=True, what="date precision"),
            errors,
            values,
        )
        self.cell(
            number,
            row,
            "stance",
            lambda v: parse_choice(v, Stance, what="stance"),
            errors,
            values,
        )
        for column in ("summary", "quote", "quote_locator", "correction_note"):
            self.cell(number, row, column, str, errors, values)
        self.cell(
            number,
            row,
            "attribution",
            lambda v: parse_choice(v, Attribution, optional=True, what="attribution"),
            errors,
            values,
        )
        self.cell(number, row, "source", self.parse_source, errors, values)
        self.cell(
            number,
            row,
            "status",
            lambda v: parse_choice(v, StatementStatus, optional=True, what="status"),
            errors,
            values,
        )
        related = {}
        self.cell(number, row, "signatories", self.parse_signatories, errors, related)
        self.cell(number, row, "conditions", self.parse_conditions, errors, related)
        if errors:
            return None, errors

        existing = self.existing.get(key)
        instance = existing or Statement(import_ref=key)
        old_status = instance.status if existing else None
        changed = self.apply(instance, values)
        # A statement the file does not touch keeps its conditions.
        conditions = related.get("conditions")
        current_conditions = set(self.condition_links.get(instance.pk, {})) if existing else set()
        conditions_ids = current_conditions if conditions is None else {c.pk for c in conditions}
        message = Statement.conditions_error(instance.stance, conditions_ids)
        if message:
            errors.append(RowError(number, "conditions", message))
        signatories = related["signatories"]
        wanted = [(actor.pk, order, is_lead) for order, (actor, is_lead) in enumerate(signatories)]
        current = (
            [(s.actor_id, s.order, s.is_lead) for s in instance.signatures.all()]
            if existing
            else []
        )
        signatories_changed = wanted != current
        conditions_changed = conditions_ids != current_conditions
        action = "new" if existing is None else "update"
        if existing is not None and not (changed or signatories_changed or conditions_changed):
            action = "skip"
        if action != "skip":
            message = editorial_error(existing, old_status, instance.status, context.acting_user)
            if message:
                errors.append(RowError(number, "status", message))
        self.validate(number, instance, errors)
        if errors:
            return None, errors
        if action != "skip" and instance.status != old_status:
            instance.mark_status(instance.status, context.user)
        return (
            RowPlan(
                number,
                key,
                action,
                instance,
                changed_fields=changed,
                related={
                    "signatories": wanted if signatories_changed else None,
                    "conditions": conditions_ids,
                    "conditions_changed": conditions_changed,
                    "statement_changed": bool(changed) or conditions_changed or existing is None,
                },
            ),
            [],
        )

    # --- write: batches, with history ----------------------------------------------------

    def write(self, plans, context):
        now = timezone.now()
        user = context.user
        new = [p for p in plans if p.action == "new"]
        updated = [p for p in plans if p.action == "update"]
        for plan in new:
            plan.instance.created_by = user
            plan.instance.updated_by = user
        Statement.objects.bulk_create([p.instance for p in new], batch_size=BATCH_SIZE)

        changed = [p for p in updated if p.changed_fields]
        if changed:
            fields = {f for p in changed for f in p.changed_fields}
            fields |= {"updated_at", "updated_by", "first_published_at", "retracted_at"}
            for plan in changed:
                plan.instance.updated_at = now
                plan.instance.updated_by = user
            Statement.objects.bulk_update(
                [p.instance for p in changed], sorted(fields), batch_size=BATCH_SIZE
            )

        links = self.write_conditions(new + updated)
        self.write_signatories(new, updated, context)
        # Bulk writes send no signals: move the positions these statements decide ourselves.
        stances.refresh_positions_for([p.instance.pk for p in new + updated])

        # The statement's history: one record per new or changed statement, with the
        # conditions it names at that point (simple-history's m2m snapshot).
        history_plans = [p for p in new + updated if p.related["statement_changed"]]
        records = []
        for is_update in (False, True):
            batch = [p for p in history_plans if (p.action == "update") == is_update]
            if batch:
                records += zip(
                    batch,
                    Statement.history.bulk_history_create(
                        [p.instance for p in batch],
                        batch_size=BATCH_SIZE,
                        update=is_update,
                        default_user=user,
                        default_change_reason=context.change_reason,
                    ),
                    strict=True,
                )
        m2m_history = Statement.history.model.conditions.model
        m2m_history.objects.bulk_create(
            [
                m2m_history(
                    history=record,
                    id=links[plan.instance.pk][condition_id].pk,
                    statement_id=plan.instance.pk,
                    condition_id=condition_id,
                )
                for plan, record in records
                for condition_id in sorted(plan.related["conditions"])
            ],
            batch_size=BATCH_SIZE,
        )

    def write_conditions(self, plans):
        """Add and remove statement-condition links; return every statement's links."""
        through = Statement.conditions.through
        links = {}
        to_add, to_remove = [], []
        for plan in plans:
            current = dict(self.condition_links.get(plan.instance.pk, {}))
            wanted = plan.related["conditions"]
            to_remove += [link.pk for cid, link in current.items() if cid not in wanted]
            for cid in wanted - set(current):
                link = through(statement_id=plan.instance.pk, condition_id=cid)
                to_add.append(link)
                current[cid] = link
            links[plan.instance.pk] = {cid: link for cid, link in current.items() if cid in wanted}
        for chunk in chunked(to_remove):
            through.objects.filter(pk__in=chunk).delete()
        through.objects.bulk_create(to_add, batch_size=BATCH_SIZE)
        return links

    def write_signatories(self, new, updated, context):
        to_create = [
            Signatory(statement=p.instance, actor_id=actor_id, order=order, is_lead=is_lead)
            for p in new
            for actor_id, order, is_lead in p.related["signatories"]
        ]
        for plan in updated:
            wanted = plan.related["signatories"]
            if wanted is None:
                continue
            wanted_by_actor = {actor_id: (order, lead) for actor_id, order, lead in wanted}
            current = {s.actor_id: s for s in plan.instance.signatures.all()}
            # Remove, then drop the old lead flag, then set the rest: the database allows
            # one lead per statement at every step.
            for actor_id, signature in current.items():
                if actor_id not in wanted_by_actor:
                    delete_with_history(signature, context)
            for actor_id, signature in current.items():
                if (
                    actor_id in wanted_by_actor
                    and signature.is_lead
                    and not wanted_by_actor[actor_id][1]
                ):
                    signature.is_lead = False
                    save_with_history(signature, context)
            for actor_id, (order, is_lead) in wanted_by_actor.items():
                signature = current.get(actor_id)
                if signature is None:
                    to_create.append(
                        Signatory(
                            statement=plan.instance, actor_id=actor_id, order=order, is_lead=is_lead
                        )
                    )
                elif (signature.order, signature.is_lead) != (order, is_lead):
                    signature.order, signature.is_lead = order, is_lead
                    save_with_history(signature, context)
        bulk_create_with_history(
            to_create,
            Signatory,
            batch_size=BATCH_SIZE,
            default_user=context.user,
            default_change_reason=context.change_reason,
        )


# The order files must be imported in: each refers only to types before it.
RESOURCES = {
    resource.kind: resource
    for resource in (
        TopicResource,
        QuestionResource,
        ConditionResource,
        ActorResource,
        SourceResource,
        StatementResource,
    )
}


def dataset_from_table(table):
    dataset = tablib.Dataset(headers=table.headers)
    for row in table.rows:
        dataset.append([row.get(h, "") for h in table.headers])
    return dataset


# --- Admin: import and export with our formats, storage and sanitiser -------------------


def sanitized(dataset):
    """A copy of `dataset` with every formula cell quote-prefixed (see `sanitize_cell`)."""
    clean = tablib.Dataset(headers=dataset.headers)
    for row in dataset:
        clean.append([importing.sanitize_cell(value) for value in row])
    return clean


class TrackerFormatMixin:
    """
    Admin formats that read uploads with `importing.read_table` (BOM, Windows-1252, size
    limit, sheets, clear messages) and write CSV/XLSX through the formula sanitiser.
    The raw bytes are kept (binary) so the decoding happens in one place.
    """

    kind = ""
    sanitize = True

    def is_binary(self):
        return True

    def get_read_mode(self):
        return "rb"

    def create_dataset(self, in_stream, **kwargs):
        if in_stream is None:
            raise importing.ImportFileError(
                "The uploaded file is no longer available (it expired): upload it again."
            )
        if isinstance(in_stream, str):
            in_stream = in_stream.encode()
        table = importing.read_table(in_stream, f"{self.kind}.{self.extension}", kind=self.kind)
        return dataset_from_table(table)

    def export_data(self, dataset, **kwargs):
        return super().export_data(sanitized(dataset) if self.sanitize else dataset, **kwargs)


class SafeCSV(TrackerFormatMixin, base_formats.CSV):
    extension = "csv"


class SafeXLSX(TrackerFormatMixin, base_formats.XLSX):
    extension = "xlsx"


class TrackerJSON(TrackerFormatMixin, base_formats.JSON):
    extension = "json"
    sanitize = False  # not opened by spreadsheets


ADMIN_FORMATS = (SafeCSV, SafeXLSX, TrackerJSON)


class TrackerImportForm(ImportForm):
    def clean_import_file(self):
        upload = self.cleaned_data["import_file"]
        limit = settings.IMPORT_MAX_UPLOAD_BYTES
        if upload.size > limit:
            raise ValidationError(
                f"The file is {upload.size:,} bytes; the largest file accepted is {limit:,} "
                "bytes. Split it into several files, or ask the server's operator to import it "
                "with `manage.py import_data TYPE FILE --max-bytes N`, which accepts larger files."
            )
        return upload


class TrackerImportExportMixin(ImportExportMixin):
    """
    Import and export for a ModelAdmin of a type in `RESOURCES`:

    - formats CSV, XLSX and JSON (`ADMIN_FORMATS`); CSV and XLSX exports are sanitised;
    - the dry-run preview stores the upload in the cache (`CacheStorage`), which is Redis
      in production (`CACHE_URL`), so the confirm step works whichever process serves it;
    - permissions: settings.IMPORT_EXPORT_IMPORT_PERMISSION_CODE ("add") and
      IMPORT_EXPORT_EXPORT_PERMISSION_CODE ("view"); publishing by import needs
      positions.publish_statement (checked by the import service).
    """

    tmp_storage_class = CacheStorage
    import_form_class = TrackerImportForm

    def get_resource_classes(self, request=None):
        return [RESOURCE_FOR_MODEL[self.model]]

    def _formats(self):
        kind = RESOURCE_FOR_MODEL[self.model].kind
        return [type(f"{kind}{fmt.__name__}", (fmt,), {"kind": kind}) for fmt in ADMIN_FORMATS]

    def get_import_formats(self):
        return self._formats()

    def get_export_formats(self):
        return self._formats()

    def add_data_read_fail_error_to_form(self, form, e):
        if isinstance(e, importing.ImportFileError):
            form.add_error("import_file", str(e))
        else:
            super().add_data_read_fail_error_to_form(form, e)

    def process_import(self, request, **kwargs):
        try:
            return super().process_import(request, **kwargs)
        except importing.ImportFileError as error:
            messages.error(request, str(error))
            return self._back_to_import()

    def process_result(self, result, request):
        """
        The confirm step re-checks every row for whoever confirms (the file or the editorial
        rules may have changed since the preview): if it refused, nothing was written, and
        the editor is told why instead of "Import finished".
        """
        if not result.has_validation_errors():
            return super().process_result(result, request)
        messages.error(request, "Nothing was imported:")
        for row in result.invalid_rows:
            for column, row_messages in row.error_dict.items():
                where = "" if column == NON_FIELD_ERRORS else f", column {column}"
                for message in row_messages:
                    messages.error(request, f"Row {row.number}{where}: {message}")
        return self._back_to_import()

    def _back_to_import(self):
        info = self.model._meta.app_label, self.model._meta.model_name
        return HttpResponseRedirect(reverse(f"admin:{info[0]}_{info[1]}_import"))


RESOURCE_FOR_MODEL = {resource._meta.model: resource for resource in RESOURCES.values()}
