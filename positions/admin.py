"""
The editors' admin.

Every model keeps its history (who changed what, when, with a field diff, and a revert), and
every view that writes goes through the write path (`admin_base.TrackedAdmin`). Statements,
in `admin_statements.py`, follow the editorial rules of `editorial.py`: Editors write drafts,
Publishers publish, unpublish and retract them, and only superusers delete. See
docs/editorial.md.
"""

from django.contrib import admin
from django.db.models import Count, Q
from django.utils.html import format_html
from django_countries.filters import CountryFilter

from . import (
    admin_acts,  # noqa: F401 -- registers the formal acts' admin
    admin_statements,  # noqa: F401 -- registers the statement admin
)
from .admin_base import TrackedAdmin, statements_link
from .admin_merge import ActorMergeMixin
from .exchange import batch_admin  # noqa: F401 -- registers the imports' admin
from .exchange.admin import TrackerImportExportMixin
from .models import (
    Actor,
    ActorIdentifier,
    Condition,
    ConditionStatusChange,
    Membership,
    Question,
    Source,
    Topic,
)
from .pagination import EstimatedCountPaginator
from .search import MAX_SEARCH_LENGTH, actor_search

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
class ActorAdmin(ActorMergeMixin, TrackerImportExportMixin, TrackedAdmin):
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
    actions = ["merge_selected"]  # Publishers only (admin_merge.py).
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    list_per_page = 50

    @admin.display(description="statements")
    def statement_list(self, obj):
        if obj.pk is None:
            return "-"
        return statements_link("signatures__actor__id__exact", obj, "See the statements it signed")

    def get_search_results(self, request, queryset, search_term):
        """Names and aliases without case or accents, the slug, or an identifier
        (`search.actor_search`); also the autocomplete's search."""
        term = " ".join(search_term.replace("\x00", "").split())[:MAX_SEARCH_LENGTH]
        if not term:
            return queryset, False
        return queryset.filter(actor_search(term) | Q(slug=term)), False


@admin.register(ActorIdentifier)
class ActorIdentifierAdmin(TrackedAdmin):
    list_display = ["identifier", "scheme", "actor"]
    list_filter = ["scheme"]
    list_select_related = ["actor"]
    search_fields = ["identifier", "actor__name"]
    autocomplete_fields = ["actor"]
    show_full_result_count = False


@admin.register(Membership)
class MembershipAdmin(TrackerImportExportMixin, TrackedAdmin):
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


class ConditionStatusChangeInline(admin.TabularInline):
    """
    A condition's status over time: readers see the status as of any day from these rows;
    the latest becomes the condition's current status when saved (writes.py).
    """

    model = ConditionStatusChange
    fields = ["date", "status", "note", "source"]
    autocomplete_fields = ["source"]
    extra = 1
    verbose_name = "status change"
    verbose_name_plural = "status history"


@admin.register(Condition)
class ConditionAdmin(TrackerImportExportMixin, TrackedAdmin):
    list_display = ["text", "status", "status_date"]
    list_filter = ["status"]
    search_fields = ["text", "slug", "description"]
    prepopulated_fields = {"slug": ["text"]}
    inlines = [ConditionStatusChangeInline]
    # The current status is the latest status change's (see the status history below).
    readonly_fields = [
        "status",
        "status_date",
        "status_note",
        "statement_list",
        "created_at",
        "updated_at",
    ]

    @admin.display(description="statements")
    def statement_list(self, obj):
        if obj.pk is None:
            return "-"
        return statements_link("conditions__id__exact", obj, "See the statements naming it")
