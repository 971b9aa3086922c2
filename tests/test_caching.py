"""
The shared page cache: hits cost no query, conditional GETs get a 304, and every write path
makes every process serve fresh pages (positions/caching.py).
"""

import datetime
import html.parser
import http.client
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib import admin
from django.core.cache import cache
from django.http import HttpResponse
from django.test import Client
from django.urls import include, path, reverse

from positions import bulkdata, caching, writes
from positions.models import Stance, Statement, StatementStatus, Topic
from tests.admin_builders import admin_url, use_test_settings
from tests.factories import (
    ActorFactory,
    ConditionFactory,
    StatementFactory,
    TopicFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

BASE_DIR = Path(settings.BASE_DIR)


@caching.cached_page
def topic_titles(request):
    return HttpResponse(", ".join(Topic.objects.order_by("pk").values_list("title", flat=True)))


urlpatterns = [
    path("titles/", topic_titles),
    path(settings.ADMIN_URL, admin.site.urls),
    path("", include("positions.urls")),
]


@pytest.fixture
def titles(client, settings):
    settings.ROOT_URLCONF = __name__
    settings.ALLOWED_HOSTS = ["testserver"]
    settings.SECURE_SSL_REDIRECT = False
    TopicFactory(title="Cybercrime convention")

    def get(**headers):
        return client.get("/titles/", **headers)

    return get


def test_a_second_request_is_served_from_the_cache_without_a_query(
    titles, django_assert_num_queries
):
    first = titles()
    with django_assert_num_queries(0):
        second = titles()
    assert second.content == first.content == b"Cybercrime convention"
    assert second["ETag"] == first["ETag"]


def test_a_conditional_get_with_the_etag_answers_304_with_at_most_one_query(
    titles, django_assert_max_num_queries
):
    etag = titles()["ETag"]
    with django_assert_max_num_queries(1):
        response = titles(HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert response.content == b""


def test_a_conditional_get_by_date_answers_304(titles):
    last_modified = titles()["Last-Modified"]
    assert titles(HTTP_IF_MODIFIED_SINCE=last_modified).status_code == 304


def test_pages_say_caches_must_revalidate(titles):
    response = titles()
    assert "no-cache" in response["Cache-Control"]
    assert "Cookie" in response["Vary"]


def nothing():
    pass


def add_topic():
    TopicFactory(title="Second topic")


def edit_topic():
    topic = Topic.objects.order_by("pk").first()
    topic.title = "Renamed convention"
    topic.save()


def add_second_topic():
    TopicFactory(title="Second topic")


def delete_second_topic():
    Topic.objects.get(
        title__startswith="Quietly", pk__gt=Topic.objects.order_by("pk")[0].pk
    ).delete()


def add_statement():
    return StatementFactory(stance=Stance.SUPPORTS, question__topic=Topic.objects.get())


def add_condition_to_the_statement():
    Statement.objects.get().conditions.add(ConditionFactory())


def add_a_signatory():
    Statement.objects.get().signatures.create(actor=ActorFactory(), order=1)


def rename_topic():
    edit_topic()


def revert_topic_through_history():
    """What the admin's history revert does: save a historical instance."""
    Topic.objects.get().history.earliest().instance.save()


@pytest.mark.parametrize(
    ("arrange", "write"),
    [
        (nothing, add_topic),
        (nothing, edit_topic),
        (add_second_topic, delete_second_topic),
        (add_statement, add_condition_to_the_statement),
        (add_statement, add_a_signatory),
        (rename_topic, revert_topic_through_history),
    ],
)
def test_every_write_makes_the_page_and_its_etag_fresh(titles, arrange, write):
    arrange()
    first = titles()
    # A change the cache cannot know about (no signal), so that the page shows whether the
    # write under test made it recompute.
    Topic.objects.update(title="Quietly renamed")
    write()
    after = titles(HTTP_IF_NONE_MATCH=first["ETag"])
    assert after.status_code == 200
    assert after["ETag"] != first["ETag"]
    assert after.content != first.content
    assert after.content == topic_titles_now()


def topic_titles_now():
    return ", ".join(Topic.objects.order_by("pk").values_list("title", flat=True)).encode()


# --- Through the admin: save, action, history revert ----------------------------------


@pytest.fixture
def editor_client(settings):
    use_test_settings(settings)
    editor = Client()
    editor.force_login(UserFactory(is_staff=True, is_superuser=True))
    return editor


def form_fields(response):
    assert response.status_code == 200
    parser = FormFields()
    parser.feed(response.content.decode())
    return parser.fields


def assert_page_is_fresh(titles, first):
    after = titles(HTTP_IF_NONE_MATCH=first["ETag"])
    assert after.status_code == 200
    assert after.content == topic_titles_now() != first.content


def test_an_admin_save_makes_pages_fresh(titles, editor_client):
    topic = Topic.objects.get()
    first = titles()
    Topic.objects.update(title="Quietly renamed")
    url = admin_url("topic", "change", topic.pk)
    response = editor_client.post(
        url, {**form_fields(editor_client.get(url)), "title": "Saved in the admin"}
    )
    assert response.status_code == 302
    assert_page_is_fresh(titles, first)
    assert topic_titles_now() == b"Saved in the admin"


def test_an_admin_action_makes_pages_fresh(titles, editor_client):
    draft = StatementFactory(status=StatementStatus.DRAFT, question__topic=Topic.objects.get())
    first = titles()
    Topic.objects.update(title="Quietly renamed")
    response = editor_client.post(
        admin_url("statement"),
        {"action": "publish_statements", "_selected_action": [draft.pk], "index": 0},
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == StatementStatus.PUBLISHED
    assert_page_is_fresh(titles, first)


def test_a_history_revert_in_the_admin_makes_pages_fresh(titles, editor_client):
    topic = Topic.objects.get()
    topic.title = "Renamed convention"
    topic.save()
    first = titles()
    Topic.objects.update(title="Quietly renamed")
    original = topic.history.earliest()
    url = admin_url("topic", "simple_history", topic.pk, original.history_id)
    response = editor_client.post(url, form_fields(editor_client.get(url)))
    assert response.status_code == 302
    assert topic_titles_now() == b"Cybercrime convention"
    assert_page_is_fresh(titles, first)


def test_an_import_makes_pages_fresh(titles):
    """The import writes in bulk (no model signals) and bumps the version itself."""
    from positions.exchange import TYPES, ImportContext, import_bytes

    first = titles()
    Topic.objects.update(title="Quietly renamed")
    data = b"slug,title,summary\nbudapest,Budapest Convention,On cybercrime.\n"
    report = import_bytes(
        TYPES["topics"], data, "topics.csv", context=ImportContext(file_name="topics.csv")
    )
    assert report.written, report.errors
    assert_page_is_fresh(titles, first)
    assert b"Budapest Convention" in topic_titles_now()


def test_writes_that_bypass_signals_must_bump_the_version_themselves(titles):
    """`QuerySet.update()` sends no signal: such code calls `bump_data_version()`."""
    titles()
    Topic.objects.update(title="Renamed by update")
    assert titles().content == b"Cybercrime convention"
    caching.bump_data_version()
    assert titles().content == b"Renamed by update"


def test_a_write_session_bumps_once_before_commit_and_once_after(
    django_capture_on_commit_callbacks,
):
    before = caching.data_version()
    with django_capture_on_commit_callbacks(execute=False) as callbacks, writes.writing():
        for number in range(5):
            writes.save(Topic(title=f"Imported {number}", slug=f"imported-{number}"))
        assert caching.data_version() == before, "nothing bumps until the session ends"
    bumped = caching.data_version()
    assert bumped != before
    # After commit: the version again, and the downloads' files are scheduled (bulkdata.py).
    assert callbacks == [caching.bump_data_version, bulkdata.schedule]
    callbacks[0]()
    assert caching.data_version() != bumped


def test_a_lost_version_key_never_brings_back_an_old_version():
    old = caching.data_version()
    cache.delete(caching.DATA_VERSION_KEY)
    assert caching.data_version() != old


def test_signed_in_editors_always_get_a_fresh_page(titles, client):
    client.cookies[settings.SESSION_COOKIE_NAME] = "some-session"
    titles()
    Topic.objects.update(title="Changed quietly")
    response = titles()
    assert response.content == b"Changed quietly"
    assert "ETag" not in response


def test_very_long_query_strings_are_served_but_not_stored(client, titles):
    url = "/titles/?junk=" + "x" * 400
    client.get(url)
    topic = Topic.objects.get()
    Topic.objects.filter(pk=topic.pk).update(title="Changed quietly")
    assert client.get(url).content == b"Changed quietly"


def test_a_new_day_makes_a_new_etag(titles, monkeypatch):
    etag = titles()["ETag"]
    tomorrow = datetime.date.today() + datetime.timedelta(days=1)
    monkeypatch.setattr(caching.timezone, "localdate", lambda: tomorrow)
    assert titles(HTTP_IF_NONE_MATCH=etag).status_code == 200


# --- Two server processes, one database, one cache -----------------------------------------


def redis_url():
    return os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/5")


def redis_is_up():
    url = urllib.parse.urlsplit(redis_url())
    try:
        conn = http.client.HTTPConnection(url.hostname, url.port or 6379, timeout=1)
        conn.connect()
        conn.close()
        return True
    except OSError:
        return False


class FormFields(html.parser.HTMLParser):
    """The values a browser would submit from the page's main form."""

    def __init__(self):
        super().__init__()
        self.fields, self._textarea, self._select = {}, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            if kind not in ("submit", "button", "file", "image"):
                self.fields[name] = attrs.get("value", "on" if kind == "checkbox" else "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields[name] = ""
        elif tag == "select" and name:
            self._select = name
            self.fields.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in attrs:
            self.fields[self._select] = attrs.get("value", "")

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data):
        if self._textarea:
            self.fields[self._textarea] += data


class Browser:
    """Just enough of one: cookies, GET and form POSTs, against one loopback server."""

    def __init__(self, port):
        self.port, self.cookies = port, {}

    def request(self, method, path, body=None, headers=None):
        headers = {"Host": f"127.0.0.1:{self.port}", **(headers or {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            body = urllib.parse.urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"http://127.0.0.1:{self.port}{path}"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            content = response.read().decode()
            for header, value in response.getheaders():
                if header.lower() == "set-cookie":
                    name, _, rest = value.partition("=")
                    self.cookies[name] = rest.split(";", 1)[0]
            return response.status, dict(response.getheaders()), content
        finally:
            conn.close()

    def submit(self, path, changes):
        status, _, page = self.request("GET", path)
        assert status == 200, page[:500]
        parser = FormFields()
        parser.feed(page)
        return self.request("POST", path, body={**parser.fields, **changes})


def run_manage(env, *args, input_text=None):
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        input=input_text,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )


def free_port():
    """A port no one listens on now: two test runs at once must not share the servers."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(env, port):
    gunicorn = Path(sys.executable).parent / "gunicorn"
    process = subprocess.Popen(  # noqa: S603
        [str(gunicorn), "tracker.wsgi", "--workers", "1", "--bind", f"127.0.0.1:{port}"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if Browser(port).request("GET", "/healthz")[0] == 200:
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise AssertionError(f"The server on port {port} did not start.")


SETUP = """
from django.contrib.auth import get_user_model
from positions.models import Topic
get_user_model().objects.create_superuser("editor", "editor@example.org", "{password}")
print(Topic.objects.create(title="Cybercrime convention", slug="shared-topic").pk)
"""


@pytest.fixture
def two_servers(tmp_path):
    """Two gunicorn processes on loopback ports sharing one database and one Redis cache."""
    if not redis_is_up():
        pytest.skip(f"Redis is not reachable at {redis_url()}")
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("postgresql"):
        # The servers write to the test database itself: the test runs outside a
        # transaction (see its marker) and the database is restored after it.
        user = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
        database_url = f"postgres://{user}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/"
        database_url += db["NAME"]
    else:
        database_url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    env = {
        **os.environ,
        "DEBUG": "1",
        "DATABASE_URL": database_url,
        "CACHE_URL": redis_url(),
        "CACHE_KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        "ALLOWED_HOSTS": "127.0.0.1",
        "CONN_MAX_AGE": "0",
    }
    if not db["ENGINE"].endswith("postgresql"):
        run_manage(env, "migrate", "--no-input")
    password = uuid.uuid4().hex
    output = run_manage(env, "shell", input_text=SETUP.format(password=password)).stdout
    topic_pk = int(output.split()[-1])
    servers, ports = [], (free_port(), free_port())
    try:
        for port in ports:
            servers.append(start_server(env, port))
        yield {"ports": ports, "password": password, "topic_pk": topic_pk}
    finally:
        for process in servers:
            process.terminate()
            process.wait(timeout=30)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_edit_through_one_server_is_visible_on_the_next_request_to_the_other(two_servers):
    if not admin.site.is_registered(Topic):
        pytest.skip("Topic is not in the admin yet")
    port_a, port_b = two_servers["ports"]
    page = reverse("positions:topic", args=["shared-topic"])
    reader, editor = Browser(port_b), Browser(port_a)

    status, headers, content = reader.request("GET", page)
    assert status == 200 and "Cybercrime convention" in content
    etag = headers["ETag"]
    # Server B now answers from the shared cache: the same ETag revalidates.
    assert reader.request("GET", page, headers={"If-None-Match": etag})[0] == 304
    assert Browser(port_a).request("GET", page, headers={"If-None-Match": etag})[0] == 304

    login = f"/{settings.ADMIN_URL}login/"
    status, _, _ = editor.submit(login, {"username": "editor", "password": two_servers["password"]})
    assert status == 302, "login failed"
    change = f"/{settings.ADMIN_URL}positions/topic/{two_servers['topic_pk']}/change/"
    status, _, content = editor.submit(change, {"title": "Budapest convention"})
    assert status == 302, content[:2000]

    status, headers, content = reader.request("GET", page, headers={"If-None-Match": etag})
    assert status == 200
    assert "Budapest convention" in content and "Cybercrime convention" not in content
    assert headers["ETag"] != etag


@caching.cached_page
def download(request):
    response = HttpResponse("a,b\n", content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="board.csv"'
    return response


urlpatterns.append(path("download.csv", download))


def test_a_cached_download_keeps_its_headers(titles, client):
    first = client.get("/download.csv")
    second = client.get("/download.csv")
    assert second.content == first.content == b"a,b\n"
    assert second["Content-Type"] == "text/csv"
    assert second["Content-Disposition"] == 'attachment; filename="board.csv"'


# --- One computation per page per change -----------------------------------------------------

computations = []


@caching.cached_page
def slow_page(request):
    """A page that takes a while to compute, and counts its computations."""
    computations.append(request.path)
    time.sleep(0.3)
    return HttpResponse(f"computed at {caching.data_version()}")


urlpatterns.append(path("slow/", slow_page))


def concurrent_gets(url, count):
    import threading

    from django.test import RequestFactory

    results, factory = [], RequestFactory()

    def get():
        response = slow_page(factory.get(url))
        results.append((response["X-Page-Cache"], response.content))

    threads = [threading.Thread(target=get) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_concurrent_requests_for_one_page_compute_it_once(settings):
    computations.clear()
    results = concurrent_gets("/slow/", 8)
    assert len(computations) == 1
    assert sorted(how for how, _ in results) == ["computed"] + ["waited"] * 7
    assert len({content for _, content in results}) == 1
    # After a write, once again: one computation, and nobody gets the old page.
    old = results[0][1]
    caching.bump_data_version()
    results = concurrent_gets("/slow/", 8)
    assert len(computations) == 2
    assert all(content != old for _, content in results)


def test_a_waiter_never_serves_a_page_older_than_the_last_write(monkeypatch):
    computations.clear()
    from django.test import RequestFactory

    version = caching.data_version()
    key = caching._page_key(RequestFactory().get("/slow/"))
    cache.add(f"{key}:computing:{version}", True, timeout=5)  # somebody is computing it
    cache.set(key, (version, b"stale", []), 60)
    caching.bump_data_version()  # ... and a write happened since that page was stored
    response = slow_page(RequestFactory().get("/slow/"))
    assert response.content != b"stale"
    assert response["X-Page-Cache"] == "computed"


def test_a_lock_left_by_a_failed_computation_does_not_block_readers(monkeypatch):
    from django.test import RequestFactory

    computations.clear()
    monkeypatch.setattr(caching, "STAMPEDE_WAIT", 0.2)
    request = RequestFactory().get("/slow/")
    version = caching.data_version()
    cache.add(f"{caching._page_key(request)}:computing:{version}", True, timeout=60)  # a dead one
    started = time.monotonic()
    response = slow_page(RequestFactory().get("/slow/"))
    assert response["X-Page-Cache"] == "computed"
    assert time.monotonic() - started < 0.2 + 0.3 + 0.5
