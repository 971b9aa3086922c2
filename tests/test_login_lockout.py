"""django-axes: repeated failed sign-ins lock the username from that address for a while."""

import datetime

import pytest
from axes.models import AccessAttempt
from django.urls import reverse
from django.utils import timezone

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple 42"


@pytest.fixture
def editor(settings):
    # A fast hasher: these tests hash a password on every attempt.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    user = UserFactory(username="editor", is_staff=True)
    user.set_password(PASSWORD)
    user.save()
    return user


def sign_in(client, password, username="editor", **extra):
    return client.post(
        reverse("admin:login"),
        {"username": username, "password": password, "next": reverse("admin:index")},
        **extra,
    )


def test_a_wrong_password_gets_the_ordinary_form_error_until_the_limit(client, editor, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = sign_in(client, "wrong password")
        assert response.status_code == 200
        assert "Please enter the correct username and password" in response.text


def test_the_sixth_bad_password_is_locked_out_with_a_clear_message(client, editor, settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    for _ in range(5):
        sign_in(client, "wrong password")

    response = sign_in(client, "wrong password")

    assert response.status_code == 429
    assert "Sign-in paused after too many failed attempts" in response.text
    assert "paused for 30 minutes after the" in response.text
    assert 1790 <= int(response["Retry-After"]) <= 1800
    assert "_auth_user_id" not in client.session


def test_the_right_password_is_refused_until_the_cool_off_ends(client, editor, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "wrong password")

    response = sign_in(client, PASSWORD)
    assert response.status_code == 429
    assert "Even the right password is refused" in response.text
    assert "_auth_user_id" not in client.session

    # Once the cool-off has passed (the failures are that old), the right password works again.
    past_cool_off = timezone.now() - settings.AXES_COOLOFF_TIME - datetime.timedelta(seconds=1)
    AccessAttempt.objects.update(attempt_time=past_cool_off)
    response = sign_in(client, PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")
    assert int(client.session["_auth_user_id"]) == editor.pk


def test_trying_again_during_the_lockout_does_not_extend_it(client, editor, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "wrong password")
    # Twenty minutes later, two more tries: refused, and the end has not moved.
    AccessAttempt.objects.update(attempt_time=timezone.now() - datetime.timedelta(minutes=20))
    sign_in(client, "wrong password")
    response = sign_in(client, PASSWORD)
    assert response.status_code == 429
    assert 590 <= int(response["Retry-After"]) <= 600
    last_failure = AccessAttempt.objects.get().attempt_time
    ends = timezone.localtime(last_failure + settings.AXES_COOLOFF_TIME)
    assert f"until {ends:%H:%M}" in response.text


def test_the_lockout_is_per_username_and_address(client, editor, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "wrong password")

    # The same editor from another address is not locked out...
    response = sign_in(client, PASSWORD, REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 302


def test_x_forwarded_for_is_ignored_unless_a_proxy_is_trusted(client, editor, settings):
    """Otherwise anyone could dodge the lockout by sending a new address with each guess."""
    for n in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "wrong password", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")

    response = sign_in(client, PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.200")
    assert response.status_code == 429


def test_a_success_before_the_limit_resets_the_count(client, editor, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "wrong password")
    assert sign_in(client, PASSWORD).status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "wrong password").status_code == 200
