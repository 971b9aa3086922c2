"""
The editors' admin.

Every model keeps its history (who changed what, when, with a field diff, and a revert).
Statements follow the editorial rules of `editorial.py`: Editors write drafts, Publishers
publish, unpublish and retract them, and only superusers delete. See docs/editorial.md.
"""

import contextlib

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Count, Prefetch
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import Truncator
from django_countries.filters import CountryFilter
from simple_history.admin import SimpleHistoryAdmin
from simple_history.models import ModelChange

from . import editorial, writes
from .admin_search import StatementSearchMixin
from .forms import RetractForm, SignatoryFormSet, StatementAdminForm
from .models import (
    Actor,
    ActorIdentifier,
    Condition,
    Membership,
    Question,
    Signatory,
    Source,
    Statement,
    StatementStatus,
    Topic,
)
from .pagination import EstimatedCountPaginator
from .resources import TrackerImportExportMixin


def writing_if_posted(request):
    """A write session for a request that may write; none (no savepoint) for reading."""
    return writes.writing() if request.method == "POST" else contextlib.nullcontext()


class TrackedAdmin(SimpleHistoryAdmin):
    """Every registered model: the history view with its field diff, and a guarded revert."""

    # Same as simple-history's list, without its inline style (the CSP forbids them).
    object_history_list_template = "admin/positions/object_history_list.html"
    history_list_per_page = 50
    # An address typed without a scheme is taken as https, not http (Django 6's default).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    # --- the write path: every view that writes runs in one write session ---

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        with writing_if_posted(request):
            return super().changeform_view(request, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        with writing_if_posted(request):
            return super().delete_view(request, object_id, extra_context)

    def changelist_view(self, request, extra_context=None):
        with writing_if_posted(request):  # Actions and list edits.
            return super().changelist_view(request, extra_context)

    def save_model(self, request, obj, form, change):
        obj._history_user = request.user
        writes.save(obj)

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        changed = [obj for obj, _fields in formset.changed_objects]
        for obj in [*formset.new_objects, *changed, *formset.deleted_objects]:
            writes.saved(obj)

    def delete_model(self, request, obj):
        writes.delete(obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            writes.delete(obj)

    def get_search_results(self, request, queryset, search_term):
        # PostgreSQL refuses text with NUL bytes; nobody searches for one.
        return super().get_search_results(request, queryset, search_term.replace("\x00", ""))

    def history_view(self, request, object_id, extra_context=None):
        self.check_ids(object_id)
        return super().history_view(request, object_id, extra_context)

    def check_ids(self, object_id, version_id=None):
        """A 404 for ids that are not ids: simple-history's views give a 500 on `abc`."""
        try:
            self.model._meta.pk.to_python(unquote(object_id))
            if version_id is not None:
                self.model.history.model._meta.pk.to_python(version_id)
        except (ValidationError, ValueError) as exc:
            raise Http404("No such record.") from exc

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        self.check_ids(object_id, version_id)
        # simple-history only checks the *view* permission here, even for the POST that
        # reverts; a revert is a change, so it needs the change permission on the record as
        # it stands now (not as it stood in the old version).
        current = self.get_object(request, unquote(object_id))
        if current is None:
            # A deleted record: bringing it back is an administrator's decision.
            may_change = request.user.is_superuser
        else:
            may_change = self.has_change_permission(request, current)
        if request.method == "POST" and not may_change:
            raise PermissionDenied
        extra_context = {**(extra_context or {})}
        if not may_change:
            extra_context["revert_disabled"] = True
        with writing_if_posted(request):
            return super().history_form_view(request, object_id, version_id, extra_context)


def statements_link(lookup, obj, label="See its statements"):
    url = reverse("admin:positions_statement_changelist") + f"?{lookup}={obj.pk}"
    return format_html('<a href="{}">{}</a>', url, label)


# --- Actors ----------------------------------------------------------------------------


class ActorIdentifierInline(admin.TabularInline):
    model = ActorIdentifier
    extra = 1
    fields = ["scheme", "identifier"]


class MembershipInline(admin.TabularInline):
    """The organisations the actor belongs to (its chamber, party, bloc), with dates."""

    model = Membership
    fk_name = "member"
    extra = 1
    fields = ["organization", "role", "on_behalf_of", "area", "start_date", "end_date", "source"]
    autocomplete_fields = ["organization", "on_behalf_of", "source"]
    verbose_name = "membership"
    verbose_name_plural = "memberships (of a chamber, party, bloc, coalition or committee)"

    def get_queryset(self, request):
        # The member too: each row is titled by its `__str__`.
        return (
            super().get_queryset(request).select_related("member", "organization", "on_behalf_of")
        )


@admin.register(Actor)
class ActorAdmin(TrackerImportExportMixin, TrackedAdmin):
    list_display = ["name", "kind", "country", "parent", "updated_at"]
    list_filter = ["kind", ("country", CountryFilter)]
    list_select_related = ["parent"]
    search_fields = ["name", "aliases", "slug", "identifiers__identifier"]
    search_help_text = "Name, alias, slug or an identifier such as a Wikidata Q-id."
    autocomplete_fields = ["parent"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["statement_list", "created_at", "updated_at"]
    fields = [
        "name",
        "slug",
        "kind",
        "country",
        "parent",
        "aliases",
        "description",
        "website",
        "statement_list",
        "created_at",
        "updated_at",
    ]
    inlines = [ActorIdentifierInline, MembershipInline]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    list_per_page = 50

    @admin.display(description="statements")
    def statement_list(self, obj):
        if obj.pk is None:
            return "-"
        return statements_link("signatures__actor__id__exact", obj, "See the statements it signed")


@admin.register(ActorIdentifier)
class ActorIdentifierAdmin(TrackedAdmin):
    list_display = ["identifier", "scheme", "actor"]
    list_filter = ["scheme"]
    list_select_related = ["actor"]
    search_fields = ["identifier", "actor__name"]
    autocomplete_fields = ["actor"]
    show_full_result_count = False


@admin.register(Membership)
class MembershipAdmin(TrackedAdmin):
    list_display = ["member", "role", "organization", "on_behalf_of", "start_date", "end_date"]
    list_filter = ["role", ("start_date", admin.DateFieldListFilter)]
    list_select_related = ["member", "organization", "on_behalf_of"]
    search_fields = ["member__name", "organization__name", "on_behalf_of__name", "role", "area"]
    search_help_text = "Member, organisation, party, role or area code."
    autocomplete_fields = ["member", "organization", "on_behalf_of", "source"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    list_per_page = 50

    def get_queryset(self, request):
        # The change page's title is the membership's `__str__`: member and organisation.
        return super().get_queryset(request).select_related("member", "organization")


# --- Topics and questions --------------------------------------------------------------


class QuestionInline(admin.TabularInline):
    model = Question
    extra = 1
    fields = ["title", "short_label", "slug", "display_order"]
    prepopulated_fields = {"slug": ["title"]}
    show_change_link = True


@admin.register(Topic)
class TopicAdmin(TrackerImportExportMixin, TrackedAdmin):
    list_display = ["title", "slug", "question_count", "updated_at"]
    search_fields = ["title", "summary", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [QuestionInline]

    def get_queryset(self, request):
        # Explicit order: Django drops a model's default ordering from GROUP BY queries, and
        # the autocomplete's paginator warns about an unordered list.
        return (
            super()
            .get_queryset(request)
            .annotate(question_count=Count("questions"))
            .order_by("title", "pk")
        )

    @admin.display(description="questions", ordering="question_count")
    def question_count(self, obj):
        return obj.question_count


@admin.register(Question)
class QuestionAdmin(TrackerImportExportMixin, TrackedAdmin):
    list_display = ["title", "topic", "short_label", "display_order"]
    ordering = ["topic__title", "display_order", "pk"]
    list_filter = ["topic"]
    list_select_related = ["topic"]
    search_fields = ["title", "short_label", "slug", "topic__title"]
    autocomplete_fields = ["topic", "deciding_body"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["statement_list"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "topic",
                    "title",
                    "short_label",
                    "slug",
                    "description",
                    "display_order",
                    "statement_list",
                ]
            },
        ),
        (
            "Deciding body and rule (for the whip count)",
            {
                "description": "The board counts the body's members on its date against the "
                "rule: a simple majority (more than half of the seats: 51 of 100), a fraction "
                "of the seats, rounded up (two thirds of 100: 67), or a number of votes. "
                "Fractions of the members present are not modelled.",
                "fields": [
                    "deciding_body",
                    "threshold_kind",
                    "seats",
                    ("threshold_numerator", "threshold_denominator"),
                    "threshold_count",
                ],
            },
        ),
    ]

    @admin.display(description="statements")
    def statement_list(self, obj):
        if obj.pk is None:
            return "-"
        return statements_link("question__id__exact", obj)

    def get_queryset(self, request):
        # `get_absolute_url` (view on site) needs the topic's slug.
        return super().get_queryset(request).select_related("topic")


# --- Evidence ----------------------------------------------------------------------------


@admin.register(Source)
class SourceAdmin(TrackerImportExportMixin, TrackedAdmin):
    list_display = ["title", "publisher", "kind", "published_on", "link"]
    list_filter = ["kind"]
    date_hierarchy = "published_on"
    search_fields = ["title", "publisher", "url"]
    search_help_text = "Title, publisher or web address."
    readonly_fields = ["statement_list", "created_at", "updated_at"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    list_per_page = 50

    @admin.display(description="URL")
    def link(self, obj):
        return format_html('<a href="{}" rel="noopener noreferrer">{}</a>', obj.url, obj.url)

    @admin.display(description="statements")
    def statement_list(self, obj):
        if obj.pk is None:
            return "-"
        return statements_link("source__id__exact", obj, "See the statements citing it")


@admin.register(Condition)
class ConditionAdmin(TrackerImportExportMixin, TrackedAdmin):
    list_display = ["text", "status", "status_date"]
    list_filter = ["status"]
    search_fields = ["text", "slug", "description"]
    prepopulated_fields = {"slug": ["text"]}
    readonly_fields = ["statement_list", "created_at", "updated_at"]

    @admin.display(description="statements")
    def statement_list(self, obj):
        if obj.pk is None:
            return "-"
        return statements_link("conditions__id__exact", obj, "See the statements naming it")


# --- Statements --------------------------------------------------------------------------


class SignatoryInline(admin.TabularInline):
    """The actors behind a statement, in order; a joint letter has several, one the lead."""

    model = Signatory
    formset = SignatoryFormSet
    fields = ["actor", "order", "is_lead"]
    autocomplete_fields = ["actor"]
    extra = 1
    verbose_name = "signatory"
    verbose_name_plural = "signatories"

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "order":
            field.help_text = (
                "A joint statement lists every actor in the order of the source, lowest first."
            )
        return field

    # A statement that readers can see is locked for non-publishers, signatories included.
    def has_add_permission(self, request, obj=None):
        return self._statement_editable(request, obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._statement_editable(request, obj) and super().has_change_permission(
            request, obj
        )

    def has_delete_permission(self, request, obj=None):
        return self._statement_editable(request, obj) and super().has_delete_permission(
            request, obj
        )

    def _statement_editable(self, request, statement):
        return statement is None or editorial.may_edit(request.user, statement.status)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


class QuestionOfTopicFilter(admin.RelatedFieldListFilter):
    """
    The questions of the topic chosen in the topic filter, or of the chosen question's topic:
    hundreds of questions make a list nobody scrolls, and rendering it took most of the time
    the statement list takes.
    """

    TOPIC_PARAMETER = "question__topic__id__exact"

    def field_choices(self, field, request, model_admin):
        topic = request.GET.get(self.TOPIC_PARAMETER, "")
        chosen = [value for value in self.lookup_val or [] if value.isdigit()]
        if not topic.isdigit() and not chosen:
            return []
        if topic.isdigit():
            limit = {"topic_id": topic}
        else:
            limit = {"topic__in": Question.objects.filter(pk__in=chosen).values("topic_id")}
        ordering = self.field_admin_ordering(field, request, model_admin)
        return field.get_choices(include_blank=False, limit_choices_to=limit, ordering=ordering)


class StatementChangeList(ChangeList):
    def get_queryset(self, request, exclude_parameters=None):
        # The signatory names of a whole page in one query, not one per row.
        return (
            super()
            .get_queryset(request, exclude_parameters)
            .prefetch_related(
                Prefetch("signatures", queryset=Signatory.objects.select_related("actor"))
            )
        )


@admin.register(Statement)
class StatementAdmin(StatementSearchMixin, TrackerImportExportMixin, TrackedAdmin):
    form = StatementAdminForm
    inlines = [SignatoryInline]
    list_display = [
        "date",
        "short_summary",
        "signatory_names",
        "question",
        "stance",
        "status",
        "updated_by",
    ]
    # One link a row: each costs the admin a URL resolve to keep the list's filters.
    list_display_links = ["short_summary"]
    list_filter = [
        "status",
        "stance",
        "question__topic",
        # Not RelatedOnlyFieldListFilter: finding the questions that have statements reads
        # every statement (most of a second at a million).
        ("question", QuestionOfTopicFilter),
        # Not date_hierarchy: its list of years is a DISTINCT over every statement.
        ("date", admin.DateFieldListFilter),
        "attribution",
        ("source", admin.EmptyFieldListFilter),
        "source__kind",
        "signatures__actor__kind",
    ]
    list_select_related = ["question", "updated_by"]
    search_fields = [
        "summary",
        "quote",
        "signatures__actor__name",
        "question__title",
        "source__title",
        "import_ref",
    ]
    search_help_text = "Summary, quote, signatory, question, source title or import reference."
    autocomplete_fields = ["question", "source", "conditions"]
    readonly_fields = [
        "first_published_at",
        "retracted_at",
        "created_by",
        "updated_by",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "question",
                    "date",
                    "date_precision",
                    "stance",
                    "conditions",
                    "summary",
                    "quote",
                    "quote_locator",
                    "attribution",
                    "source",
                ]
            },
        ),
        (
            "Editorial record",
            {
                "fields": [
                    "status",
                    "correction_note",
                    "import_ref",
                    ("first_published_at", "retracted_at"),
                    ("created_by", "created_at"),
                    ("updated_by", "updated_at"),
                ]
            },
        ),
    ]
    actions = ["publish_statements", "unpublish_statements", "retract_statements"]
    history_list_display = ["status", "stance"]
    object_history_template = "admin/positions/statement/object_history.html"
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    list_per_page = 50

    # --- lists ---

    def get_changelist(self, request, **kwargs):
        return StatementChangeList

    def lookup_allowed(self, lookup, value, request=None):
        # The "statements signed" link on an actor's page.
        if lookup == "signatures__actor__id__exact":
            return True
        return super().lookup_allowed(lookup, value, request)

    @admin.display(description="summary")
    def short_summary(self, obj):
        return Truncator(obj.summary).chars(80)

    @admin.display(description="signatories")
    def signatory_names(self, obj):
        names = []
        for signature in obj.signatures.all():
            names.append(
                f"{signature.actor.name} (lead)" if signature.is_lead else signature.actor.name
            )
        if len(names) > 3:
            return ", ".join(names[:3]) + f" and {len(names) - 3} more"
        return ", ".join(names)

    def view_on_site(self, obj):
        # Drafts have no public page.
        return obj.get_absolute_url() if obj.is_public else None

    # --- history ---

    def get_search_results(self, request, queryset, search_term):
        # PostgreSQL refuses text with NUL bytes; nobody searches for one.
        return super().get_search_results(request, queryset, search_term.replace("\x00", ""))

    def history_view(self, request, object_id, extra_context=None):
        self.check_ids(object_id)
        # Signatories have their own history; a joint statement's page shows it too.
        signatory_history = (
            Signatory.history.filter(statement_id=unquote(object_id))
            .select_related("actor", "history_user")
            .order_by("-history_date", "-history_id")[: self.history_list_per_page]
        )
        extra_context = {**(extra_context or {}), "signatory_history": signatory_history}
        return super().history_view(request, object_id, extra_context)

    def set_history_delta_changes(self, request, historical_records, foreign_keys_are_objs=True):
        # simple-history diffs the conditions with two queries per version; here the
        # conditions of the whole page come in one query.
        records = list(historical_records)
        if not records:
            return
        rows = (
            records[0]
            .conditions.model.objects.filter(history__in=records)
            .select_related("condition")
        )
        conditions_of = {record.history_id: [] for record in records}
        for row in sorted(rows, key=lambda row: row.condition_id):
            conditions_of[row.history_id].append({"condition": row.condition})
        for newer, older in zip(records, records[1:], strict=False):
            delta = newer.diff_against(
                older, excluded_fields=["conditions"], foreign_keys_are_objs=True
            )
            old, new = conditions_of[older.history_id], conditions_of[newer.history_id]
            if old != new:
                delta.changes.append(ModelChange("conditions", old, new))
                delta.changed_fields.append("conditions")
            helper = self.get_historical_record_context_helper(request, newer)
            newer.history_delta_changes = helper.context_for_delta_changes(delta)

    # --- who may do what ---

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        if obj is None or not allowed:
            return allowed
        return editorial.may_edit(request.user, obj.status)

    def has_delete_permission(self, request, obj=None):
        # Retract instead: the public record keeps a trace of every published statement.
        return request.user.is_superuser and super().has_delete_permission(request, obj)

    def has_publish_permission(self, request):
        return editorial.can_publish(request.user)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # A non-publisher posting changes to a public statement (a page left open while a
        # Publisher published it, or a crafted request) is refused and sent back to the
        # read-only page, which says why, rather than shown a bare 403.
        if request.method == "POST" and self.has_change_permission(request):
            obj = self.get_object(request, unquote(object_id))
            if obj is not None and not editorial.may_edit(request.user, obj.status):
                self.message_user(request, "Your changes were not saved.", messages.ERROR)
                return HttpResponseRedirect(request.path)
        return super().change_view(request, object_id, form_url, extra_context)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and not editorial.may_edit(request.user, obj.status):
            self.message_user(request, editorial.locked_message(obj.status), messages.WARNING)
        return super().render_change_form(request, context, add, change, form_url, obj)

    # --- saving ---

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.editor = request.user
        return form

    def save_model(self, request, obj, form, change):
        if change:
            # A revert saves an old version whole: the record's own stamps (who created it,
            # when it was first published or retracted) must not go back with it.
            for field in ("created_by_id", "first_published_at", "retracted_at"):
                setattr(obj, field, form.stored[field])
        else:
            obj.created_by = request.user
        obj.updated_by = request.user
        # The form has checked the move (a revert's too); the transition stamps it.
        error = editorial.transition(
            obj, obj.status, request.user, stored_status=form.stored_status
        )
        if error:
            raise PermissionDenied(error)
        if reason := editorial.change_reason(form.stored_status, obj.status):
            obj._change_reason = reason
        obj._history_user = request.user
        writes.save(obj, stored=form.stored)

    # --- actions: the same rules as the form, through editorial.change_status ---

    @admin.action(permissions=["publish"], description="Publish the selected drafts")
    def publish_statements(self, request, queryset):
        self._change_statuses(request, queryset, StatementStatus.PUBLISHED, "published")

    @admin.action(
        permissions=["publish"], description="Unpublish the selected statements (back to draft)"
    )
    def unpublish_statements(self, request, queryset):
        self._change_statuses(request, queryset, StatementStatus.DRAFT, "unpublished")

    @admin.action(
        permissions=["publish"], description="Retract the selected statements (asks for a note)"
    )
    def retract_statements(self, request, queryset):
        self._refuse_unless_publisher(request)
        form = RetractForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            note = form.cleaned_data["correction_note"]
            self._change_statuses(request, queryset, StatementStatus.RETRACTED, "retracted", note)
            return None
        statements = list(queryset.select_related("question"))
        context = {
            **self.admin_site.each_context(request),
            "title": "Retract statements",
            "subtitle": None,
            "opts": self.model._meta,
            "form": form,
            "retractable": [s for s in statements if s.status == StatementStatus.PUBLISHED],
            "not_retractable": [s for s in statements if s.status != StatementStatus.PUBLISHED],
            "action_name": "retract_statements",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "selected": [s.pk for s in statements],
            "select_across": request.POST.get("select_across", "0"),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(
            request, "admin/positions/statement/retract_confirmation.html", context
        )

    def _refuse_unless_publisher(self, request):
        # The actions are not offered to non-publishers; this refuses them if posted anyway.
        if not editorial.can_publish(request.user):
            raise PermissionDenied(editorial.ONLY_PUBLISHERS)

    def _change_statuses(self, request, queryset, status, verb, note=""):
        self._refuse_unless_publisher(request)
        done, refused = 0, []
        for statement in queryset.prefetch_related("signatures", "conditions"):
            error = editorial.change_status(statement, status, request.user, note=note)
            if error:
                refused.append(f"“{statement}”: {error}")
                continue
            self.log_change(request, statement, f"Status set to {status.label.lower()}.")
            done += 1
        if done:
            plural = "statement" if done == 1 else "statements"
            self.message_user(request, f"{done} {plural} {verb}.", messages.SUCCESS)
        for reason in refused:
            self.message_user(request, f"Left unchanged: {reason}", messages.WARNING)
