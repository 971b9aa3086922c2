"""
The site works under the strict Content-Security-Policy: a real Chromium opens every admin
page (lists, forms, popups, history), the sign-in and lockout pages and every public page
(with a script payload in every field) and reports any CSP violation.
"""

import pytest
from django.conf import settings as django_settings
from django.contrib import admin
from django.urls import reverse

from positions.models import Actor
from tests.factories import UserFactory
from tests.hostile import admin_urls, build_hostile_record, public_patterns, public_urls

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

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


def watch(page):
    page.console_messages_seen = []
    page.on("console", lambda message: page.console_messages_seen.append(message.text))
    page.on("pageerror", lambda error: page.console_messages_seen.append(f"error: {error}"))


@pytest.fixture
def browser_page(plain_http_server_settings, live_server, page):
    """Playwright's page (Chromium, see conftest.py), reporting CSP violations, popups too."""
    page.context.add_init_script(LISTEN_FOR_VIOLATIONS)
    page.context.on("page", watch)
    watch(page)
    return page


def sign_in(page, live_server, client, user):
    client.force_login(user)
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])


def html_pages(client, urls):
    """The URLs that are HTML pages (not downloads, feeds, JSON or POST-only views): what the
    test client, signed in as the browser is, gets with 200 and text/html."""
    for url in urls:
        response = client.get(url)
        if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
            yield url


def violations(page):
    found = page.evaluate("window.__cspViolations || []")
    found += [m for m in page.console_messages_seen if "Content Security Policy" in m]
    found += [m for m in page.console_messages_seen if m.startswith("error:")]
    page.console_messages_seen.clear()
    return found


def test_every_admin_page_runs_without_csp_violations(browser_page, live_server, client):
    record = build_hostile_record()
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    sign_in(browser_page, live_server, client, superuser)

    found = {}
    urls, _skipped = admin_urls(record)
    for model in admin.site._registry:  # and each add form as a related-object popup
        info = f"{model._meta.app_label}_{model._meta.model_name}"
        urls.append(reverse(f"admin:{info}_add") + "?_to_field=id&_popup=1")
    for url in html_pages(client, urls):
        response = browser_page.goto(live_server.url + url)
        assert response.status == 200, (url, response.status)
        browser_page.wait_for_load_state("load")
        problems = violations(browser_page)
        if problems:
            found[url] = problems
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

    # The export form's "Select all" toggle (bound by static/admin_csp/export.js).
    page.goto(live_server.url + reverse("admin:positions_actor_export"))
    fields = page.locator('.selectable-field-export-row input[type="checkbox"]:visible')
    assert fields.count() > 1
    page.uncheck("#select-all-toggle")
    assert not any(fields.nth(i).is_checked() for i in range(fields.count()))
    page.check("#select-all-toggle")
    assert all(fields.nth(i).is_checked() for i in range(fields.count()))
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
    urls = [url for pattern in public_patterns() for url in public_urls(pattern, record, client)]
    for url in html_pages(client, urls):
        response = browser_page.goto(live_server.url + url)
        assert response.status == 200, url
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
