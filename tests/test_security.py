"""
Abuse cases: stored XSS, script URLs, open redirects, CSRF, drafts by guessed URL,
mass-assignment of staff rights. (Fuzzing of query parameters: test_fuzz_public_pages.py.)
"""

import csv
import html
import io
import json
from urllib.parse import urlencode
from xml.etree import ElementTree

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import NoReverseMatch, reverse

from positions.models import Actor, Source, SourceKind, Statement, StatementStatus
from tests.factories import ActorFactory, SourceFactory, StatementFactory, UserFactory
from tests.hostile import (
    admin_urls,
    body_of,
    build_hostile_record,
    escaped_marker,
    injections,
    payload,
    public_patterns,
    public_url,
    public_urls,
    shown_tags,
    unescaped_payloads,
)

pytestmark = pytest.mark.django_db
User = get_user_model()

PUBLIC_PATTERNS = public_patterns()


@pytest.fixture
def record():
    return build_hostile_record()


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def body_of_image(response):
    return response.content


def check_response_is_inert(response, tags):
    """Whatever the format, no payload can run: HTML escaped, data served as data."""
    content_type = response["Content-Type"].split(";")[0].strip()
    body = "" if content_type == "image/png" else body_of(response)
    if content_type == "application/gzip":
        # A compressed download (`body_of` unpacks it): checked as the file it holds.
        content_type = {"csv": "text/csv", "json": "application/json"}[
            response.request["PATH_INFO"].removesuffix(".gz").rsplit(".", 1)[1]
        ]
    if content_type == "text/html":
        assert injections(body) == []
        assert unescaped_payloads(body, tags) == []
    elif content_type in {"application/json", "application/geo+json"}:
        json.loads(body)  # well-formed: the payloads are strings in it, nothing more
    elif content_type in {"application/atom+xml", "application/rss+xml", "application/xml"}:
        tree = ElementTree.fromstring(body.encode())  # noqa: S314 - our own output
        assert not [el for el in tree.iter() if el.tag.rsplit("}", 1)[-1] == "script"]
    elif content_type == "text/csv":
        # A spreadsheet would run these as formulas (CSV injection).
        cells = [cell for row in csv.reader(io.StringIO(body)) for cell in row]
        assert [cell for cell in cells if cell.startswith(FORMULA_STARTS)] == []
    elif content_type == "image/png":
        assert body_of_image(response).startswith(b"\x89PNG")  # a share card: pixels only
    elif content_type == "text/plain":
        pass  # /healthz: plain text never runs, and nosniff (checked below) keeps it text.
    else:
        pytest.fail(f"{response.request['PATH_INFO']}: unexpected content type {content_type}")
    # Every response says what it is: the browser must not sniff a CSV or JSON into HTML.
    assert response["X-Content-Type-Options"] == "nosniff"
    return body


# --- Stored XSS on public pages and downloads ---------------------------------------------


@pytest.mark.parametrize("pattern", PUBLIC_PATTERNS, ids=str)
def test_payloads_come_out_escaped_on_every_public_page(client, record, pattern):
    for url in public_urls(pattern, record, client):
        response = client.get(url)
        assert response.status_code == 200
        body = check_response_is_inert(response, record.public_tags.values())
        # Drafts are not public: their text is on no public page, escaped or not.
        text = html.unescape(body)
        hidden = [*record.draft_tags, *record.private_tags]
        assert [tag for tag in hidden if f'alert("{tag}")' in text] == [], url


def test_the_hostile_fields_are_really_shown_on_public_pages(client, record):
    """The test above means something only if the payload fields are on the pages at all."""
    shown = set()
    for pattern in PUBLIC_PATTERNS:
        response = client.get(public_url(pattern, record, client))
        if response["Content-Type"].startswith("text/html"):
            shown |= shown_tags(body_of(response), record.public_tags.values())
    tags = record.public_tags
    assert {
        tags[label]
        for label in (
            "actor.name",
            "topic.title",
            "question.title",
            "statement.summary",
            "source.title",
            "condition.text",
        )
    } <= shown


def test_a_statement_page_escapes_its_quote_and_citation(client, record):
    response = client.get(record["statement"].get_absolute_url())
    body = response.content.decode()
    assert escaped_marker("statement-summary") in body
    assert injections(body) == []
    # The hostile https address stays inside its attribute.
    assert '<a href="https://evil.example/"><script>' not in body


# --- Stored XSS in the admin ----------------------------------------------------------------


def test_payloads_come_out_escaped_on_every_admin_page(client, record):
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(superuser)
    urls, skipped = admin_urls(record)
    assert urls
    tags = [*record.public_tags.values(), *record.draft_tags, *record.private_tags, "search"]
    failures = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code < 500, url
        if response.status_code != 200 or not response["Content-Type"].startswith("text/"):
            continue
        body = response.content.decode()
        problems = injections(body) + [f"unescaped {tag}" for tag in unescaped_payloads(body, tags)]
        if problems:
            failures[url] = problems
    assert failures == {}
    # Only the redirect to the public site has arguments this test cannot supply.
    assert set(skipped) <= {"view_on_site"} | {name for name in skipped if name.startswith("axes_")}


def test_admin_autocomplete_serves_hostile_names_as_json(client, record):
    if Actor not in admin.site._registry or not admin.site._registry[Actor].search_fields:
        pytest.skip("the actor admin with autocomplete is not on this branch")
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(superuser)
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "positions", "model_name": "actor", "field_name": "parent", "term": "alert"},
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    names = [item["text"] for item in response.json()["results"]]
    assert payload("actor-name") in names  # verbatim data; the admin's JS inserts it as text


# --- Script URLs are refused ------------------------------------------------------------------

SCRIPT_URLS = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "//evil.example/x",
]


@pytest.mark.parametrize("url", SCRIPT_URLS)
@pytest.mark.parametrize(
    ("model", "field"),
    [(Source, "url"), (Source, "archive_url"), (Actor, "website")],
)
def test_url_fields_refuse_script_urls_in_forms_and_in_the_database(model, field, url):
    obj = SourceFactory() if model is Source else ActorFactory()
    setattr(obj, field, url)
    with pytest.raises(ValidationError) as refused:
        obj.full_clean()
    assert field in refused.value.message_dict
    assert "http:// or https://" in " ".join(refused.value.message_dict[field])

    # And the database refuses it too, whatever code path tries to write it.
    with pytest.raises(IntegrityError), transaction.atomic():
        model.objects.filter(pk=obj.pk).update(**{field: url})


def test_the_source_admin_form_refuses_a_javascript_url(client):
    if Source not in admin.site._registry:
        pytest.skip("the source admin is not on this branch")
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    response = client.post(
        reverse("admin:positions_source_add"),
        {"title": "Trap", "kind": SourceKind.NEWS_REPORT, "url": "javascript:alert(1)"},
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["url"]  # "Enter a valid URL."
    assert not Source.objects.filter(title="Trap").exists()


# --- Open redirects through ?next= ------------------------------------------------------------

EVIL_NEXTS = [
    "https://evil.example/",
    "//evil.example/",
    "/\\evil.example/",
    "\\\\evil.example",
    "https:evil.example",
    "javascript:alert(1)",
    " https://evil.example/",
    "http://testserver@evil.example/",
]


@pytest.fixture
def staff_with_password(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    user = UserFactory(username="editor", is_staff=True)
    user.set_password("a long and unusual passphrase")
    user.save()
    return user


@pytest.mark.parametrize("evil", EVIL_NEXTS)
def test_admin_login_never_redirects_off_site(client, staff_with_password, evil):
    login = reverse("admin:login")
    form = client.get(login, {"next": evil})
    assert injections(form.content.decode()) == []
    response = client.post(
        f"{login}?{urlencode({'next': evil})}",
        {"username": "editor", "password": "a long and unusual passphrase", "next": evil},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")


@pytest.mark.parametrize("evil", EVIL_NEXTS)
def test_admin_logout_never_redirects_off_site(client, staff_with_password, evil):
    client.force_login(staff_with_password)
    response = client.post(f"{reverse('admin:logout')}?{urlencode({'next': evil})}")
    assert "_auth_user_id" not in client.session
    # Django answers an unsafe `next` by staying on its own logout address.
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:logout")


def test_a_local_next_is_still_honoured(client, staff_with_password):
    """The refusals above are not a broken redirect: a path on this site is followed."""
    target = reverse("admin:auth_user_changelist")
    response = client.post(
        reverse("admin:login"),
        {"username": "editor", "password": "a long and unusual passphrase", "next": target},
    )
    assert response["Location"] == target


# --- CSRF on every POST -----------------------------------------------------------------------


def test_every_admin_form_refuses_a_post_without_a_csrf_token(record):
    csrf_client = Client(enforce_csrf_checks=True)
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    csrf_client.force_login(superuser)
    targets = [reverse("admin:password_change")]
    for model in admin.site._registry:
        info = f"{model._meta.app_label}_{model._meta.model_name}"
        targets += [reverse(f"admin:{info}_changelist"), reverse(f"admin:{info}_add")]
        obj = model._default_manager.order_by("pk").first()
        if obj is not None:
            targets.append(reverse(f"admin:{info}_change", args=[obj.pk]))
            targets.append(reverse(f"admin:{info}_delete", args=[obj.pk]))
    before = {m: m._default_manager.count() for m in admin.site._registry}
    for url in targets:
        response = csrf_client.post(url, {"post": "yes", "action": "delete_selected"})
        assert response.status_code == 403, url
        assert "CSRF verification failed" in response.content.decode(), url
    assert {m: m._default_manager.count() for m in admin.site._registry} == before


def test_login_and_logout_need_a_csrf_token(staff_with_password):
    csrf_client = Client(enforce_csrf_checks=True)
    response = csrf_client.post(
        reverse("admin:login"),
        {"username": "editor", "password": "a long and unusual passphrase"},
    )
    assert response.status_code == 403
    assert "_auth_user_id" not in csrf_client.session

    csrf_client.force_login(staff_with_password)
    assert csrf_client.post(reverse("admin:logout")).status_code == 403
    assert "_auth_user_id" in csrf_client.session


def test_every_public_url_refuses_a_post_without_a_csrf_token(client, record):
    """Public pages take no POST; any that do (a subscribe form) must check the token."""
    csrf_client = Client(enforce_csrf_checks=True)
    for pattern in PUBLIC_PATTERNS:
        if pattern.name in TOKEN_FREE_POSTS:
            continue
        url = public_url(pattern, record, client)
        response = csrf_client.post(url, {"email": "reader@example.org"})
        assert response.status_code in {403, 405}, url


# POSTs that no page makes, so that carry no CSRF token by design.
TOKEN_FREE_POSTS = {
    # The one-click unsubscribe of RFC 8058: the reader's mail provider POSTs to the signed
    # link from the List-Unsubscribe header, with no cookie or token (tests/test_alerts_email.py).
    "alerts:unsubscribe",
}


def test_a_post_with_the_token_from_the_form_is_accepted(record):
    """The 403s above come from the CSRF check, not from a broken form."""
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    form = csrf_client.get(reverse("admin:auth_group_add"))
    token = form.context["csrf_token"]
    response = csrf_client.post(
        reverse("admin:auth_group_add"), {"name": "Reviewers", "csrfmiddlewaretoken": str(token)}
    )
    assert response.status_code == 302


# --- Drafts by guessed URL --------------------------------------------------------------------


def test_a_reader_guessing_a_draft_statement_url_gets_404(client, record):
    draft = record["draft"]
    assert client.get(reverse("positions:statement", args=[draft.pk])).status_code == 404
    # ...and nothing of it on the pages that list statements.
    for url in [
        reverse("positions:statement_list"),
        record["question"].get_absolute_url(),
        record["actor"].get_absolute_url(),
        record["source"].get_absolute_url(),
    ]:
        assert "draft-summary" not in html.unescape(client.get(url).content.decode()), url


def test_guessing_every_statement_id_finds_only_public_ones(client):
    statements = [
        StatementFactory(status=status)
        for status in (StatementStatus.PUBLISHED, StatementStatus.DRAFT, StatementStatus.RETRACTED)
    ]
    found = {
        pk
        for pk in range(1, max(s.pk for s in statements) + 3)
        if client.get(reverse("positions:statement", args=[pk])).status_code == 200
    }
    assert found == {s.pk for s in statements if s.status != StatementStatus.DRAFT}


def test_a_signed_in_editor_without_staff_rights_cannot_preview_drafts(client, record):
    client.force_login(UserFactory(username="reader"))
    assert client.get(record["draft"].get_absolute_url()).status_code == 404


# --- Mass assignment of staff rights ----------------------------------------------------------


@pytest.fixture
def positions_editor():
    """Staff with every right on the records, and none on users or groups."""
    user = UserFactory(username="editor", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="positions"))
    return user


def test_staff_without_user_rights_cannot_open_or_post_the_user_admin(client, positions_editor):
    client.force_login(positions_editor)
    change = reverse("admin:auth_user_change", args=[positions_editor.pk])
    assert client.get(change).status_code == 403
    response = client.post(
        change,
        {
            "username": "editor",
            "is_active": "on",
            "is_staff": "on",
            "is_superuser": "on",
            "user_permissions": list(Permission.objects.values_list("pk", flat=True)),
        },
    )
    assert response.status_code == 403
    positions_editor.refresh_from_db()
    assert not positions_editor.is_superuser
    assert positions_editor.user_permissions.filter(content_type__app_label="auth").count() == 0
    # Nor can they create a superuser or change a group's rights.
    assert (
        client.post(
            reverse("admin:auth_user_add"),
            {
                "username": "sneaky",
                "password1": "x" * 20,
                "password2": "x" * 20,
                "is_superuser": "on",
            },
        ).status_code
        == 403
    )
    assert not User.objects.filter(username="sneaky").exists()


def test_extra_fields_posted_to_record_forms_are_ignored(client, positions_editor):
    """No record form takes rights, authorship or publication stamps from the POST."""
    if Actor not in admin.site._registry:
        pytest.skip("the actor admin is not on this branch")
    client.force_login(positions_editor)
    actor = ActorFactory(slug="target", name="Target")
    response = client.post(
        reverse("admin:positions_actor_change", args=[actor.pk]),
        {
            "name": "Target renamed",
            "slug": "target",
            "kind": actor.kind,
            "country": "",
            "identifiers-TOTAL_FORMS": "0",
            "identifiers-INITIAL_FORMS": "0",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
            "is_staff": "on",
            "is_superuser": "on",
            "user": positions_editor.pk,
            "created_at": "2000-01-01T00:00:00Z",
            "pk": 999,
            "id": 999,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    actor.refresh_from_db()
    assert actor.name == "Target renamed"
    assert actor.pk != 999 and actor.created_at.year != 2000
    positions_editor.refresh_from_db()
    assert not positions_editor.is_superuser


def test_the_editorial_groups_hold_no_rights_over_users_or_groups():
    """Whoever may change users may make themselves superuser (the admin's design), so no
    editorial group may change users, groups or permissions."""
    from django.contrib.auth.models import Group

    groups = Group.objects.filter(name__in=["Editors", "Publishers"])
    if not groups.exists():
        pytest.skip("the editorial groups are not on this branch")
    assert set(groups.values_list("name", flat=True)) == {"Editors", "Publishers"}
    rights = Permission.objects.filter(group__in=groups).exclude(
        content_type__app_label="positions"
    )
    assert list(rights.values_list("codename", flat=True)) == []


def test_no_admin_form_outside_auth_exposes_staff_or_superuser_fields(positions_editor, rf):
    request = rf.get("/")
    request.user = positions_editor
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label == "auth":
            continue
        form = model_admin.get_form(request)
        assert not {"is_staff", "is_superuser", "user_permissions", "groups"} & set(
            form.base_fields
        ), model


# --- An editor publishing by crafting a POST, with CSRF checks on --------------------------


def editor_csrf_client():
    from django.contrib.auth.models import Group

    group = Group.objects.filter(name="Editors").first()
    if group is None or Statement not in admin.site._registry:
        pytest.skip("the editors' admin and its groups are not on this branch")
    editor = UserFactory(username="editor", is_staff=True)
    editor.groups.add(group)
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(editor)
    return csrf_client


def csrf_token(csrf_client, url):
    response = csrf_client.get(url)
    assert response.status_code == 200, url
    return str(response.context["csrf_token"])


def test_an_editor_cannot_publish_with_a_crafted_action_post():
    csrf_client = editor_csrf_client()
    draft = StatementFactory(status=StatementStatus.DRAFT)
    changelist = reverse("admin:positions_statement_changelist")
    token = csrf_token(csrf_client, changelist)
    for action in ["publish_statements", "retract_statements", "delete_selected"]:
        csrf_client.post(
            changelist,
            {
                "csrfmiddlewaretoken": token,
                "action": action,
                "_selected_action": [draft.pk],
                "index": "0",
                "post": "yes",
                "note": "Forged.",
                "correction_note": "Forged.",
                "apply": "1",
            },
        )
        draft.refresh_from_db()
        assert draft.status == StatementStatus.DRAFT, action
        assert draft.first_published_at is None


def test_an_editor_cannot_publish_by_tampering_with_the_change_form():
    csrf_client = editor_csrf_client()
    draft = StatementFactory(status=StatementStatus.DRAFT)
    change = reverse("admin:positions_statement_change", args=[draft.pk])
    token = csrf_token(csrf_client, change)
    signatory = draft.signatures.get()
    response = csrf_client.post(
        change,
        {
            "csrfmiddlewaretoken": token,
            "question": draft.question_id,
            "date": draft.date.isoformat(),
            "date_precision": "day",
            "stance": draft.stance,
            "summary": draft.summary,
            "attribution": draft.attribution,
            "source": draft.source_id,
            "status": StatementStatus.PUBLISHED,  # not offered to editors: forged
            "first_published_at": "2024-01-01T00:00:00Z",
            "signatures-TOTAL_FORMS": "1",
            "signatures-INITIAL_FORMS": "1",
            "signatures-0-id": signatory.pk,
            "signatures-0-statement": draft.pk,
            "signatures-0-actor": signatory.actor_id,
            "signatures-0-order": "0",
            "signatures-0-is_lead": "on",
        },
    )
    # Refused for the right reason: the form says who may publish (not a missing field).
    assert response.status_code == 200
    assert "Only a Publisher can publish" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == StatementStatus.DRAFT
    assert draft.first_published_at is None


def replay_publishers_import_as_editor(client):
    """A publisher previews a file that publishes; an editor posts its confirmation."""
    try:
        import_url = reverse("admin:positions_statement_import")
        confirm_url = reverse("admin:positions_statement_process_import")
    except NoReverseMatch:
        pytest.skip("the statement import is not on this branch")
    from django.contrib.auth.models import Group
    from django.core.files.uploadedfile import SimpleUploadedFile

    question = StatementFactory(status=StatementStatus.DRAFT).question
    actor = ActorFactory(slug="importing-actor")
    source = SourceFactory(url="https://example.org/letter")
    csv_file = (
        "import_ref,question,date,stance,signatories,summary,source,status\r\n"
        f"forged-1,{question.topic.slug}/{question.slug},2024-11-01,opposes,{actor.slug},"
        f"They object.,{source.url},published\r\n"
    ).encode()
    publisher = UserFactory(username="publisher", is_staff=True)
    publisher.groups.add(Group.objects.get(name="Publishers"))
    client.force_login(publisher)
    preview = client.post(
        import_url,
        {"import_file": SimpleUploadedFile("s.csv", csv_file), "format": "0", "resource": "0"},
    )
    confirmation = preview.context["confirm_form"].initial

    csrf_client = editor_csrf_client()
    token = csrf_token(csrf_client, import_url)
    return csrf_client.post(confirm_url, {**confirmation, "csrfmiddlewaretoken": token})


def test_an_editor_cannot_publish_by_replaying_a_publishers_import_confirmation(client):
    """The confirm step re-applies the editorial rules for whoever posts it: an editor who
    gets hold of a publisher's previewed upload (its stored file name) cannot confirm it."""
    response = replay_publishers_import_as_editor(client)
    assert response.status_code != 403  # the token was right: refused by the editorial rules
    assert not Statement.objects.filter(import_ref="forged-1", status="published").exists()


def test_a_refused_import_confirmation_says_why(client):
    from django.contrib.messages import get_messages

    response = replay_publishers_import_as_editor(client)
    said = " ".join(str(message) for message in get_messages(response.wsgi_request))
    assert "Only a Publisher" in said, said
