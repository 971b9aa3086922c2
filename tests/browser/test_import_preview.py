"""
The admin import's preview at size, in a real browser at desktop and phone widths: a file of
20,000 actor rows (4,000 in the quick run) onto a database that holds 2,000 actors, with new,
changed, unchanged, clearing and error rows and a likely duplicate. The upload is big enough
for the background worker (jobs.py), run at once here by django-tasks' immediate backend as
in tests/test_import_jobs.py.

What an editor must be able to do on that page: read the totals first; read it without
scrolling sideways; scroll a page whose length does not grow with the file (unchanged rows
are only counted, the other lists show their first rows and count the rest); read every
error with its row and column without hovering; and choose, before confirming, whether
empty cells clear stored values. Confirming then writes.
"""

import pytest
from django.conf import settings as django_settings
from playwright.sync_api import expect

from positions.exchange import TYPES, ImportContext, import_bytes
from positions.exchange.preview import ERRORS_SHOWN, SHOWN
from positions.models import Actor, ImportJob, ImportJobState
from tests.browser.test_maps_status import overflowing

pytestmark = pytest.mark.browser
SHOTS = "/tmp"  # noqa: S108 -- screenshots to look at, not secrets

# The file's rows: 20,000 in the `slow` run; the quick run's 4,000 are still more than every
# list of the preview shows and big enough for the background worker.
ROWS = 20_000
QUICK_ROWS = 4_000
EXISTING = 2_000
CHANGED = 150  # more than the preview shows: the rest are counted
CLEARING = 40  # changed rows whose empty description would clear the stored one
ERRORS = 30
HEADER = "slug,name,kind,country,aliases,description,website,identifiers"
KINDS = ["legislator", "ngo", "company", "government", "expert", "media"]
COUNTRIES = ["US", "FR", "DE", "BR", "IN", "NG", "JP", "MX", "ZA", "SE"]
FIRST = ["Ana", "Bea", "Chidi", "Dana", "Emeka", "Farah", "Goran", "Hiro", "Ines", "Jonas"]
LAST = ["Álvarez", "Bauer", "Chen", "Diallo", "Eriksson", "Fujita", "García", "Haddad"]
# A long description and a long slug: long cells must wrap, not widen the page.
LONG = "Member of the standing committee on justice and home affairs since the last election"


def actor_row(i, *, description=None, kind=None, country=None):
    first, last = FIRST[i % len(FIRST)], LAST[(i // len(FIRST)) % len(LAST)]
    name = f"{first} {last} {i}"
    if description is None:
        description = f"{LONG} ({i})."
    return ",".join(
        [
            f"actor-{i:05d}-{first.lower()}-{i % 97}",
            name,
            kind or KINDS[i % len(KINDS)],
            country or COUNTRIES[i % len(COUNTRIES)],
            f"{first[0]}. {last} {i}",
            description,
            f"https://example.org/people/{i}" if i % 3 == 0 else "",
            f"wikidata:Q{100_000 + i}",
        ]
    )


def actors_file(rows, *, errors):
    """The file an editor exports, edits and imports again, plus new people."""
    lines = [HEADER]
    for i in range(rows):
        if i < CLEARING:
            lines.append(actor_row(i, description=""))  # clears the stored description
        elif i < CHANGED:
            lines.append(actor_row(i, description=f"Re-elected in 2024 ({i})."))
        elif errors and EXISTING <= i < EXISTING + ERRORS:
            lines.append(actor_row(i, kind="senator") if i % 2 else actor_row(i, country="XX"))
        else:
            lines.append(actor_row(i))
    # Someone already there, under another slug, without the accent or an identifier.
    lines.append("ana-alvarez-2,Ana Alvarez,legislator,US,,,,")
    return ("\r\n".join(lines) + "\r\n").encode()


@pytest.fixture
def holding_actors(transactional_db):
    """The database before the import, written by imports: the file's first 2,000 actors
    and an Ana Álvarez the file names again under another slug."""
    data = ("\r\n".join([HEADER, *(actor_row(i) for i in range(EXISTING))]) + "\r\n").encode()
    report = import_bytes(TYPES["actors"], data, "before.csv", context=ImportContext())
    assert report.ok and report.created == EXISTING, report.errors[:3]
    ana = import_bytes(
        TYPES["actors"],
        f"{HEADER}\r\nana-alvarez,Ana Álvarez,legislator,US,,Senator.,,\r\n".encode(),
        "before.csv",
        context=ImportContext(duplicates="new"),  # "Ana Álvarez 0" is someone else
    )
    assert ana.ok and ana.created == 1, ana.errors


@pytest.fixture
def admin_page(plain_http_server_settings, live_server, holding_actors, page, settings):
    from django.contrib.auth import get_user_model

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    get_user_model().objects.create_superuser("importer", "importer@example.org", "import-pw-1")
    # Checking and writing 20,000 rows run inside the upload's and the confirm's requests
    # (the immediate backend): on a loaded machine they take longer than Playwright's 30 s.
    page.set_default_timeout(300_000)
    page.route("**/favicon.ico", lambda route: route.fulfill(status=204))  # the admin has none
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/{django_settings.ADMIN_URL}login/")
    page.get_by_label("Username").fill("importer")
    page.get_by_label("Password").fill("import-pw-1")
    page.get_by_role("button", name="Log in").click()
    yield f"{live_server.url}/{django_settings.ADMIN_URL}"
    assert errors == []


def upload(page, admin, data, tmp_path, name):
    path = tmp_path / name
    path.write_bytes(data)
    page.goto(f"{admin}positions/actor/import/")
    page.get_by_label("File to import").set_input_files(str(path))
    page.get_by_label("Format").select_option(label="csv")
    page.get_by_role("button", name="Submit").click()
    expect(page.locator("#import-job")).to_be_visible(timeout=300_000)


def measure(page):
    return page.evaluate(
        "() => ({scrollWidth: document.documentElement.scrollWidth,"
        " scrollHeight: document.documentElement.scrollHeight})"
    )


def assert_totals_come_first(page):
    """The totals are the first thing of the page's content, above every list."""
    totals = page.locator("dl.import-totals").first
    expect(totals).to_be_visible()
    top = totals.bounding_box()["y"]
    for later in page.locator(".import-errors, .import-rows, .import-choice, .import-new").all():
        assert later.bounding_box()["y"] > top


# Generous bounds in CSS pixels that hold for any number of rows, because the lists are capped
# (preview.SHOWN, ERRORS_SHOWN) and the unchanged rows are one line: at 76,855 px a 539-row
# preview was unusable (issue 12).
MAX_HEIGHT = {1280: 4_000, 390: 6_000}
WIDTHS = [1280, 390]


@pytest.mark.parametrize("width", WIDTHS)
def test_a_big_preview_reads_well_and_confirms(admin_page, page, width, tmp_path):
    preview_reads_well_and_confirms(admin_page, page, width, tmp_path, QUICK_ROWS)


@pytest.mark.slow
@pytest.mark.parametrize("width", WIDTHS)
def test_a_20000_row_preview_reads_well_and_confirms(admin_page, page, width, tmp_path):
    preview_reads_well_and_confirms(admin_page, page, width, tmp_path, ROWS)


def preview_reads_well_and_confirms(admin_page, page, width, tmp_path, rows):
    page.set_viewport_size({"width": width, "height": 900})
    admin = admin_page

    # 1. A file with errors: nothing can be imported; every error in full, row and column.
    upload(page, admin, actors_file(rows, errors=True), tmp_path, "actors-with-errors.csv")
    job = ImportJob.objects.get()
    assert job.state == ImportJobState.FAILED
    assert_totals_come_first(page)
    totals = page.locator("dl.import-totals")
    expect(totals.locator(".errors dd")).to_have_text(str(ERRORS))
    errors = page.locator("ol.import-errors > li")
    expect(errors).to_have_count(ERRORS)
    first_error = errors.first
    expect(first_error).to_be_visible()
    expect(first_error).to_contain_text(f"Row {EXISTING + 2}, column ")
    expect(errors.filter(has_text="column kind: ").first).to_contain_text("senator")
    expect(errors.filter(has_text="column country: ").first).to_be_visible()
    assert page.locator(".validation-error-count").count() == 0, "no hover badges"
    size = measure(page)
    page.screenshot(path=f"{SHOTS}/preview-errors-{rows}-{width}.png", full_page=True)
    assert size["scrollWidth"] <= width
    assert width > 390 or overflowing(page) == []
    assert size["scrollHeight"] <= MAX_HEIGHT[width], size
    assert Actor.objects.count() == EXISTING + 1

    # 2. The file fixed: the diff, the clearing choice, the likely duplicate.
    upload(page, admin, actors_file(rows, errors=False), tmp_path, "actors.csv")
    job = ImportJob.objects.latest("pk")
    assert job.state == ImportJobState.CHECKED, job.message
    assert_totals_come_first(page)
    new = rows - EXISTING + 1  # the duplicate is a new row until the editor says otherwise
    expect(totals.locator(".new dd")).to_have_text(f"{new:,}")
    expect(totals.locator(".changed dd")).to_have_text(str(CHANGED))
    expect(totals.locator(".unchanged dd")).to_have_text(f"{EXISTING - CHANGED:,}")
    expect(totals.locator(".clearing dd")).to_have_text(str(CLEARING))
    expect(totals.locator(".flagged dd")).to_have_text("1")
    # Unchanged rows are one line; the other lists show their first rows and count the rest.
    expect(page.locator(".import-unchanged")).to_contain_text(f"{EXISTING - CHANGED:,} unchanged")
    assert page.locator("tbody.changed-row").count() == min(CHANGED, SHOWN)
    expect(page.get_by_text(f"… and {CHANGED - SHOWN:,} more changed rows.")).to_be_visible()
    assert page.locator("ul.import-new > li").count() <= SHOWN
    assert ERRORS_SHOWN >= ERRORS  # every error of the first file was listed
    # The clearing: each shown, and the choice visible before the confirm button.
    expect(page.locator("td.new .cleared").first).to_be_visible()
    choice = page.locator("#clearing-choice")
    expect(choice).to_be_visible()
    expect(choice).to_contain_text("description")
    clear = choice.get_by_label("Clear these fields")
    keep = choice.get_by_label("Keep current values")
    expect(clear).to_be_visible()
    expect(keep).to_be_visible()
    confirm = page.get_by_role("button", name="Confirm import")
    assert choice.bounding_box()["y"] < confirm.bounding_box()["y"]
    duplicate = page.locator("#duplicate-choice")
    expect(duplicate).to_contain_text("ana-alvarez-2")
    expect(duplicate.get_by_role("link", name="Ana Álvarez")).to_be_visible()
    size = measure(page)
    page.screenshot(path=f"{SHOTS}/preview-diff-{rows}-{width}.png", full_page=True)
    page.screenshot(path=f"{SHOTS}/preview-diff-top-{rows}-{width}.png")
    assert size["scrollWidth"] <= width
    assert width > 390 or overflowing(page) == []
    assert size["scrollHeight"] <= MAX_HEIGHT[width], size

    # 3. Confirming without the clearing choice is refused by the page: nothing written.
    confirm.click()
    assert clear.evaluate("input => input.validity.valueMissing")
    job.refresh_from_db()
    assert job.state == ImportJobState.CHECKED and Actor.objects.count() == EXISTING + 1

    # 4. Keep the stored values, the duplicate is the same actor: confirm writes everything.
    keep.check()
    duplicate.get_by_label("same actor", exact=True).check()
    confirm.click()
    expect(page.locator("#import-job")).to_have_attribute("data-state", "done", timeout=300_000)
    expect(page.get_by_text("Import finished")).to_be_visible()
    page.screenshot(path=f"{SHOTS}/preview-done-{rows}-{width}.png", full_page=True)
    assert Actor.objects.count() == rows + 1
    kept = Actor.objects.get(identifiers__identifier="Q100000")
    assert kept.description == f"{LONG} (0).", "kept, as chosen"
    changed = Actor.objects.get(identifiers__identifier=f"Q{100_000 + CHANGED - 1}")
    assert changed.description == f"Re-elected in 2024 ({CHANGED - 1})."
    assert not Actor.objects.filter(slug="ana-alvarez-2").exists(), "the same actor"
    assert Actor.objects.get(slug="ana-alvarez").description == "Senator.", "kept"
