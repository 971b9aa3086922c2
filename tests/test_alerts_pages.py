"""
The readers' side of alerts: the form on the pages, bad input answered with a clear message
(never a 500), repeated requests deduplicated and rate-limited, expiry, and addresses kept
out of every page, download and the admin's list.
"""

import datetime

import pytest
from django.core import mail, signing
from django.utils import timezone

from alerts import delivery, tokens
from alerts.models import Subscription
from tests.alerts_helpers import (
    ORIGIN,
    SUBSCRIBE_URL,
    links_in,
    subscribe,
    subscribed_and_confirmed,
    tasks_at_once,  # noqa: F401 (a fixture)
)
from tests.factories import (
    ActorFactory,
    ConditionFactory,
    StatementFactory,
    UserFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("tasks_at_once")]


@pytest.fixture
def question():
    return StatementFactory().question


def test_the_form_is_on_the_board_actor_and_condition_pages_which_stay_cacheable(client):
    condition = ConditionFactory()
    statement = StatementFactory(stance="conditional", conditions=[condition])
    actor = statement.actors.get()
    pages = {
        "question": statement.question.get_absolute_url(),
        "actor": actor.get_absolute_url(),
        "condition": condition.get_absolute_url(),
    }
    targets = {"question": statement.question, "actor": actor, "condition": condition}
    for kind, url in pages.items():
        response = client.get(url)
        html = response.content.decode()
        assert f'action="{SUBSCRIBE_URL}"' in html, kind
        assert f'name="follow" value="{kind}"' in html
        assert f'name="target" value="{targets[kind].pk}"' in html
        assert "csrfmiddlewaretoken" not in html, "a token would make the page uncacheable"
        assert not response.cookies, "the page is stored in the shared cache"


def test_bad_input_gets_a_clear_message_and_changes_nothing(client, question):
    cases = [
        ({"email": "not-an-email"}, b"Enter a valid email address"),
        ({"email": ""}, b"Enter your email address"),
        ({"frequency": "hourly"}, b"Choose"),
        ({"target": "abc"}, b"does not say what to follow"),
        ({"target": "99999999999999999999999"}, b"does not say what to follow"),
        ({"target": "424242"}, b"There is no such question to follow"),
        ({"follow": "statement"}, b"does not say what to follow"),
        ({"follow": "", "target": ""}, b"does not say what to follow"),
    ]
    for change, message in cases:
        data = {
            "email": "reader@example.org",
            "frequency": "immediate",
            "follow": "question",
            "target": question.pk,
            **change,
        }
        response = client.post(SUBSCRIBE_URL, data, headers={"Origin": ORIGIN})
        assert response.status_code == 400, change
        assert message in response.content, (change, response.content.decode()[-2000:])
    assert not Subscription.objects.exists()
    assert mail.outbox == []


def test_the_standalone_form_and_junk_query_parameters(client, question):
    ok = client.get(SUBSCRIBE_URL, {"question": question.pk})
    assert ok.status_code == 200 and question.title.encode() in ok.content
    landing = client.get(SUBSCRIBE_URL)
    assert landing.status_code == 200 and b"Subscribe with the form on the page" in landing.content
    for junk in (
        {"question": "x"},
        {"question": "²"},
        {"actor": "99999"},
        {"question": "9" * 40},
    ):
        response = client.get(SUBSCRIBE_URL, junk)
        assert response.status_code == 404, junk
        assert b"to follow" in response.content
    assert client.put(SUBSCRIBE_URL).status_code == 405


def test_a_draft_only_actor_cannot_be_followed(client):
    hidden = ActorFactory()
    StatementFactory(actors=[hidden], status="draft")
    response = client.post(
        SUBSCRIBE_URL,
        {"email": "a@example.org", "frequency": "daily", "follow": "actor", "target": hidden.pk},
        headers={"Origin": ORIGIN},
    )
    assert response.status_code == 400 and b"no such actor" in response.content


def test_bad_and_expired_links_get_clear_messages(
    client, django_capture_on_commit_callbacks, question
):
    for path in (
        "/alerts/confirm/nonsense/",
        "/alerts/confirm/1.abc:forged:signature/",
        "/alerts/unsubscribe/1.abc:forged/",
        "/alerts/unsubscribe/" + "x" * 300 + "/",
        "/alerts/confirm/" + "x" * 300 + "/",
    ):
        response = client.get(path)
        assert response.status_code == 400, path
        assert b"not valid" in response.content
    subscribe(client, django_capture_on_commit_callbacks, question, "question")
    (confirm_path,) = links_in(mail.outbox[0])
    token = confirm_path.split("/")[3]
    value = signing.TimestampSigner(salt=tokens.CONFIRM_SALT).unsign(token)
    signed_for_another = signing.TimestampSigner(salt=tokens.CONFIRM_SALT).sign(
        value.split(".")[0] + ".otherkey"
    )
    response = client.get(f"/alerts/confirm/{signed_for_another}/")
    assert response.status_code == 400 and b"no longer exists" in response.content

    eight_days_later = timezone.now() + datetime.timedelta(days=8)
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(signing.time, "time", lambda: eight_days_later.timestamp())
        response = client.get(confirm_path)
    assert response.status_code == 400 and b"has expired" in response.content
    assert Subscription.objects.get().confirmed_at is None


def test_unconfirmed_subscriptions_expire(client, django_capture_on_commit_callbacks, question):
    subscribe(client, django_capture_on_commit_callbacks, question, "question")
    subscribed_and_confirmed(
        client, django_capture_on_commit_callbacks, question, "question", email="b@example.org"
    )
    Subscription.objects.update(confirmation_sent_at=timezone.now() - datetime.timedelta(days=8))
    delivery.catch_up()
    assert list(Subscription.objects.values_list("email", flat=True)) == ["b@example.org"]


def test_repeated_requests_are_deduplicated_and_rate_limited(
    client, django_capture_on_commit_callbacks, question, settings
):
    for _ in range(3):
        response = subscribe(client, django_capture_on_commit_callbacks, question, "question")
        assert response.status_code == 200
    subscribe(
        client,
        django_capture_on_commit_callbacks,
        question,
        "question",
        email="READER@Example.org ",
    )
    assert Subscription.objects.count() == 1, "one address, one subscription, whatever its case"
    assert len(mail.outbox) == 1, "one confirmation until the resend interval has passed"

    Subscription.objects.update(confirmation_sent_at=timezone.now() - datetime.timedelta(hours=1))
    subscribe(client, django_capture_on_commit_callbacks, question, "question")
    assert len(mail.outbox) == 2, "asked again later: a new confirmation"

    settings.ALERTS_SUBSCRIBE_LIMIT = 6  # this test has made 5 requests from one address
    subscribe(
        client, django_capture_on_commit_callbacks, question, "question", email="c@example.org"
    )
    response = subscribe(
        client, django_capture_on_commit_callbacks, question, "question", email="d@example.org"
    )
    assert response.status_code == 429
    assert b"Too many subscription requests" in response.content
    assert not Subscription.objects.filter(email="d@example.org").exists()


def test_a_confirmed_subscriber_asking_again_gets_no_email(
    client, django_capture_on_commit_callbacks, question
):
    subscribed_and_confirmed(client, django_capture_on_commit_callbacks, question, "question")
    response = subscribe(client, django_capture_on_commit_callbacks, question, "question")
    assert response.status_code == 200 and b"Check your inbox" in response.content
    assert mail.outbox == []


def test_addresses_are_masked_in_the_admin_and_absent_from_downloads(
    client, django_capture_on_commit_callbacks, question
):
    subscribed_and_confirmed(
        client, django_capture_on_commit_callbacks, question, "question", email="jane@example.org"
    )
    for path in ("/data/all.json", "/data/statements.json", question.get_absolute_url()):
        response = client.get(path)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert b"jane@example.org" not in body, path
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    listing = client.get("/admin/alerts/subscription/")
    assert listing.status_code == 200
    assert b"jane@example.org" not in listing.content
    assert "j•••@example.org" in listing.content.decode()
    found = client.get("/admin/alerts/subscription/", {"q": "Jane@example.org"})
    assert "j•••@example.org" in found.content.decode(), "staff find one by the whole address"
    fragment = client.get("/admin/alerts/subscription/", {"q": "example.org"})
    assert "j•••@example.org" not in fragment.content.decode(), "not by a fragment"
    detail = client.get(f"/admin/alerts/subscription/{Subscription.objects.get().pk}/change/")
    assert detail.status_code == 200 and b"jane@example.org" not in detail.content


def test_subscribing_and_confirming_are_pinned(
    client, django_capture_on_commit_callbacks, django_assert_num_queries, question
):
    data = {"email": "a@example.org", "frequency": "daily", "follow": "question"}
    data["target"] = question.pk
    # The question (form); the subscription looked up for update, then made (get_or_create,
    # two savepoints and their releases); its confirmation stamped; the confirmation mailed
    # after commit (the task: the subscription with its question and topic).
    with django_assert_num_queries(9), django_capture_on_commit_callbacks(execute=True):
        assert client.post(SUBSCRIBE_URL, data, headers={"Origin": ORIGIN}).status_code == 200
    (confirm_path,) = links_in(mail.outbox[0])
    # The subscription with its target; the confirmation stamped.
    with django_assert_num_queries(2):
        assert client.get(confirm_path).status_code == 200


def test_a_cross_site_post_is_refused_and_the_standalone_form_posts_with_its_token(question):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    data = {"email": "a@example.org", "frequency": "daily", "follow": "question"}
    data["target"] = question.pk
    for headers in (
        {},
        {"Origin": "https://evil.example"},
        {"Referer": "https://evil.example/x"},
        {"Origin": "null"},
    ):
        response = browser.post(SUBSCRIBE_URL, data, headers=headers)
        assert response.status_code == 403, headers
        assert b"did not come from a page of this site" in response.content
    assert not Subscription.objects.exists()
    page = browser.get(SUBSCRIBE_URL, {"question": question.pk})
    token = page.context["csrf_token"]
    response = browser.post(SUBSCRIBE_URL, {**data, "csrfmiddlewaretoken": str(token)})
    assert response.status_code == 200 and b"Check your inbox" in response.content
    referred = Client(enforce_csrf_checks=True).post(
        SUBSCRIBE_URL, {**data, "email": "b@example.org"}, headers={"Referer": ORIGIN + "/actors/"}
    )
    assert referred.status_code == 200, "a browser that sends no Origin sends the Referer"
    assert Subscription.objects.count() == 2
