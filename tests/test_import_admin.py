"""
The admin import (dry-run preview, then confirm) and export, through the same service as
the command line; the confirm step must work when another process serves it.
"""

import io
import os
import uuid

import openpyxl
import pytest
import redis
from django.conf import settings as django_settings
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.core.cache.backends.redis import RedisCache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory

from positions.exchange import TYPES
from positions.exchange.admin import SafeCSV, SafeXLSX
from positions.models import Statement, StatementStatus
from tests.factories import (
    ActorFactory,
    QuestionFactory,
    SourceFactory,
    StatementFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/3")
IMPORT_URL = "/admin/positions/statement/import/"
CONFIRM_URL = "/admin/positions/statement/process_import/"
CSV = (
    "import_ref,question,date,stance,signatories,summary,source,status\r\n"
    "s1,uncc/ratification,2024-11-01,opposes,senator-a|senator-b,They object.,"
    "https://example.org/letter,{status}\r\n"
)


def redis_available():
    try:
        return redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        return False


@pytest.fixture(autouse=True)
def _plain_http(settings):
    """DEBUG is off in tests: no HTTPS redirect, and no collectstatic manifest to read."""
    settings.SECURE_SSL_REDIRECT = False
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def shared_cache(settings):
    """The production set-up: a Redis cache every process shares (CACHE_URL)."""
    if not redis_available():
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    # A prefix of its own: another test run may share the Redis database at the same time.
    prefix = f"test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
        }
    }
    yield
    server = redis.Redis.from_url(REDIS_URL)
    for key in server.scan_iter(f"{prefix}:*"):
        server.delete(key)


@pytest.fixture
def world():
    QuestionFactory(topic__slug="uncc", slug="ratification")
    ActorFactory(slug="senator-a")
    ActorFactory(slug="senator-b")
    SourceFactory(url="https://example.org/letter")


def staff(*codenames):
    user = UserFactory(is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


EDITOR_PERMS = ("add_statement", "change_statement", "view_statement")


def upload(client, content, name="statements.csv", fmt="0"):
    return client.post(
        IMPORT_URL,
        {"import_file": SimpleUploadedFile(name, content), "format": fmt, "resource": "0"},
    )


def test_preview_then_confirm_from_another_process(client, world, shared_cache):
    client.force_login(staff(*EDITOR_PERMS, "publish_statement"))
    response = upload(client, CSV.format(status="published").encode())
    assert response.status_code == 200
    result = response.context["result"]
    assert [row.import_type for row in result.rows] == ["new"]
    assert not Statement.objects.exists(), "the preview is a dry run"
    confirm = response.context["confirm_form"].initial
    key = f"django-import-export-{confirm['import_file_name']}"

    # Another process builds its own cache client: the upload must be there, not in a
    # temporary file or the memory of the process that served the preview.
    prefix = django_settings.CACHES["default"]["KEY_PREFIX"]
    other_process_cache = RedisCache(REDIS_URL, {"KEY_PREFIX": prefix})
    assert other_process_cache.get(key) == CSV.format(status="published").encode()
    from django.core.cache import caches

    caches.close_all()

    response = client.post(CONFIRM_URL, confirm)
    assert response.status_code == 302
    statement = Statement.objects.get()
    assert statement.status == StatementStatus.PUBLISHED
    assert statement.history.get().history_change_reason.startswith(
        "Imported from statements.csv (import #"
    )
    assert LogEntry.objects.filter(object_id=str(statement.pk)).exists()
    assert other_process_cache.get(key) is None, "the stored upload is removed once imported"


def test_preview_shows_each_row_and_errors_with_row_and_column(client, world):
    client.force_login(staff(*EDITOR_PERMS, "publish_statement"))
    StatementFactory(import_ref="s0", status=StatementStatus.DRAFT)
    content = (
        CSV.format(status="draft")
        + "s2,uncc/ratification,2024-13-01,opposes,senator-a,Bad date.,,draft\r\n"
    )
    response = upload(client, content.encode())
    result = response.context["result"]
    assert [(row.number, row.error_dict) for row in result.invalid_rows] == [
        (3, {"date": ["'2024-13-01' is not a date: write it as YYYY-MM-DD."]})
    ]
    (row,) = result.invalid_rows
    assert dict(zip(result.diff_headers, row.values, strict=True))["summary"] == "Bad date."
    assert "confirm_form" not in response.context
    assert b"is not a date" in response.content


def test_the_preview_undoes_the_formula_guard_once(client, world):
    """A summary exported as `''=x` (the guard on `'=x`) imports as `'=x`, as by command."""
    client.force_login(staff(*EDITOR_PERMS))
    content = CSV.format(status="draft").replace("They object.", "''=x")
    response = upload(client, content.encode())
    (row,) = response.context["result"].rows
    assert (
        dict(zip(response.context["result"].diff_headers, row.diff, strict=True))["summary"]
        == "'=x"
    )


def test_xlsx_upload_with_several_sheets_previews_the_statements_sheet(client, world):
    client.force_login(staff(*EDITOR_PERMS))
    book = openpyxl.Workbook()
    book.active.title = "Read me"
    book.active.append(["Instructions, not data"])
    sheet = book.create_sheet("statements")
    for line in CSV.format(status="draft").splitlines():
        sheet.append(line.split(","))
    buffer = io.BytesIO()
    book.save(buffer)
    response = upload(client, buffer.getvalue(), name="statements.xlsx", fmt="1")
    assert [row.import_type for row in response.context["result"].rows] == ["new"]
    response = client.post(CONFIRM_URL, response.context["confirm_form"].initial)
    assert Statement.objects.get().import_ref == "s1"


def test_an_editor_cannot_publish_through_the_admin_import(client, world):
    client.force_login(staff(*EDITOR_PERMS))
    response = upload(client, CSV.format(status="published").encode())
    (row,) = response.context["result"].invalid_rows
    assert list(row.error_dict) == ["status"]
    assert "confirm_form" not in response.context


def test_a_file_over_the_size_limit_is_refused_clearly(client, world, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 100
    client.force_login(staff(*EDITOR_PERMS))
    response = upload(client, CSV.format(status="draft").encode() * 5)
    errors = str(response.context["form"].errors)
    assert "the largest file accepted is 100 bytes" in errors
    # It points to a command-line import that does accept the file.
    assert "manage.py import_data TYPE FILE --max-bytes N" in errors


def test_an_unreadable_encoding_is_refused_clearly(client, world):
    client.force_login(staff(*EDITOR_PERMS))
    response = upload(client, "import_ref\n".encode("utf-16"))
    assert "Save it as 'CSV UTF-8'" in response.context["form"].errors["import_file"][0]


def test_import_needs_the_add_permission(client, world):
    client.force_login(staff("view_statement"))
    assert upload(client, CSV.format(status="draft").encode()).status_code == 403


def export(fmt, queryset):
    request = RequestFactory().get("/")
    request.user = staff("view_statement")
    model_admin = admin.site._registry[Statement]
    fmt = type("F", (fmt,), {"kind": "statements"})()
    return model_admin.get_export_data(fmt, request, queryset)


def test_admin_csv_export_is_filtered_and_sanitised(world):
    StatementFactory(import_ref="a", summary='=HYPERLINK("http://evil")')
    StatementFactory(import_ref="b", summary="-2+3")
    StatementFactory(import_ref="not-in-the-filter")
    data = export(SafeCSV, Statement.objects.exclude(import_ref="not-in-the-filter"))
    lines = data.splitlines()
    assert lines[0] == ",".join(TYPES["statements"].names)
    assert [line.split(",")[0] for line in lines[1:]] == ["a", "b"]
    assert '"\'=HYPERLINK(""http://evil"")"' in data
    assert ",'-2+3," in data


def test_admin_xlsx_export_is_sanitised(world):
    StatementFactory(import_ref="a", summary="@SUM(1+1)*cmd|' /C calc'!A0")
    book = openpyxl.load_workbook(io.BytesIO(export(SafeXLSX, Statement.objects.all())))
    rows = list(book.active.iter_rows(values_only=True))
    summary = rows[1][list(TYPES["statements"].names).index("summary")]
    assert summary == "'@SUM(1+1)*cmd|' /C calc'!A0"


def test_admin_export_view_exports_the_filtered_list_sanitised(client, world):
    client.force_login(staff("view_statement"))
    StatementFactory(import_ref="a", stance="opposes", summary="+1 to oppose")
    StatementFactory(import_ref="b", stance="supports")
    url = "/admin/positions/statement/export/?stance__exact=opposes"
    assert client.get(url).status_code == 200
    fields = {f"statementresource_{column}": "on" for column in TYPES["statements"].names}
    response = client.post(url, {"format": "0", "resource": "0", **fields})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv"), [
        str(m) for m in response.context["messages"]
    ]
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().splitlines()
    assert lines[0] == ",".join(TYPES["statements"].names)
    assert [line.split(",")[0] for line in lines[1:]] == ["a"]
    assert ",'+1 to oppose," in lines[1]


@pytest.mark.parametrize(
    "model", ["topic", "question", "condition", "actor", "source", "statement"]
)
def test_every_importable_list_offers_import_and_export(client, model):
    user = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(user)
    response = client.get(f"/admin/positions/{model}/")
    assert f"/admin/positions/{model}/import/".encode() in response.content
    assert f"/admin/positions/{model}/export/".encode() in response.content
    assert client.get(f"/admin/positions/{model}/import/").status_code == 200


def test_a_confirm_whose_upload_is_gone_explains_instead_of_failing(client, world):
    client.force_login(staff(*EDITOR_PERMS))
    response = upload(client, CSV.format(status="draft").encode())
    confirm = response.context["confirm_form"].initial
    from django.core.cache import cache

    cache.clear()  # expired, or kept by another process's private cache
    response = client.post(CONFIRM_URL, confirm, follow=True)
    assert response.redirect_chain[-1][0] == IMPORT_URL
    assert "no longer available" in " ".join(str(m) for m in response.context["messages"])
    assert not Statement.objects.exists()


@pytest.mark.parametrize(("model", "kind"), [("membership", "memberships"), ("formalact", "acts")])
def test_memberships_and_acts_have_the_import_preview_in_the_admin(client, model, kind):
    """The same preview as the other types: a bad row is shown with its row and column."""
    ActorFactory(slug="senator-a")
    client.force_login(staff(f"add_{model}", f"change_{model}", f"view_{model}"))
    header = ",".join(TYPES[kind].names)
    row = (
        "senator-a,nobody,member,2024-01-01,,,,,"
        if kind == "memberships"
        else "senator-a,no-topic,signature,2024-01-01,,,,,,draft,"
    )
    response = client.post(
        f"/admin/positions/{model}/import/",
        {
            "import_file": SimpleUploadedFile(f"{kind}.csv", f"{header}\r\n{row}\r\n".encode()),
            "format": "0",
            "resource": "0",
        },
    )
    assert response.status_code == 200
    (invalid,) = response.context["result"].invalid_rows
    column = "organization" if kind == "memberships" else "topic"
    assert invalid.number == 2 and list(invalid.error_dict) == [column]
    assert "confirm_form" not in response.context
    assert client.get(f"/admin/positions/{model}/export/").status_code == 200
