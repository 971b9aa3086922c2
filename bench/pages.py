"""
The pages the benchmark measures: every named page of positions/urls.py (found by name, so
new pages are measured as they land), on sample records picked from the data set, and the
admin statement list, search and change page.
"""

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db.models import Count
from django.urls import NoReverseMatch, URLPattern, URLResolver, resolve, reverse

from positions.models import (
    Actor,
    Condition,
    Question,
    Signatory,
    Source,
    Statement,
    StatementStatus,
)

# Values for URL parameters that no sample record provides (downloads: format, data set).
DEFAULT_PARAMS = {"fmt": "csv", "kind": "statements", "section": "statements"}
# Cold p50 targets, as ratios to the baseline: pages by URL name, and the admin (issue 6).
# Cold is after an edit elsewhere (issue 16): the page's version bumped, its fragments warm.
TARGETS = {"question": 15, "actor": 10, "home": 10}
# Cold with an empty cache (issue 16): the page and every fragment computed.
EMPTY_CACHE_TARGETS = {"question": 40}
# Cold boards flat in size (issue 16): the largest board with an empty cache costs at most this
# many times the 200-actor board's, each as a ratio to its own baseline.
FLAT_TARGET = 1.5
ADMIN_TARGET = 150


@dataclass
class Page:
    label: str
    path: str
    admin: bool = False
    target: float | None = None  # at most this ratio to the baseline, cold p50
    empty_target: float | None = None  # the same, cold with an empty cache
    measure_empty: bool = False  # measured cold with an empty cache too
    largest: bool = False  # on the largest sample (the largest board)
    empty_in_turns: float | None = None  # empty cache p50, taking turns with the other board
    queries: dict = field(default_factory=dict)  # cold, warm, 304
    bytes: int = 0
    status: int | None = None
    latency: dict = field(default_factory=dict)  # cold, warm: p50, p95, n
    baseline: dict | None = None  # measured right before the page
    rendered_baseline: dict | None = None  # the methodology page, computed, right before
    sql: list = field(default_factory=list)  # the cold request's queries
    streaming: bool = False
    breakdown: dict | None = None  # total, sql, render


def positions_url_names():
    """Every named page of positions/urls.py, with its parameter names, in file order."""
    from positions import urls

    names = []

    def walk(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns)
            elif isinstance(pattern, URLPattern) and pattern.name:
                # path() patterns list their converters; re_path() ones their named groups.
                params = (
                    pattern.pattern.converters or getattr(pattern.pattern, "regex", None).groupindex
                )
                names.append((pattern.name, tuple(params)))

    walk(urls.urlpatterns)
    return names


def pick_samples(log):
    """The records the pages are measured on: the heaviest ones, and a typical board."""
    log("Picking samples")
    actors_per_question = list(
        Signatory.objects.filter(statement__status=StatementStatus.PUBLISHED)
        .values_list("statement__question_id")
        .annotate(n=Count("actor_id", distinct=True))
        .order_by("-n", "statement__question_id")
    )
    largest_id, largest_n = actors_per_question[0]
    typical_id, typical_n = min(actors_per_question, key=lambda row: (abs(row[1] - 200), row[0]))
    largest = Question.objects.select_related("topic").get(pk=largest_id)
    typical = Question.objects.select_related("topic").get(pk=typical_id)
    busiest_actor_id = (
        Signatory.objects.values_list("actor_id")
        .annotate(n=Count("id"))
        .order_by("-n", "actor_id")
        .first()[0]
    )
    statement = (
        Statement.objects.published()
        .filter(question=typical, signatures__isnull=False)
        .order_by("-date", "-pk")
        .first()
    )
    condition = (
        Condition.objects.filter(statements__question=largest).order_by("pk").first()
        or Condition.objects.order_by("pk").first()
    )
    log(
        f"largest question {largest.pk} ({largest_n} actors), typical {typical.pk} "
        f"({typical_n} actors), actor {busiest_actor_id}"
    )
    return {
        "actors_per_question": actors_per_question,
        "largest": largest,
        "largest_actors": largest_n,
        "typical": typical,
        "typical_actors": typical_n,
        "actor": Actor.objects.get(pk=busiest_actor_id),
        "topic": largest.topic,
        "statement": statement,
        "source": statement.source if statement else Source.objects.first(),
        "condition": condition,
    }


def sample_urls(samples):
    """(url name, kwargs, variant label) of each sample's `get_absolute_url()`."""
    s = samples
    objects = [
        (f"largest, {s['largest_actors']} actors", s["largest"]),
        (f"{s['typical_actors']} actors", s["typical"]),
        *(("", s[name]) for name in ("topic", "actor", "statement", "source", "condition")),
    ]
    candidates = []
    for variant, obj in objects:
        if obj is None:
            continue
        try:
            match = resolve(obj.get_absolute_url())
        except Exception:  # noqa: S112
            continue  # No URL, or not a page of the site.
        candidates.append((match.url_name, match.kwargs, variant))
    return candidates


def discover_pages(samples, log):
    """
    One page per URL name of positions/urls.py, and the names no sample fits. Parameters
    come from the samples' `get_absolute_url()`: a name whose parameters match a sample's
    URL takes them, preferring the sample whose page name it contains (`feed_actor` -> actor).
    """
    candidates = sample_urls(samples)
    pages, unmeasured = [], []
    for name, params in positions_url_names():
        fixed = {p: DEFAULT_PARAMS[p] for p in params if p in DEFAULT_PARAMS}
        rest = set(params) - set(fixed)
        if not rest:
            path = reverse(f"positions:{name}", kwargs=fixed)
            pages.append(Page(name, path, target=TARGETS.get(name)))
            continue
        matching = [c for c in candidates if set(c[1]) == rest]
        matching.sort(key=lambda c: (c[0] not in name, -len(c[0])))
        if not matching:
            log(f"  {name}: no sample fits its parameters {params}; not measured")
            unmeasured.append((name, params))
            continue
        family = matching[0][0]
        for url_name, kwargs, variant in matching:
            if url_name != family:
                continue
            label = f"{name} ({variant})" if variant else name
            target, empty_target = TARGETS.get(name), EMPTY_CACHE_TARGETS.get(name)
            largest = "largest" in variant
            if largest:
                target = empty_target = None  # The largest board is measured, no target.
            path = reverse(f"positions:{name}", kwargs={**kwargs, **fixed})
            pages.append(
                Page(
                    label,
                    path,
                    target=target,
                    empty_target=empty_target,
                    measure_empty=name in EMPTY_CACHE_TARGETS,
                    largest=largest,
                )
            )
    return pages, unmeasured


def admin_pages(samples, log):
    statement = samples["statement"]
    try:
        changelist = reverse("admin:positions_statement_changelist")
    except NoReverseMatch:
        log("  Statement is not in the admin: no admin pages measured")
        return []
    # What editors search for most: an actor's statements, by the actor's name.
    term = samples["actor"].name
    search = f"{changelist}?{urlencode({'q': term})}"
    pages = [
        Page("admin statement list", changelist, admin=True, target=ADMIN_TARGET),
        Page(f"admin search ({term!r})", search, admin=True, target=ADMIN_TARGET),
    ]
    if statement:
        change = reverse("admin:positions_statement_change", args=[statement.pk])
        pages.append(Page("admin statement change", change, admin=True))
    return pages
