"""
The API's addresses: ninja's, each wrapped so that a request is first counted against the
client's rate limit, then answered from the shared page cache with ETags like the pages
(`caching.cached_page`: keyed by the address and the date, stale after any write), and HEAD
is answered as GET. The schema and docs are not cached: the docs carry their own CSP. Any
other address under /api/v1/ is a JSON 404.
"""

import functools

from django.http import JsonResponse
from django.urls import re_path

from ..caching import cached_page
from .endpoints import api
from .limits import rate_limited

UNCACHED = {"openapi-json", "openapi-view"}


def head_as_get(view):
    """ninja routes GET only: a HEAD is answered as a GET (the server drops the body)."""

    @functools.wraps(view)
    def answered(request, *args, **kwargs):
        if request.method == "HEAD":
            request.method = "GET"
        return view(request, *args, **kwargs)

    return answered


def not_found(request, rest=""):
    return JsonResponse({"detail": "Not Found", "errors": []}, status=404)


def _wrapped(patterns):
    for pattern in patterns:
        view = head_as_get(pattern.callback)
        if pattern.name not in UNCACHED:
            view = cached_page(view)
        pattern.callback = rate_limited(view)
        yield pattern


patterns, app_name, namespace = api.urls
urlpatterns = [*_wrapped(patterns), re_path(r"^(?P<rest>.*)$", not_found)]
urls = (urlpatterns, app_name, namespace)
