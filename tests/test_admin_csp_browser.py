"""
The site works under the strict Content-Security-Policy: a real Chromium opens every admin
page (lists, forms, popups, history), the sign-in and lockout pages and every public page
(with a script payload in every field) and reports any CSP violation.
"""

import os

import pytest
from django.conf import settings as django_settings
from django.contrib import admin
from django.urls import reverse

from positions.models import Actor
from tests.factories import UserFactory
from tests.hostile import build_hostile_record, public_patterns, public_url

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

# Playwright's sync API runs an event loop in this thread; the test's ORM calls are still sync.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# Reports each violation the page suffers, whatever the console says.
LISTEN_FOR_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"} ` +
    `at ${event.sourceFile || ""}:${event.lineNumber}: ${event.sample || ""}`
  );
});
"""


@pytest.fixture(scope="session")
def plain_http_live_server():
    """
    The live server builds its middleware once per session, before per-test settings apply:
    turn the HTTPS redirect off before it starts (as tests/browser/conftest.py does).
    """
    from django.test import override_settings

    override = override_settings(SECURE_SSL_REDIRECT=False)
    override.enable()
    yield
    override.disable()


@pytest.fixture
def browser_page(plain_http_live_server, live_server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        context = browser.new_context()
        context.add_init_script(LISTEN_FOR_VIOLATIONS)

        def watch(page):
            page.console_messages_seen = []
            page.on("console", lambda message: page.console_messages_seen.append(message.text))
            page.on("pageerror", lambda error: page.console_messages_seen.append(f"error: {error}"))

        context.on("page", watch)  # popups too
        page = context.new_page()
        yield page
        browser.close()


def sign_in(page, live_server, client, user):
    client.force_login(user)
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])


def violations(page):
    found = page.evaluate("window.__cspViolations")
    found += [m for m in page.console_messages_seen if "Content Security Policy" in m]
    found += [m for m in page.console_messages_seen if m.startswith("error:")]
    page.console_messages_seen.clear()
    return found


def admin_pages():
    """(label, url) of every model's list, add form, add popup, change form, history, delete."""
    pages = [("index", reverse("admin:index")), ("password", reverse("admin:password_change"))]
    for model in admin.site._registry:
        info = f"{model._meta.app_label}_{model._meta.model_name}"
        pages.append((f"{info} list", reverse(f"admin:{info}_changelist")))
        pages.append((f"{info} add", reverse(f"admin:{info}_add")))
        pages.append((f"{info} popup", reverse(f"admin:{info}_add") + "?_to_field=id&_popup=1"))
        obj = model._default_manager.order_by("pk").first()
        if obj is not None:
            pages.append((f"{info} change", reverse(f"admin:{info}_change", args=[obj.pk])))
            pages.append((f"{info} history", reverse(f"admin:{info}_history", args=[obj.pk])))
            pages.append((f"{info} delete", reverse(f"admin:{info}_delete", args=[obj.pk])))
    return pages


def test_every_admin_page_runs_without_csp_violations(browser_page, live_server, client):
    build_hostile_record()
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    sign_in(browser_page, live_server, client, superuser)

    found = {}
    for label, url in admin_pages():
        response = browser_page.goto(live_server.url + url)
        assert response.status < 500, (label, response.status)
        browser_page.wait_for_load_state("load")
        problems = violations(browser_page)
        if problems:
            found[label] = problems
    assert found == {}


def test_admin_scripts_work_under_the_policy(browser_page, live_server, client):
    """Not only no violation: the admin's own JavaScript runs (actions, popups, widgets)."""
    record = build_hostile_record()
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    sign_in(browser_page, live_server, client, superuser)
    page = browser_page

    # The action bar: ticking "select all" counts the selection (actions.js).
    page.goto(live_server.url + reverse("admin:auth_user_changelist"))
    page.check("#action-toggle")
    assert "selected" in page.inner_text(".action-counter")

    # The related-object "+" opens a popup window (RelatedObjectLookups.js).
    page.goto(live_server.url + reverse("admin:auth_user_change", args=[record["user"].pk]))
    with page.expect_popup() as popup:
        page.click("#add_id_groups")
    added = popup.value
    added.wait_for_load_state("load")
    assert "_popup=1" in added.url
    # Saving in the popup closes it and selects the new group in the opener: the popup still
    # reaches its opener under the Cross-Origin-Opener-Policy.
    added.fill("#id_name", "Reviewers")
    with added.expect_event("close"):
        added.click("input[name=_save]")
    assert page.locator("select[id^=id_groups] option", has_text="Reviewers").count() == 1
    assert violations(page) == []

    if Actor not in admin.site._registry:
        return
    # The actor form: the slug fills itself from the name (prepopulate.js, URLify)...
    page.goto(live_server.url + reverse("admin:positions_actor_add"))
    page.locator("#id_name").press_sequentially("Electronic Frontier Foundation")
    assert page.input_value("#id_slug") == "electronic-frontier-foundation"
    # ...the parent is picked with the autocomplete widget (select2 and its JSON view)...
    page.click("#id_parent + .select2 .select2-selection")
    page.fill(".select2-search__field", "alert")
    result = page.locator(".select2-results__option", has_text='alert("parent-name")')
    result.wait_for()
    result.click()
    assert 'alert("parent-name")' in page.inner_text("#select2-id_parent-container")
    # ...and its popup to add a parent opens.
    with page.expect_popup() as popup:
        page.click("#add_id_parent")
    popup.value.wait_for_load_state("load")
    assert violations(page) == [] and violations(popup.value) == []

    # A date field's calendar opens (DateTimeShortcuts.js builds it in the page).
    page.goto(live_server.url + reverse("admin:positions_source_add"))
    page.click("#calendarlink0")
    assert page.locator(".calendarbox").is_visible()
    assert violations(page) == []


def test_the_check_catches_a_violation(browser_page, live_server, client, settings):
    """Guard for the tests above: with scripts forbidden, the admin's scripts are reported."""
    settings.CONTENT_SECURITY_POLICY = {
        "DIRECTIVES": {**settings.CONTENT_SECURITY_POLICY["DIRECTIVES"], "script-src": ["'none'"]}
    }
    sign_in(browser_page, live_server, client, UserFactory(is_staff=True, is_superuser=True))
    browser_page.goto(live_server.url + reverse("admin:auth_user_changelist"))
    browser_page.wait_for_load_state("load")
    assert any("script-src" in problem for problem in violations(browser_page))


def test_every_public_page_with_hostile_data_runs_without_csp_violations(
    browser_page, live_server, client
):
    """The reader's side too, with a payload in every field: nothing runs, nothing is blocked."""
    record = build_hostile_record()
    dialogs = []
    browser_page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    found = {}
    for pattern in public_patterns():
        url = public_url(pattern, record, client)
        response = browser_page.goto(live_server.url + url)
        assert response.status == 200, url
        if not response.headers["content-type"].startswith("text/html"):
            # Chromium styles its own viewer of XML and text inline: not the site's doing.
            violations(browser_page)
            continue
        browser_page.wait_for_load_state("load")
        problems = violations(browser_page)
        if problems:
            found[url] = problems
    assert found == {}
    assert dialogs == []  # no alert() from any payload


def test_the_sign_in_and_lockout_pages_work_under_the_policy(browser_page, live_server, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    user = UserFactory(username="editor", is_staff=True)
    user.set_password("a long and unusual passphrase")
    user.save()
    page = browser_page
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        page.goto(live_server.url + reverse("admin:login"))
        page.fill("#id_username", "editor")
        page.fill("#id_password", "wrong password")
        page.click("input[type=submit]")
        page.wait_for_load_state("load")
    assert "Sign-in paused after too many failed attempts" in page.inner_text("#content")
    assert violations(page) == []
