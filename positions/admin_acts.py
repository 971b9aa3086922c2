"""
The formal acts' admin: the statements' editorial workflow (`editorial.py`) on the form and
the publish and unpublish actions, every write through the write path.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError

from . import editorial, writes
from .admin_base import EditorialAdminMixin, TrackedAdmin
from .exchange.admin import TrackerImportExportMixin
from .models import FormalAct, StatementStatus

NOUN = "act"


class FormalActAdminForm(forms.ModelForm):
    # The user filling in the form; the admin sets it on the class it builds per request.
    editor = None

    class Meta:
        model = FormalAct
        fields = [
            "actor",
            "topic",
            "kind",
            "date",
            "place",
            "depositary_reference",
            "text",
            "regarding",
            "source",
            "status",
            "correction_note",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The rules apply to the move from the status stored now (a revert posts an old one).
        self.stored_status = None
        if not self.instance._state.adding and self.instance.pk is not None:
            self.stored_status = (
                FormalAct.objects.filter(pk=self.instance.pk).values_list("status", flat=True)
            ).first()
        status = self.fields.get("status")
        if status is not None:
            allowed = editorial.allowed_statuses(self.editor, self.stored_status, noun=NOUN)
            status.choices = [c for c in StatementStatus.choices if c[0] in allowed]
            status.error_messages["invalid_choice"] = editorial.only_publishers(NOUN)

    def clean(self):
        cleaned = super().clean()
        if self.stored_status and not editorial.may_edit(self.editor, self.stored_status):
            raise ValidationError(editorial.locked_message(self.stored_status, NOUN))
        if cleaned.get("status"):
            error = editorial.transition_error(
                self.editor, self.stored_status, cleaned["status"], noun=NOUN
            )
            if error:
                self.add_error("status", error)
        return cleaned


@admin.register(FormalAct)
class FormalActAdmin(EditorialAdminMixin, TrackerImportExportMixin, TrackedAdmin):
    form = FormalActAdminForm
    list_display = ["date", "actor", "kind", "topic", "status", "source"]
    list_display_links = ["date", "actor"]
    list_filter = ["status", "kind", "topic", ("source", admin.EmptyFieldListFilter)]
    list_select_related = ["actor", "topic", "source"]
    search_fields = ["actor__name", "topic__title", "text", "depositary_reference", "place"]
    search_help_text = "Actor, topic, text, place or depositary reference."
    autocomplete_fields = ["actor", "topic", "source", "regarding"]
    readonly_fields = ["first_published_at", "retracted_at", "created_at", "updated_at"]
    date_hierarchy = None
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "actor",
                    "topic",
                    "kind",
                    "date",
                    "place",
                    "depositary_reference",
                    "text",
                    "regarding",
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
                    ("first_published_at", "retracted_at"),
                    ("created_at", "updated_at"),
                ]
            },
        ),
    ]
    actions = ["publish_acts", "unpublish_acts"]
    history_list_display = ["status", "kind"]
    list_per_page = 50

    def save_model(self, request, obj, form, change):
        error = editorial.transition(
            obj, obj.status, request.user, stored_status=form.stored_status
        )
        if error:
            raise PermissionDenied(error)
        if reason := editorial.change_reason(form.stored_status, obj.status):
            obj._change_reason = reason
        obj._history_user = request.user
        writes.save(obj)

    @admin.action(permissions=["publish"], description="Publish the selected drafts")
    def publish_acts(self, request, queryset):
        self._change_statuses(request, queryset, StatementStatus.PUBLISHED, "published")

    @admin.action(
        permissions=["publish"], description="Unpublish the selected acts (back to draft)"
    )
    def unpublish_acts(self, request, queryset):
        self._change_statuses(request, queryset, StatementStatus.DRAFT, "unpublished")

    def _change_statuses(self, request, queryset, status, verb):
        if not editorial.can_publish(request.user):
            raise PermissionDenied(editorial.only_publishers(NOUN))
        done, refused = 0, []
        for act in queryset.select_related("actor"):
            act._history_user = request.user
            error = editorial.change_status(act, status, request.user)
            if error:
                refused.append(f"“{act}”: {error}")
                continue
            self.log_change(request, act, f"Status set to {status.label.lower()}.")
            done += 1
        if done:
            self.message_user(
                request, f"{done} act{'s' if done != 1 else ''} {verb}.", messages.SUCCESS
            )
        for reason in refused:
            self.message_user(request, f"Left unchanged: {reason}", messages.WARNING)
