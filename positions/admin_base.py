"""
What every model's admin shares: the write path for every view that writes, and the history
view with its field diff and a guarded revert.
"""

import contextlib

from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import Http404
from django.urls import reverse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin
from simple_history.template_utils import HistoricalRecordContextHelper

from . import editorial, writes

# Longer than any text field of the record: the history diff never shortens it.
FULL_TEXT = 1_000_000


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
        for inline_form in formset.initial_forms:
            if inline_form.has_changed():
                writes.changing(inline_form.instance)  # where its stored version shows
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

    def get_historical_record_context_helper(self, request, historical_record):
        # The diff shows old and new text whole: simple-history cuts both to 100 characters
        # ("indepe[61 chars]ests."), which hides the very words an editor changed.
        return HistoricalRecordContextHelper(
            self.model, historical_record, max_displayed_delta_change_chars=FULL_TEXT
        )

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


class EditorialAdminMixin:
    """
    The admin of a record in the editorial workflow (statements, formal acts): the form knows
    its editor, what readers can see is the Publishers' to change, and nothing is deleted
    but by a superuser (retract instead: the public record keeps a trace of it).
    """

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.editor = request.user
        return form

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        if obj is None or not allowed:
            return allowed
        return editorial.may_edit(request.user, obj.status)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_delete_permission(request, obj)

    def has_publish_permission(self, request):
        return editorial.can_publish(request.user)

    def view_on_site(self, obj):
        # Drafts have no public page.
        return obj.get_absolute_url() if obj.is_public else None
