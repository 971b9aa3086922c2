"""
Old addresses of merged actors (`ActorRedirect`, written by `positions.merging`): a page of
an actor by a slug that no actor has any more answers with a permanent redirect to the same
page of the actor it was merged into, its query string kept.
"""

import functools

from django.http import Http404, HttpResponsePermanentRedirect
from django.urls import reverse

from .models import ActorRedirect


def follows_merged_actors(view):
    """For a view with a `slug` of an actor: its 404s become 301s when the slug was merged.
    Only a page not found looks the redirect up: the others pay no query for it."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except Http404:
            slug = kwargs.get("slug")
            target = (
                ActorRedirect.objects.filter(old_slug=slug)
                .values_list("actor__slug", flat=True)
                .first()
            )
            if not target or target == slug:
                raise
            match = request.resolver_match
            url = reverse(match.view_name, args=args, kwargs={**kwargs, "slug": target})
            if request.META.get("QUERY_STRING"):
                url += "?" + request.META["QUERY_STRING"]
            return HttpResponsePermanentRedirect(url)

    return wrapper
