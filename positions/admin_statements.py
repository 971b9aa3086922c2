"""
The statement admin: the editorial workflow (drafts, review, publish, retract) on the form,
the actions and the history view. The rules themselves are in `editorial.py`.
"""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.text import Truncator
from simple_history.models import ModelChange

from . import editorial, writes
from .admin_base import EditorialAdminMixin, TrackedAdmin
from .admin_search import StatementSearchMixin
from .exchange.admin import TrackerImportExportMixin
from .forms import RetractForm, SignatoryFormSet, StatementAdminForm
from .models import (
    Question,
    Signatory,
    Statement,
    StatementStatus,
)
from .pagination import EstimatedCountPaginator

# --- Statements --------------------------------------------------------------------------


class SignatoryInline(admin.TabularInline):
    """The actors behind a statement, in order; a joint letter has several, one the lead."""

    model = Signatory
    # The order is the rows' order, filled in on save (SignatoryFormSet.save): no number to
    # type. Shown right after the stance (admin/positions/statement/change_form.html).
    formset = SignatoryFormSet
    fields = ["actor", "is_lead"]
    autocomplete_fields = ["actor"]
    extra = 1
    verbose_name = "signatory"
    verbose_name_plural = "signatories"

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "actor":
            field.help_text = (
                "In the order the source names them, the first row first (new rows go last); "
                "tick the lead of a joint statement."
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


class TitledChoicesFilter(admin.ChoicesFieldListFilter):
    """A choices filter with a title of its own: two fields named "kind" are both "By kind"."""

    list_title = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.title = self.list_title


class SourceKindFilter(TitledChoicesFilter):
    list_title = "source kind"


class SignatoryKindFilter(TitledChoicesFilter):
    list_title = "signatory kind"


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
class StatementAdmin(
    StatementSearchMixin, EditorialAdminMixin, TrackerImportExportMixin, TrackedAdmin
):
    form = StatementAdminForm
    inlines = [SignatoryInline]
    # The deciding columns (stance, status, who last changed it) right after the summary, so
    # that they stay on screen at 1,280 px beside the navigation and the filters; the widths
    # are in static/admin_csp/admin.css.
    list_display = [
        "date",
        "short_summary",
        "stance",
        "status",
        "updated_by",
        "signatory_names",
        "question_label",
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
        ("source__kind", SourceKindFilter),
        ("signatures__actor__kind", SignatoryKindFilter),
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
    # The signatories come right after the first fieldset (see change_form.html).
    fieldsets = [
        (None, {"fields": ["question", "date", "date_precision", "stance", "conditions"]}),
        (
            "Evidence",
            {"fields": ["summary", "quote", "quote_locator", "attribution", "source"]},
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

    @admin.display(description="question", ordering="question__title")
    def question_label(self, obj):
        return obj.question.label

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
        # Its conditions are saved after it (the form's, or a revert's), in this session.
        writes.conditions_named_changed([obj.pk])

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
