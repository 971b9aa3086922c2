"""
Rendered fragments keyed by what they show (the "Russian doll" layer under the page cache).

A page goes stale when anything it shows changes (caching.py's scoped versions), but most
of it did not: after one statement is edited a board of a hundred rows has one row that
differs. So the pieces of a page that are a function of a few records (a board row: its
actor, deciding statement and source, with the conditions and formal status it names, read
as plain values and made records only when the piece is missing: `views_board.BoardRow`;
an actor page's position and timeline entries, the latter keyed by the stamps of what they
show and loaded only when missing: `views.TimelineStatements`; a statement block in the
lists; a question with its tally on the home page; a world map under its data; a status
table's row under its participant's acts; a share card's image under what it draws; a board's
chart and month table under the id of the question's last counts row, its rows read only
when the piece is missing: `views_board.BoardChart`) are stored rendered, under a key
built from those records, and a recomputed page renders only the pieces whose records
changed. The page is still computed from the database as it is now: its queries run, and
each piece is looked up by what they returned.

What a key contains, and why that is enough: `{% fragment "name" value ... %}` in a
template (positions_tags.py) renders its body once per key, and the key holds everything the
body reads:

- each record passed, by its update stamp (`updated_at`) when the query loaded it, else by
  every field value the query loaded (derived rows such as a `Position`, signatures, and rows
  read through `.only()`): a field the query did not load could not be read by the body
  without a query of its own, which the pinned query counts forbid. The stamp moves with
  every save (`auto_now`); the writes that put rows back wholesale (a restore, a rebuild)
  bring the stamps back with the values they had, and bump the generation too, so a stored
  piece never outlives them;
- with each record, the related records its query loaded (`select_related`) and the rows
  prefetched onto it (`prefetch_related`), by the same rule: a statement block's question,
  topic, source and signatories with their actors;
- plain values a query read for the piece, as they are: a board row's are every value of
  its actor, statement and source that its body reads (`BoardRow.key`);
- the other values passed: what the view computed for the piece (a row's conditions, its
  formal status, a joint statement's signatories shown, the link back to the stance), as
  values; a dataclass by its fields, a list by its items, a set or a dict by its items
  sorted;
- the page's setting: the language, the time zone (dates are printed in it), the script
  prefix (every address starts with it), and the code version, a digest of the templates
  and of the positions package, so a deploy that changes how a piece renders never serves a
  piece rendered by the old code. No fragment prints a date relative to today, and none
  depends on the board's as-of date but through the records and values it is keyed by.

A view must pass what it set on a record (`row.conditions`) as a value, and must not change a
record's fields in memory before rendering it: the key reads them as the query loaded them.

Pieces are used only for requests the page cache would store (`caching.is_cacheable_request`):
editors with a session render every piece afresh, as they render every page afresh, so a
render with a session is the cache-off render the oracle test compares with
(tests/test_cache_oracle.py renders each page with the pieces warm after every kind of
write and asserts the same HTML). A computed page reads the pieces it showed last time in
one round trip and stores its new ones in another (`begin`, `finish`);
`X-Fragment-Cache: <reused>/<pieces>` on a computed page says how many it reused.
"""

import dataclasses
import datetime
import decimal
import functools
import hashlib
import time
from pathlib import Path

import django
from django.conf import settings
from django.core.cache import cache
from django.db import models
from django.urls import get_script_prefix
from django.utils import timezone, translation
from django.utils.safestring import mark_safe

from . import caching

GENERATION_KEY = "positions:fragment-generation"
# A piece not asked for in a day is dropped; a page asks for its pieces on every computation.
FRAGMENT_TIMEOUT = 24 * 60 * 60
# Values stored in a key as they are; anything else must be a record, a dataclass or a list.
SCALARS = (str, int, float, bool, type(None), datetime.date, datetime.time, decimal.Decimal)
PLAIN_TYPES = frozenset(SCALARS) | {datetime.datetime}  # checked by exact type, first


@functools.cache
def code_version():
    """
    A digest of the templates and the positions package, its data files included (the map's
    shapes are keyed by the map's data only): what renders a piece.
    """
    digest = hashlib.sha256(django.get_version().encode())
    roots = [Path(settings.BASE_DIR) / "templates", Path(__file__).parent]
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.suffix in (".html", ".py", ".txt", ".json") and path.is_file():
                digest.update(str(path.relative_to(root)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def bump_generation():
    """Forget every stored piece: the record was written wholesale (a restore, a rebuild)."""
    cache.set(GENERATION_KEY, str(time.time_ns()), timeout=None)


def begin(request, page_key):
    """
    The page cache is about to compute the page `page_key` for `request`: its pieces are
    looked up together, those it used last time in one round trip at the first piece (the
    page's manifest, kept under its key), and the pieces rendered anew are stored together
    when it is done (`finish`). A round trip per piece costs more than rendering most.
    """
    request._positions_fragments = {"manifest_key": f"positions:fragment-manifest:{page_key}"}


def _state(request):
    """The request's generation and pieces looked up (read at its first piece), and counts."""
    state = getattr(request, "_positions_fragments", None)
    if state is None:
        state = request._positions_fragments = {"manifest_key": None}
    if "generation" not in state:
        manifest_key = state["manifest_key"]
        found = cache.get_many([GENERATION_KEY, *([manifest_key] if manifest_key else [])])
        generation = found.get(GENERATION_KEY)
        new_generation = generation is None
        if new_generation:  # The cache lost everything (or is new): no piece to look up.
            cache.add(GENERATION_KEY, str(time.time_ns()), timeout=None)
            generation = cache.get(GENERATION_KEY)
        manifest = found.get(manifest_key) or []
        state.update(
            generation=generation,
            setting=setting(generation),
            new_generation=new_generation,
            manifest=manifest,
            looked_up=set(manifest),
            stored=cache.get_many(manifest) if manifest else {},
            keys=[],
            new={},
            hits=0,
        )
    return state


def finish(request):
    """
    Store the pieces the page rendered anew, and its manifest if it changed, in one round
    trip; `(pieces reused, pieces)` for the page's `X-Fragment-Cache`, or None if it had none.
    """
    state = getattr(request, "_positions_fragments", None)
    if not state or not state.get("keys"):
        return None
    writes = dict(state["new"])
    if state["manifest_key"] and state["keys"] != state["manifest"]:
        writes[state["manifest_key"]] = state["keys"]
    if writes:
        cache.set_many(writes, FRAGMENT_TIMEOUT)
    return state["hits"], len(state["keys"])


def setting(generation):
    """What every key of a request shares: the generation and the page's setting (above)."""
    return (
        code_version(),
        generation,
        translation.get_language(),
        timezone.get_current_timezone_name(),
        get_script_prefix(),
    )


def fragment_key(name, values, shared):
    """
    The cache key of the piece `name` showing `values` (see the module's docstring), with
    `shared` the request's `setting`, worked out once for all its pieces.
    """
    parts = (*shared, [key_part(value) for value in values])
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:40]
    return f"positions:fragment:{name}:{digest}"


def key_part(value, seen=None):
    """What of `value` a key holds: a record by stamp or fields and what it has loaded."""
    # Exact types first: a page's keys walk thousands of values, most of them plain.
    if type(value) in PLAIN_TYPES:
        return value
    seen = set() if seen is None else seen
    if isinstance(value, models.Model):
        return _record(value, seen)
    if isinstance(value, SCALARS):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = dataclasses.fields(value)
        return (type(value).__qualname__, *(key_part(getattr(value, f.name), seen) for f in fields))
    if isinstance(value, list | tuple | models.QuerySet):
        return [key_part(item, seen) for item in value]
    if isinstance(value, dict):
        items = [(key_part(k, seen), key_part(v, seen)) for k, v in value.items()]
        return sorted(items, key=lambda item: repr(item[0]))
    if isinstance(value, set | frozenset):
        return sorted((key_part(item, seen) for item in value), key=repr)
    raise TypeError(
        f"A fragment cannot be keyed by a {type(value).__name__}: pass the records or values "
        "it shows."
    )


@dataclasses.dataclass(frozen=True)
class _Layout:
    """What a key reads of a model's records, worked out once per model."""

    label: str
    pk: str
    attnames: tuple  # every concrete field's
    relations: tuple  # (name, cache name) of each concrete relation
    stamped: bool  # has `updated_at`


@functools.cache
def _layout(model):
    fields = model._meta.concrete_fields
    return _Layout(
        label=model._meta.label_lower,
        pk=model._meta.pk.attname,
        attnames=tuple(f.attname for f in fields),
        relations=tuple((f.name, f.cache_name) for f in fields if f.is_relation),
        stamped=any(f.attname == "updated_at" for f in fields),
    )


def _record(record, seen):
    layout = _layout(type(record))
    # A field the query loaded is in the instance's __dict__; a deferred one is not.
    loaded = record.__dict__
    identity = (layout.label, loaded.get(layout.pk))
    if identity in seen:
        return identity  # Its content is in the key already (a relation back to it).
    seen.add(identity)
    if layout.stamped and "updated_at" in loaded:
        own = loaded["updated_at"]
    else:
        own = [_plain(loaded[name]) for name in layout.attnames if name in loaded]
    cached = record._state.fields_cache
    related = [
        (name, key_part(cached[cache_name], seen))
        for name, cache_name in layout.relations
        if cache_name in cached
    ]
    prefetched = loaded.get("_prefetched_objects_cache") or {}
    loaded_rows = [
        (name, key_part(list(found), seen)) for name, found in sorted(prefetched.items())
    ]
    return (*identity, own, related, loaded_rows)


def _plain(value):
    return value if isinstance(value, SCALARS) else str(value)


def render(request, name, values, render_body):
    """
    The piece `name` showing `values`: stored, or rendered by `render_body()` and stored.
    Rendered afresh, never stored, for a request the page cache would not store.
    """
    html = reuse(request, name, values, lambda: str(render_body()))
    return mark_safe(html)  # noqa: S308 - HTML this code rendered and escaped


def reuse(request, name, values, compute):
    """
    What `compute()` returns for the piece `name` showing `values` (a string of HTML, the
    bytes of an image): stored, or computed and stored. Computed afresh, never stored, for a
    request the page cache would not store.
    """
    if request is None or not caching.is_cacheable_request(request):
        return compute()
    state = _state(request)
    key = fragment_key(name, values, state["setting"])
    state["keys"].append(key)
    stored = state["new"].get(key) or state["stored"].get(key)
    if stored is None and key not in state["looked_up"] and not state["new_generation"]:
        stored = cache.get(key)  # A piece the page did not show last time.
    if stored is not None:
        state["hits"] += 1
        return stored
    made = compute()
    if state["manifest_key"]:
        state["new"][key] = made  # Stored with the page's other new pieces (`finish`).
    else:
        cache.set(key, made, FRAGMENT_TIMEOUT)
    return made


def board_row_values(position):
    """What a board row shows besides its records' fields: set on it by the board's view."""
    signers = getattr(position, "signers", None) or []
    return (
        [(signer.key, getattr(signer, "formal", None)) for signer in signers],
        getattr(position, "signers_further", 0),
        getattr(position, "statement_signers", None),
        # Of each condition, what the row shows (its text, address and status): not the
        # actors naming it elsewhere on the board, which would re-render every row naming it
        # whenever one of them changes.
        [
            (c.pk, c.text, c.slug, c.status, c.status_date)
            for c in getattr(position, "conditions", None) or []
        ],
        getattr(position, "formal", None),
    )
