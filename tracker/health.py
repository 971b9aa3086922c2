"""The health check load balancers and the benchmark call."""

from django.http import HttpResponse
from django.views.decorators.cache import never_cache


@never_cache
def healthz(request):
    """
    "ok" when the process serves requests. No database query: a slow database must not make
    every server look dead at once. The benchmark uses it as its baseline, a bare Django
    view through the same middleware and server as the real pages.
    """
    return HttpResponse("ok", content_type="text/plain; charset=utf-8")
