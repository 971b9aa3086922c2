"""
The shared page cache and conditional GET, kept correct by data versions.

Every public page is a function of the database and today's date. Instead of tracking which
page depends on which row, writes bump version numbers held in the shared cache (Redis when
`CACHE_URL`/`REDIS_URL` is set, local memory otherwise). A stored page carries the versions
it was computed at and is served only while they are current (read in the same cache round
trip as the page), and ETags contain them and the date, so after a write no process serves
or revalidates a page computed before it, however many server processes there are.

Scoped versions: a page's version is the global data version and the version of its scope,
from its URL (`PAGE_SCOPES`): a question's board, embeds, card and feed share the scope
`question:<topic>/<question>`; a topic's page `topic:<slug>`; an actor's page, card and feed
`actor:<slug>`; every other page (lists, home, statements, sources, conditions, downloads,
the API) the scope `site`. The write path (`positions/writes.py`) bumps, once per write
session, before its transaction commits and again once it has:

- for statements and their signatures, the only frequent writes: the scopes of what shows
  them (their questions, old and new, with their topics; their signatories, old and new,
  with the organisations those belong to and their parents; and `site`), so boards, topics
  and actors they do not touch keep their pages;
- for anything else (an actor, a source, a condition, a membership, an act, an import, a
  restore), the global version: every page goes stale.

tests/test_cache_oracle.py holds this to the truth: for every kind of write it renders the
pages with the cache off before and after, and every page whose HTML changed must have a new
ETag and a recomputed entry.

One computation per page per version: after a write, the first request for a page takes a
short lock in the shared cache (`cache.add`, keyed by the page and the version) and computes
it; requests for the same page meanwhile wait for that result (polling the cache, at most
STAMPEDE_WAIT seconds) instead of each computing it too. A waiter serves only a page stored
under the version it asked with, so it never gets a page older than the last write; if the
lock holder dies or is slow, the waiter computes the page itself. `X-Page-Cache` says which
(`hit`, `computed`, `waited`); the benchmark counts them.

A computed page reuses the rendered fragments whose records did not change
(positions/fragments.py); `X-Fragment-Cache: <reused>/<pieces>` says how many.
"""

import datetime
import functools
import hashlib
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.utils import timezone
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.views.decorators.http import condition

from . import fragments

DATA_VERSION_KEY = "positions:data-version"
# Pages are recomputed at least this often, even with no write (seconds).
PAGE_TIMEOUT = 60 * 60
# Query strings longer than this are junk or attacks: served, never stored.
MAX_CACHED_QUERY = 300
# How long a request waits for another process computing the same page (seconds), and how
# often it looks; the lock outlives a computation that long, then lapses.
STAMPEDE_WAIT = 5.0
STAMPEDE_POLL = 0.02
# Set per response by conditional GET or middleware, never stored with a page.
SKIP_HEADERS = {"etag", "last-modified", "vary", "cache-control", "set-cookie", "expires"}


def _new_version():
    """A version never used before, even after the cache lost its key: nanoseconds now."""
    return str(time.time_ns())


def data_version():
    """The current data version; creates one if the cache has none (first use, eviction)."""
    version = cache.get(DATA_VERSION_KEY)
    if version is None:
        cache.add(DATA_VERSION_KEY, _new_version(), timeout=None)
        version = cache.get(DATA_VERSION_KEY)
    return version


def bump_data_version():
    """Make every cached page and ETag stale, in every process sharing the cache."""
    cache.set(DATA_VERSION_KEY, _new_version(), timeout=None)


def bump_scopes(scopes):
    """Make the pages of these scopes stale (`site` is always among them)."""
    version = _new_version()
    cache.set_many({_scope_key(scope): version for scope in {*scopes, SITE}}, timeout=None)


def _scope_key(scope):
    return f"positions:scope-version:{hashlib.sha256(scope.encode()).hexdigest()[:32]}"


SITE = "site"


def _question_scope(kwargs):
    return f"question:{kwargs['topic_slug']}/{kwargs['slug']}"


# URL name -> the scope of its pages, from the URL's arguments. Any other page: `site`.
PAGE_SCOPES = {
    **dict.fromkeys(
        [
            "question",
            "embed_question",
            "embed_whip_count",
            "embed_map",
            "card_question",
            "feed_question",
        ],
        _question_scope,
    ),
    "topic": lambda kwargs: f"topic:{kwargs['slug']}",
    **dict.fromkeys(
        ["actor", "card_actor", "feed_actor"], lambda kwargs: f"actor:{kwargs['slug']}"
    ),
}


def question_scope(topic_slug, slug):
    return _question_scope({"topic_slug": topic_slug, "slug": slug})


def topic_scope(slug):
    return f"topic:{slug}"


def actor_scope(slug):
    return f"actor:{slug}"


def scope_version(scope):
    """The version of the pages of `scope` now: the global version and the scope's."""
    return _versions(cache.get_many([DATA_VERSION_KEY, _scope_key(scope)]), scope)


def page_scope(request):
    match = getattr(request, "resolver_match", None)
    scope = match and match.namespace == "positions" and PAGE_SCOPES.get(match.url_name)
    return scope(match.kwargs) if scope else SITE


def _versions(found, scope):
    """`global.scope` from a `get_many` answer, creating what the cache does not hold."""
    version = found.get(DATA_VERSION_KEY) or data_version()
    scope_version = found.get(_scope_key(scope))
    if scope_version is None:
        cache.add(_scope_key(scope), _new_version(), timeout=None)
        scope_version = cache.get(_scope_key(scope))
    return f"{version}.{scope_version}"


# --- Pages ----------------------------------------------------------------------------


def is_cacheable_request(request):
    # Signed-in editors may see drafts and messages: they always get a fresh page, and
    # looking at their session would cost a query on every request.
    return (
        request.method in ("GET", "HEAD")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and len(request.META.get("QUERY_STRING", "")) <= MAX_CACHED_QUERY
    )


def _page_key(request):
    path = hashlib.sha256(request.get_full_path().encode()).hexdigest()[:32]
    return f"positions:page:{timezone.localdate():%Y%m%d}:{path}"


def _request_version(request):
    """
    The data version, read once per request (the ETag, Last-Modified and the stored page
    must agree), in the same cache round trip as the page stored for this address: a page
    is stored with the version it was computed at, and served only while that is current.
    """
    if not hasattr(request, "_positions_data_version"):
        scope = request._positions_scope = page_scope(request)
        found = cache.get_many([DATA_VERSION_KEY, _scope_key(scope), _page_key(request)])
        version = _versions(found, scope)
        stored = found.get(_page_key(request))
        request._positions_data_version = version
        request._positions_stored_page = stored[1:] if stored and stored[0] == version else None
    return request._positions_data_version


def _etag(request, *args, **kwargs):
    if not is_cacheable_request(request):
        return None
    tag = f"{_request_version(request)}:{_page_key(request)}"
    return hashlib.sha256(tag.encode()).hexdigest()[:32]


def _last_modified(request, *args, **kwargs):
    if not is_cacheable_request(request):
        return None
    changed = max(int(part) for part in _request_version(request).split(".")) / 1e9
    # "Today" moves with the date: statements dated today start counting at midnight.
    midnight = timezone.make_aware(
        datetime.datetime.combine(timezone.localdate(), datetime.time())
    ).timestamp()
    return datetime.datetime.fromtimestamp(max(changed, midnight), tz=datetime.UTC)


def _response_is_storable(request, response):
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
    )


def _stored_response(stored):
    content, headers = stored
    response = HttpResponse(content)
    for header, value in headers:
        response[header] = value
    return response


def _wait_for(request, version):
    """
    The page another request is computing for `version`, once it is stored; None if the
    version moves on (a write: that page would be stale), the lock goes (its holder failed
    or stored nothing) or STAMPEDE_WAIT passes: the caller then computes the page itself.
    """
    key, scope = _page_key(request), request._positions_scope
    lock = f"{key}:computing:{version}"
    deadline = time.monotonic() + STAMPEDE_WAIT
    while time.monotonic() < deadline:
        time.sleep(STAMPEDE_POLL)
        found = cache.get_many([DATA_VERSION_KEY, _scope_key(scope), key, lock])
        stored = found.get(key)
        if stored and stored[0] == version:
            return stored[1:]
        if _versions(found, scope) != version or lock not in found:
            return None
    return None


def cached_page(view):
    """
    A public page served from the shared cache and answering conditional GETs.

    Anonymous GETs are keyed by the date and the full path and stored with the data version
    they were computed at; a hit costs one cache round trip and no database query, and
    `If-None-Match`/`If-Modified-Since` get a 304 before the view runs. Editors with a
    session always get a freshly computed page.
    """

    @functools.wraps(view)
    def cached_view(request, *args, **kwargs):
        if not is_cacheable_request(request):
            return view(request, *args, **kwargs)
        version = _request_version(request)
        stored, how = request._positions_stored_page, "hit"
        lock, owner = f"{_page_key(request)}:computing:{version}", False
        if stored is None:
            owner = cache.add(lock, True, timeout=STAMPEDE_WAIT)
            if not owner:
                stored, how = _wait_for(request, version), "waited"
        if stored is not None:
            response = _stored_response(stored)
        else:
            how = "computed"
            fragments.begin(request, _page_key(request))
            try:
                response = view(request, *args, **kwargs)
                if hasattr(response, "render") and callable(response.render):
                    response = response.render()
                if _response_is_storable(request, response):
                    # The view's own headers too: a download's Content-Disposition, for one.
                    headers = [(h, v) for h, v in response.items() if h.lower() not in SKIP_HEADERS]
                    stored = (version, response.content, headers)
                    cache.set(_page_key(request), stored, PAGE_TIMEOUT)
            finally:
                if owner:
                    cache.delete(lock)
            pieces = fragments.finish(request)
            if pieces:
                response["X-Fragment-Cache"] = f"{pieces[0]}/{pieces[1]}"
        response["X-Page-Cache"] = how
        return response

    @functools.wraps(view)
    def page(request, *args, **kwargs):
        response = conditional(request, *args, **kwargs)
        if is_cacheable_request(request) and response.status_code in (200, 304):
            # Browsers and proxies may keep the page but must ask again (cheaply, by ETag).
            patch_cache_control(response, no_cache=True)
            patch_vary_headers(response, ["Cookie"])
        return response

    conditional = condition(etag_func=_etag, last_modified_func=_last_modified)(cached_view)
    return page
