"""
The admin's imports: the list of confirmed imports (who, when, which file, what it counted),
a page per import with what it wrote, and "Undo this import" with a confirmation page. The
views are thin: what an undo does and refuses is `batches.py`'s.
"""

from django.apps import apps
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from ..models import ImportBatch
from . import batches

CHANGES_PER_PAGE = 100


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    """Read-only: imports are recorded by the import itself, and undone, never edited."""

    list_display = [
        "number",
        "file_name",
        "kind",
        "imported_by",
        "created_at",
        "new_rows",
        "changed_rows",
        "unchanged_rows",
        "state",
    ]
    list_display_links = ["number", "file_name"]
    list_filter = ["kind", ("undone_at", admin.EmptyFieldListFilter)]
    list_select_related = ["user", "undone_by"]
    search_fields = ["file_name"]
    list_per_page = 50

    @admin.display(description="import", ordering="pk")
    def number(self, batch):
        return f"#{batch.pk}"

    @admin.display(description="by", ordering="user__username")
    def imported_by(self, batch):
        return batch.user or "the server's operator"

    @admin.display(description="state", ordering="undone_at")
    def state(self, batch):
        if not batch.is_undone:
            return "imported"
        who = batch.undone_by or "the server's operator"
        return format_html("undone {} by {}", batch.undone_at.strftime("%Y-%m-%d %H:%M"), who)

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path(
                "<path:object_id>/undo/",
                self.admin_site.admin_view(self.undo_view),
                name="positions_importbatch_undo",
            ),
            *super().get_urls(),
        ]

    def _batch(self, request, object_id):
        if not str(object_id).isdigit():
            raise Http404("No such import.")
        if not self.has_view_permission(request):
            raise PermissionDenied
        queryset = ImportBatch.objects.select_related("user", "undone_by")
        return get_object_or_404(queryset, pk=object_id)

    def _context(self, request, batch, **extra):
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "batch": batch,
            "title": str(batch),
            "summary": batches.summary(batch),
            "may_undo": batches.may_undo(request.user) and not batch.is_undone,
            **extra,
        }

    def change_view(self, request, object_id, form_url="", extra_context=None):
        batch = self._batch(request, object_id)
        changes = batch.changes.order_by("model", "action", "object_id")
        page = Paginator(changes, CHANGES_PER_PAGE).get_page(request.GET.get("page"))
        rows = [
            (change, batches.admin_url(apps.get_model(change.model), change.object_id))
            for change in page
        ]
        context = self._context(request, batch, page=page, rows=rows)
        return TemplateResponse(request, "admin/positions/importbatch/detail.html", context)

    def undo_view(self, request, object_id):
        """GET: what the undo would do, or why it cannot; POST: undo."""
        batch = self._batch(request, object_id)
        detail = reverse("admin:positions_importbatch_change", args=[batch.pk])
        if not batches.may_undo(request.user):
            raise PermissionDenied
        if batch.is_undone:
            messages.error(request, f"Import #{batch.pk} was already undone.")
            return HttpResponseRedirect(detail)
        refused = None
        if request.method == "POST":
            try:
                batches.undo(batch, request.user)
            except batches.UndoRefused as error:
                refused = error
            else:
                messages.success(request, f"Import #{batch.pk} was undone.")
                return HttpResponseRedirect(detail)
        found = refused.conflicts if refused else batches.conflicts(batch)
        context = self._context(
            request,
            batch,
            title=f"Undo import #{batch.pk}?",
            conflicts=found,
            more=max(getattr(found, "total", len(found)) - len(found), 0),
            refused=refused.message if refused else "",
        )
        return TemplateResponse(request, "admin/positions/importbatch/undo.html", context)
