"""
Webhooks (alerts/webhooks.py, alerts/delivery.py): delivered to a real HTTP receiver on
loopback, signed so that the receiver's check (the one docs/alerts.md shows) passes, retried
with backoff after a failure, every attempt logged; only http(s) addresses are accepted.
"""

import datetime
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from alerts import delivery
from alerts.models import DeliveryStatus, Follows, Webhook, WebhookDelivery
from positions.models import Stance
from tests.alerts_helpers import tasks_at_once  # noqa: F401 (a fixture)
from tests.factories import ActorFactory, QuestionFactory, StatementFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("tasks_at_once")]

SECRET = "s3cret-shared-with-the-integrator"


def verify(secret, headers, body, tolerance=300):
    """The receiver's check, as docs/alerts.md gives it (written here anew, not imported)."""
    timestamp = headers["X-Tracker-Timestamp"]
    if abs(time.time() - int(timestamp)) > tolerance:
        return False
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return hmac.compare_digest("sha256=" + expected.hexdigest(), headers["X-Tracker-Signature"])


class Receiver:
    """An HTTP server on 127.0.0.1 (an ephemeral port) answering with scripted statuses."""

    def __init__(self, statuses, delay=0.0):
        self.statuses, self.delay, self.requests = list(statuses), delay, []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                time.sleep(receiver.delay)
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/tracker"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def board():
    """A question on which Senator A supports, before any webhook is registered."""
    question = QuestionFactory(title="US Senate consent")
    actor = ActorFactory(name="Senator A")
    StatementFactory(question=question, actors=[actor], stance=Stance.SUPPORTS)
    return question, actor


def change_a_stance(on_commit, question, actor, stance=Stance.OPPOSES):
    with on_commit(execute=True):
        StatementFactory(
            question=question, actors=[actor], stance=stance, date=datetime.date(2025, 1, 5)
        )


def make_due(delivery_row, ago=datetime.timedelta(seconds=1)):
    WebhookDelivery.objects.filter(pk=delivery_row.pk).update(next_attempt_at=timezone.now() - ago)


def test_a_webhook_is_signed_retried_after_a_500_and_logged(
    django_capture_on_commit_callbacks, board
):
    with Receiver([500, 200]) as receiver:
        Webhook.objects.create(name="Newsroom", url=receiver.url, secret=SECRET)
        change_a_stance(django_capture_on_commit_callbacks, *board)

        (logged,) = WebhookDelivery.objects.all()
        assert logged.status == DeliveryStatus.PENDING
        assert (logged.attempts, logged.status_code) == (1, 500)
        assert "HTTP 500" in logged.last_error
        wait = logged.next_attempt_at - timezone.now()
        assert datetime.timedelta(seconds=50) < wait <= datetime.timedelta(seconds=60)

        make_due(logged)
        assert delivery.attempt(logged.pk) == DeliveryStatus.DELIVERED
        logged.refresh_from_db()
        assert (logged.attempts, logged.status_code, logged.last_error) == (2, 200, "")
        assert logged.delivered_at is not None and logged.next_attempt_at is None

    assert len(receiver.requests) == 2
    for headers, body in receiver.requests:
        assert headers["Content-Type"] == "application/json"
        assert headers["X-Tracker-Delivery"] == str(logged.pk)
        assert verify(SECRET, headers, body), "the documented check passes"
        assert not verify("another secret", headers, body)
        assert not verify(SECRET, headers, body + b" ")
    payload = json.loads(receiver.requests[-1][1])
    by_kind = {event["kind"]: event for event in payload["events"]}
    assert sorted(by_kind) == ["stance_changed", "statement_published"], "one batch, one POST"
    event = by_kind["stance_changed"]
    assert (event["from"], event["to"]) == ("supports", "opposes")
    assert event["actor"]["name"] == "Senator A"
    assert event["question"]["title"] == "US Senate consent"
    assert event["statement"]["url"].startswith("http://testserver/statements/")
    assert by_kind["statement_published"]["actors"][0]["name"] == "Senator A"


def test_a_failed_attempt_is_scheduled_on_a_backend_that_can_wait(
    django_capture_on_commit_callbacks, settings, board
):
    from django_tasks import task_backends

    with Receiver([503, 503]) as receiver:
        Webhook.objects.create(name="Newsroom", url=receiver.url, secret=SECRET)
        change_a_stance(django_capture_on_commit_callbacks, *board)
        logged = WebhookDelivery.objects.get()
        settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
        make_due(logged)
        delivery.attempt(logged.pk)
    logged.refresh_from_db()
    assert logged.attempts == 2
    (queued,) = task_backends["default"].results
    assert queued.task.run_after == logged.next_attempt_at
    wait = logged.next_attempt_at - timezone.now()
    assert datetime.timedelta(seconds=110) < wait <= datetime.timedelta(seconds=120), "doubled"


def test_timeouts_and_refused_connections_are_retried_then_given_up(
    django_capture_on_commit_callbacks, settings, board
):
    settings.ALERTS_WEBHOOK_TIMEOUT = 1
    settings.ALERTS_WEBHOOK_MAX_ATTEMPTS = 3
    with Receiver([200], delay=2.5) as receiver:
        Webhook.objects.create(name="Slow", url=receiver.url, secret=SECRET)
        change_a_stance(django_capture_on_commit_callbacks, *board)
    logged = WebhookDelivery.objects.get()
    assert logged.status == DeliveryStatus.PENDING and logged.status_code is None
    assert "timed out" in logged.last_error.lower()
    make_due(logged)  # the receiver is gone now: its port refuses the connection
    delivery.attempt(logged.pk)
    logged.refresh_from_db()
    assert logged.status == DeliveryStatus.PENDING and "Connection refused" in logged.last_error
    make_due(logged, ago=datetime.timedelta(minutes=5))
    delivery.catch_up()  # overdue deliveries are attempted by the catch-up too
    logged.refresh_from_db()
    assert (logged.status, logged.attempts) == (DeliveryStatus.FAILED, 3)
    assert logged.next_attempt_at is None


def test_a_webhook_following_a_question_or_topic_gets_only_those(
    django_capture_on_commit_callbacks, board
):
    other_question, other_actor = board
    followed = QuestionFactory()
    actor = ActorFactory()
    StatementFactory(question=followed, actors=[actor], stance=Stance.SUPPORTS)
    with Receiver([]) as receiver:
        Webhook.objects.create(
            name="One question", url=receiver.url, follows=Follows.QUESTION, question=followed
        )
        Webhook.objects.create(
            name="Its topic", url=receiver.url, follows=Follows.TOPIC, topic=followed.topic
        )
        # Another question, of another topic:
        change_a_stance(django_capture_on_commit_callbacks, other_question, other_actor)
        assert not WebhookDelivery.objects.exists()
        change_a_stance(django_capture_on_commit_callbacks, followed, actor)
    assert WebhookDelivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == 2
    assert len(receiver.requests) == 2


def test_only_http_and_https_webhook_addresses_are_accepted(db):
    for url in (
        "javascript:alert(1)",
        "file:///etc/passwd",
        "ftp://example.org/x",
        "data:text/plain,hi",
        "gopher://example.org",
        "//example.org/hook",
    ):
        with pytest.raises(ValidationError) as refused:
            Webhook(name="x", url=url).full_clean()
        assert "url" in refused.value.message_dict, url
    Webhook(name="ok", url="https://hooks.example.org/tracker").full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        Webhook.objects.create(name="x", url="javascript:alert(1)")


def test_the_admin_registers_webhooks_and_shows_the_delivery_log(
    client, django_capture_on_commit_callbacks, board
):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    refused = client.post(
        "/admin/alerts/webhook/add/",
        {
            "name": "Bad",
            "url": "javascript:alert(1)",
            "follows": "all",
            "secret": "x",
            "active": "on",
        },
    )
    assert refused.status_code == 200 and b"Enter a valid URL" in refused.content
    question, actor = board
    no_question = client.post(
        "/admin/alerts/webhook/add/",
        {"name": "Q", "url": "https://e.org/h", "follows": "question", "secret": "x"},
    )
    assert b"Choose the question" in no_question.content
    assert not Webhook.objects.exists()
    with Receiver([500]) as receiver:
        added = client.post(
            "/admin/alerts/webhook/add/",
            {
                "name": "Newsroom",
                "url": receiver.url,
                "follows": "question",
                "question": question.pk,
                "secret": SECRET,
                "active": "on",
            },
        )
        assert added.status_code == 302
        change_a_stance(django_capture_on_commit_callbacks, question, actor)
    log = client.get("/admin/alerts/webhookdelivery/")
    assert log.status_code == 200
    html = log.content.decode()
    assert "Newsroom" in html and "HTTP 500" in html and ">500<" in html
    logged = WebhookDelivery.objects.get()
    assert client.get(f"/admin/alerts/webhookdelivery/{logged.pk}/change/").status_code == 200
    assert client.get("/admin/alerts/webhook/").status_code == 200
    assert client.get("/admin/alerts/event/").status_code == 200
