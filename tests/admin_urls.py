"""
An admin site with the import/export mixin on every importable model, for the tests of
the admin import and export (the project's own ModelAdmins wire the same mixin).
"""

from django.contrib import admin
from django.urls import include, path

from positions.resources import RESOURCE_FOR_MODEL, TrackerImportExportMixin

site = admin.AdminSite(name="admin")
for model in RESOURCE_FOR_MODEL:
    site.register(
        model, type(f"{model.__name__}Admin", (TrackerImportExportMixin, admin.ModelAdmin), {})
    )

urlpatterns = [
    path("admin/", site.urls),
    path("", include("positions.urls")),
]
