from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from positions.api.urls import urls as api_urls
from tracker.health import healthz

admin.site.site_header = "Position Tracker"
admin.site.site_title = "Position Tracker admin"
admin.site.index_title = "Records"
admin.site.site_url = "/"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path(settings.ADMIN_URL, admin.site.urls),
    path("api/v1/", api_urls),
    path("alerts/", include("alerts.urls")),
    path("", include("positions.urls")),
]
