"""Production settings: deploy checks, HTTPS, cookies, headers, CSP, admin URL, passwords."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.forms import AdminUserCreationForm
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse

from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = {"DEBUG": "0", "ALLOWED_HOSTS": "tracker.example.org"}


def run_django(code_or_args, env=None, manage=False):
    """Run manage.py or Python code in a fresh process, with settings read from `env`."""
    full_env = {
        key: value
        for key, value in os.environ.items()
        # The browser tests set DJANGO_ALLOW_ASYNC_UNSAFE for this process; not a deployment's.
        if key
        not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "ADMIN_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    full_env.update({"SECRET_KEY": secrets.token_urlsafe(50), **PRODUCTION_ENV, **(env or {})})
    full_env["DJANGO_SETTINGS_MODULE"] = "tracker.settings"
    if manage:
        command = [sys.executable, "manage.py", *code_or_args]
    else:
        command = [sys.executable, "-c", "import django; django.setup()\n" + code_or_args]
    return subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        command, cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=120
    )


# --- check --deploy ---------------------------------------------------------------------


def test_deploy_check_is_clean_with_production_environment():
    result = run_django(["check", "--deploy", "--fail-level", "WARNING"], manage=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_deploy_check_would_catch_debug_left_on():
    """The deploy check above can fail: with DEBUG on it flags the insecure settings."""
    result = run_django(
        ["check", "--deploy", "--fail-level", "WARNING"], env={"DEBUG": "1"}, manage=True
    )
    assert result.returncode != 0
    assert "security.W018" in result.stderr  # DEBUG on in deployment


def test_without_debug_a_secret_key_is_required():
    result = run_django("", env={"SECRET_KEY": ""})
    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr


def test_production_settings_turn_on_https_and_secure_cookies():
    result = run_django(
        "from django.conf import settings as s; import json; print(json.dumps({"
        "'ssl': s.SECURE_SSL_REDIRECT, 'hsts': s.SECURE_HSTS_SECONDS,"
        "'hsts_sub': s.SECURE_HSTS_INCLUDE_SUBDOMAINS, 'preload': s.SECURE_HSTS_PRELOAD,"
        "'session_secure': s.SESSION_COOKIE_SECURE, 'csrf_secure': s.CSRF_COOKIE_SECURE,"
        "'session_httponly': s.SESSION_COOKIE_HTTPONLY, 'debug': s.DEBUG}))"
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "ssl": True,
        "hsts": 31536000,
        "hsts_sub": True,
        "preload": True,
        "session_secure": True,
        "csrf_secure": True,
        "session_httponly": True,
        "debug": False,
    }


@pytest.mark.django_db
def test_http_is_redirected_to_https_and_https_carries_hsts(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/methodology/?x=1")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/methodology/?x=1"

    # Behind the TLS proxy, the forwarded scheme counts as HTTPS.
    response = client.get("/methodology/", HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"


# --- Response headers ---------------------------------------------------------------------


def csp_directives(response):
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/methodology/", "admin:login", "/no-such-page/"])
def test_every_response_carries_a_strict_content_security_policy(client, url):
    response = client.get(reverse(url) if ":" in url else url)
    directives = csp_directives(response)
    assert directives == {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "unsafe-eval" not in response["Content-Security-Policy"]


@pytest.mark.django_db
def test_admin_pages_carry_the_same_policy_and_anti_framing_headers(admin_client):
    response = admin_client.get(reverse("admin:auth_user_changelist"))
    assert response.status_code == 200
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


@pytest.mark.django_db
def test_session_and_csrf_cookies_are_secure_httponly_and_same_site(client, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    user = UserFactory(username="editor", is_staff=True)
    user.set_password("a long and unusual passphrase")
    user.save()

    login_page = client.get(reverse("admin:login"))
    csrf_cookie = login_page.cookies["csrftoken"]
    assert csrf_cookie["secure"] and csrf_cookie["httponly"]
    assert csrf_cookie["samesite"] == "Lax"

    response = client.post(
        reverse("admin:login"),
        {"username": "editor", "password": "a long and unusual passphrase"},
    )
    assert response.status_code == 302
    session_cookie = response.cookies["sessionid"]
    assert session_cookie["secure"] and session_cookie["httponly"]
    assert session_cookie["samesite"] == "Lax"
    assert session_cookie["max-age"] == 12 * 60 * 60


# --- Admin URL ------------------------------------------------------------------------------


def test_the_admin_lives_at_the_configured_url():
    result = run_django(
        "from django.urls import reverse, resolve, Resolver404\n"
        "print(reverse('admin:index'))\n"
        "print(resolve('/backstage-7f3a/login/').url_name)\n"
        "try:\n    resolve('/admin/')\n    print('admin/ still answers')\n"
        "except Resolver404:\n    print('admin/ is gone')\n",
        env={"ADMIN_URL": "/backstage-7f3a/"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:3] == ["/backstage-7f3a/", "login", "admin/ is gone"]


def test_the_admin_url_cannot_be_the_site_root():
    result = run_django("", env={"ADMIN_URL": "/"})
    assert result.returncode != 0
    assert "ADMIN_URL must be a path" in result.stderr


# --- Passwords --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Xq7!mz", "This password is too short. It must contain at least 12 characters."),
        ("password1234", "This password is too common."),
        ("904827361528", "This password is entirely numeric."),
        ("margaret.hamilton", "The password is too similar to the username."),
    ],
)
def test_weak_passwords_are_refused(password, message):
    user = UserFactory.build(username="margaret.hamilton", email="mh@example.org")
    with pytest.raises(ValidationError) as refused:
        validate_password(password, user)
    assert message in refused.value.messages


def test_a_long_unusual_password_is_accepted():
    user = UserFactory.build(username="margaret.hamilton")
    assert validate_password("orbit lantern quietly 1969", user) is None


@pytest.mark.django_db
def test_the_admin_user_form_applies_the_validators():
    form = AdminUserCreationForm(
        data={
            "username": "newcomer",
            "usable_password": "true",
            "password1": "password1234",
            "password2": "password1234",
        }
    )
    assert not form.is_valid()
    assert "This password is too common." in form.errors["password2"]
