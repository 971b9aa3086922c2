"""
The oracle of the page cache's scoped versions (positions/caching.py): for every kind of
write, every public page is rendered with the cache off before and after the write, and
each page whose HTML changed must answer, from the cache's side, with a new ETag and the new
HTML (a missed bump would show readers a stale page). For the scoping to pay, writes of
statements leave the pages of other questions, topics and actors with their ETags.

The pages are assembled from rendered fragments kept across versions (positions/fragments.py):
the snapshot before the write fills them, so every page recomputed after it reuses those
whose records did not change; and once more after every page version is bumped (a cold
page after an edit elsewhere), every page must still be exactly the cache-off render: no
fragment is stale.
"""

import datetime
import io
import re

import pytest
from django.core.management import call_command
from django.test import Client

from positions import caching, fragments, writes
from positions.models import ConditionStatus, Stance, Statement, StatementStatus
from tests.admin_builders import admin_url, statement_form_data
from tests.builders import build_record
from tests.factories import (
    ActorFactory,
    QuestionFactory,
    SourceFactory,
    StatementFactory,
    TopicFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
D = datetime.date
SLOW = pytest.mark.slow


@pytest.fixture
def record():
    r = build_record()
    # Elsewhere: another topic, its question and an actor who speaks only there.
    r.other_topic = TopicFactory(title="Data retention directive", slug="data-retention")
    r.other_question = QuestionFactory(
        topic=r.other_topic, title="Adoption by the Council", slug="adoption-by-the-council"
    )
    r.bystander = ActorFactory(name="Bystander NGO", slug="bystander-ngo")
    with writes.writing():
        StatementFactory(
            question=r.other_question,
            actors=[r.bystander],
            stance=Stance.OPPOSES,
            date=D(2024, 5, 1),
            summary="The bystander opposes the directive.",
            source=SourceFactory(title="Bystander's release", url="https://bystander.example/1"),
        )
    return r


def public_pages(r):
    topic = r.topic.slug
    boards = [f"/topics/{topic}/{q.slug}/" for q in (r.adoption, r.ratification)]
    other_board = f"/topics/{r.other_topic.slug}/{r.other_question.slug}/"
    statements = list(Statement.objects.public().values_list("pk", flat=True))
    return [
        "/",
        f"/topics/{topic}/",
        f"/topics/{r.other_topic.slug}/",
        *boards,
        other_board,
        *(f"/embed/{topic}/{q.slug}/" for q in (r.adoption, r.ratification)),
        *(f"/feeds/topics/{topic}/{q.slug}/" for q in (r.adoption, r.ratification)),
        "/actors/",
        *(f"/actors/{a.slug}/" for a in [*r.actors.values(), r.bystander]),
        *(f"/feeds/actors/{a.slug}/" for a in r.actors.values()),
        "/statements/",
        *(f"/statements/{pk}/" for pk in statements),
        "/sources/",
        *(f"/sources/{s.pk}/" for s in r.sources.values()),
        "/conditions/",
        f"/conditions/{r.condition.slug}/",
        "/corrections/",
        "/feeds/statements/",
        f"/topics/{topic}/status/",
        "/api/v1/questions/",
        f"/api/v1/topics/{topic}/questions/{r.ratification.slug}/board/",
        "/api/v1/actors/cisco/",
    ]


UNCACHED = Client(HTTP_COOKIE="sessionid=none")  # a session cookie: never the cache
# A feed with no entry says it was updated "now" (Django's feeds): the time of rendering.
RENDER_TIME = re.compile(rb"(</id>)<updated>[^<]*</updated>")


def normal(content):
    return RENDER_TIME.sub(rb"\1", content)


def fresh(url):
    """The page computed now, with the cache off."""
    response = UNCACHED.get(url)
    return response.status_code, normal(response.content)


def snapshot(reader, urls):
    """Each page's HTML with the cache off, and its ETag through the cache (then stored)."""
    pages = {}
    for url in urls:
        status, html = fresh(url)
        cached = reader.get(url)  # computed and stored, with its ETag
        pages[url] = (status, html, cached.get("ETag"))
    return pages


def check(reader, before, label):
    """
    Every page whose HTML changed has a new ETag and the new HTML. Returns the pages that
    kept their ETag, and the pages as they are now (`snapshot`'s form, for the next write).
    """
    kept, after = set(), {}
    for url, (status, html, etag) in before.items():
        now_status, now_html = fresh(url)
        cached = reader.get(url)
        if (now_status, now_html) != (status, html):
            assert cached.get("ETag") != etag, f"{label}: {url} changed but kept its ETag"
            assert normal(cached.content) == now_html, f"{label}: {url} served stale"
        elif cached.get("ETag") == etag:
            kept.add(url)
        after[url] = (now_status, now_html, cached.get("ETag"))
    return kept, after


def check_fragments(reader, urls, label):
    """
    Every page recomputed with the fragments warm (its version bumped, as after an edit
    elsewhere) is the cache-off render. Returns `{url: (fragments reused, fragments)}` and
    the pages as they are now (`snapshot`'s form, for the next write).
    """
    caching.bump_data_version()
    reused, pages = {}, {}
    for url in urls:
        status, html = fresh(url)
        cached = reader.get(url)
        if status == 200:
            assert cached["X-Page-Cache"] == "computed", url
        assert (cached.status_code, normal(cached.content)) == (status, html), (
            f"{label}: {url} assembled from a stale fragment"
        )
        if "X-Fragment-Cache" in cached:
            hits, pieces = map(int, cached["X-Fragment-Cache"].split("/"))
            reused[url] = (hits, pieces)
        pages[url] = (status, html, cached.get("ETag"))
    return reused, pages


def assert_fragments_reused(r, reused, label="", every=True):
    """
    The fragments pay: the board, an actor page and home reuse what they rendered before
    (`every`: all of it, when the write's own check recomputed them; in the chained run a
    page the write left cached still holds pieces from before it, which may have changed).
    """
    for url in (f"/topics/{r.topic.slug}/{r.adoption.slug}/", f"/actors/{r.bystander.slug}/", "/"):
        hits, pieces = reused[url]
        assert (hits == pieces if every else hits > 0) and pieces > 0, (label, url, reused[url])


def publisher_client():
    from django.contrib.auth.models import Group

    user = UserFactory(is_staff=True, username="oracle-publisher")
    user.groups.add(Group.objects.get(name="Publishers"))
    client = Client()
    client.force_login(user)
    return client


def post(client, url, data):
    response = client.post(url, data)
    assert response.status_code == 302, response.content[:3000]


# --- The writes: each a function of (record, editor client) ----------------------------------


def add_statement(r, editor):
    data = statement_form_data(
        signatories=[r.actors["kaine"]],
        question=r.ratification.pk,
        source=r.sources["letter"].pk,
        summary="Kaine says more.",
        date="2024-11-02",
        stance=Stance.CONDITIONAL,
        conditions=[r.condition.pk],
        status=StatementStatus.PUBLISHED,
    )
    post(editor, admin_url("statement", "add"), data)


def edit_summary(r, editor):
    statement = r.statements["cisco"]
    data = statement_form_data(statement, summary="Cisco warns, in other words.")
    post(editor, admin_url("statement", "change", statement.pk), data)


def change_stance(r, editor):
    statement = r.statements["rights"]
    data = statement_form_data(statement, stance=Stance.SUPPORTS)
    post(editor, admin_url("statement", "change", statement.pk), data)


def move_to_other_question(r, editor):
    statement = r.statements["cisco"]
    data = statement_form_data(statement, question=r.adoption.pk)
    post(editor, admin_url("statement", "change", statement.pk), data)


def change_signatory(r, editor):
    statement = r.statements["letter"]
    data = statement_form_data(statement)
    data["signatures-1-actor"] = r.actors["cisco"].pk  # Kaine's signature becomes Cisco's
    post(editor, admin_url("statement", "change", statement.pk), data)


def remove_signatory(r, editor):
    statement = r.statements["letter"]
    data = statement_form_data(statement)
    data["signatures-1-DELETE"] = "on"
    post(editor, admin_url("statement", "change", statement.pk), data)


def unpublish(r, editor):
    action = {"action": "unpublish_statements", "_selected_action": [r.statements["cisco"].pk]}
    post(editor, admin_url("statement"), action)


def publish_draft(r, editor):
    action = {"action": "publish_statements", "_selected_action": [r.statements["draft"].pk]}
    post(editor, admin_url("statement"), action)


def revert(r, editor):
    statement = r.statements["rights"]
    post(
        editor,
        admin_url("statement", "change", statement.pk),
        statement_form_data(statement, stance=Stance.UNDECIDED),
    )
    first = statement.history.order_by("history_id").first()
    url = admin_url("statement", "simple_history", statement.pk, first.history_id)
    post(editor, url, statement_form_data(statement, stance=Stance.OPPOSES))


def delete_statement(r, editor):
    from django.contrib.auth import get_user_model

    root = get_user_model().objects.create_superuser("oracle-root", password="x")
    editor.force_login(root)
    post(editor, admin_url("statement", "delete", r.statements["rights"].pk), {"post": "yes"})


def actor_form(actor, **changes):
    """The admin's actor form for `actor` as it is, with `changes`."""
    return {
        "name": actor.name,
        "slug": actor.slug,
        "kind": actor.kind,
        "country": "US",
        "parent": "",
        "aliases": "",
        "description": "",
        "website": "",
        "identifiers-TOTAL_FORMS": "0",
        "identifiers-INITIAL_FORMS": "0",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
    } | changes


def rename_actor(r, editor):
    actor = r.actors["wyden"]
    post(
        editor, admin_url("actor", "change", actor.pk), actor_form(actor, name="Senator Ron Wyden")
    )


def change_actor_kind(r, editor):
    """Positions keep a copy of their actor's kind: the boards' tallies by kind move."""
    actor = r.actors["cisco"]
    post(editor, admin_url("actor", "change", actor.pk), actor_form(actor, kind="ngo"))


def condition_met(r, editor):
    from positions.models import ConditionStatusChange

    with writes.writing():
        writes.save(
            ConditionStatusChange(
                condition=r.condition, status=ConditionStatus.MET, date=D(2025, 1, 1)
            )
        )


def retitle_source(r, editor):
    source = r.sources["report"]
    with writes.writing():
        source.title = "US to back the treaty, a report says"
        writes.save(source)


def import_file(r, editor, tmp_path):
    path = tmp_path / "statements.csv"
    path.write_text(
        "import_ref,question,date,stance,signatories,summary,source,status\n"
        f"oracle-1,{r.topic.slug}/{r.adoption.slug},2024-11-03,opposes,cisco,"
        f"Cisco opposes adoption.,{r.sources['report'].url},published\n"
    )
    call_command("import_data", "statements", str(path), verbosity=0, stdout=io.StringIO())


def restore(r, editor, tmp_path):
    backup = tmp_path / "backup.jsonl.gz"
    call_command("backup", str(backup), verbosity=0)
    with writes.writing():
        writes.save(r.actors["cisco"].__class__(name="Extra", slug="extra", kind="ngo"))
    call_command("restore", str(backup), force=True, verbosity=0)


SCOPED = [
    add_statement,
    edit_summary,
    change_stance,
    move_to_other_question,
    change_signatory,
    remove_signatory,
    unpublish,
    publish_draft,
    revert,
    delete_statement,
]
GLOBAL = [rename_actor, change_actor_kind, condition_met, retitle_source, import_file, restore]
WRITES = SCOPED + GLOBAL


def elsewhere(r):
    """Pages a scoped write must leave alone: another topic's, an actor not concerned."""
    return {
        f"/topics/{r.other_topic.slug}/{r.other_question.slug}/",
        f"/topics/{r.other_topic.slug}/",
        f"/actors/{r.bystander.slug}/",
    }


def do(write, r, editor, tmp_path):
    if write in (import_file, restore):
        write(r, editor, tmp_path)
    else:
        write(r, editor)


def test_every_kind_of_write_in_turn_gives_each_changed_page_a_new_etag(record, tmp_path):
    """
    The quick suite's oracle: every kind of write, one after the other on one data set,
    each checked against every page as it was just before it (one setup, and each check's
    pages are the next write's "before"). The same writes one by one, each on a fresh data
    set, are the `slow` test below.
    """
    reader = Client()
    before = snapshot(reader, public_pages(record))
    editor = publisher_client()
    for write in WRITES:
        for statement in record.statements.values():  # the writes read their fields
            if Statement.objects.filter(pk=statement.pk).exists():
                statement.refresh_from_db()
        do(write, record, editor, tmp_path)
        kept, _ = check(reader, before, write.__name__)
        if write in SCOPED:
            assert elsewhere(record) <= kept, (write.__name__, elsewhere(record) - kept)
        reused, before = check_fragments(reader, list(before), write.__name__)
        assert_fragments_reused(record, reused, write.__name__, every=False)
        # Pages the write added (a new statement's): stored now, checked at the next write.
        urls = public_pages(record)
        before = {url: page for url, page in before.items() if url in urls}
        before |= snapshot(reader, [url for url in urls if url not in before])


@SLOW
@pytest.mark.parametrize("write", WRITES, ids=lambda write: write.__name__)
def test_every_page_whose_html_changed_has_a_new_etag(record, write, tmp_path):
    urls = public_pages(record)
    reader = Client()
    before = snapshot(reader, urls)
    do(write, record, publisher_client(), tmp_path)
    kept, _ = check(reader, before, write.__name__)
    reused, _ = check_fragments(reader, urls, write.__name__)
    assert_fragments_reused(record, reused, write.__name__)
    if write in SCOPED:
        # The scoping pays: the other topic's pages and an actor not concerned kept theirs.
        assert elsewhere(record) <= kept, elsewhere(record) - kept


def test_the_oracle_catches_a_missed_bump(record, monkeypatch):
    """The oracle itself can fail: with the bump left out, a changed page keeps its ETag."""
    from positions import caching

    urls = public_pages(record)
    reader = Client()
    before = snapshot(reader, urls)
    monkeypatch.setattr(caching, "bump_scopes", lambda scopes: None)
    edit_summary(record, publisher_client())
    with pytest.raises(AssertionError, match="kept its ETag|served stale"):
        check(reader, before, "no bump")


def test_the_oracle_catches_a_stale_fragment(record, monkeypatch):
    """The oracle itself can fail: with records keyed by id alone, an edit shows stale."""
    monkeypatch.setattr(fragments, "_record", lambda r, seen: (r._meta.label_lower, r.pk))
    urls = public_pages(record)
    reader = Client()
    before = snapshot(reader, urls)
    edit_summary(record, publisher_client())
    with pytest.raises(AssertionError, match="served stale|stale fragment"):
        check(reader, before, "keyed by id")
        check_fragments(reader, urls, "keyed by id")


def test_fragments_are_rendered_afresh_for_editors(record):
    """An editor's page (a session) uses no stored fragment: the cache-off render."""
    reader = Client()
    board = f"/topics/{record.topic.slug}/{record.adoption.slug}/"
    assert "X-Fragment-Cache" in reader.get(board)
    editor = publisher_client().get(board)
    assert editor.status_code == 200
    assert "X-Fragment-Cache" not in editor
