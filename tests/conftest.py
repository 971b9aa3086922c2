import os

import pytest
from hypothesis import settings as hypothesis_settings

# Hypothesis profiles, chosen by HYPOTHESIS_PROFILE (default `dev`):
# - dev: a bounded number of examples, random each run, failures replayed from .hypothesis/;
# - ci: fewer examples, the same ones on every run (derandomized, no example database): every
#   parameter name already gets every nasty value by rule (tests/test_fuzz_public_pages.py),
#   and CI runs the suite on two databases;
# - thorough: the exhaustive run, for `make test-slow` or before a release.
# Pages take tens of milliseconds each, and no deadline holds on a busy CI machine.
FUZZ_EXAMPLES = 25
CI_EXAMPLES = 10
hypothesis_settings.register_profile("dev", max_examples=FUZZ_EXAMPLES, deadline=None)
hypothesis_settings.register_profile(
    "ci", max_examples=CI_EXAMPLES, deadline=None, derandomize=True, database=None
)
hypothesis_settings.register_profile("thorough", max_examples=500, deadline=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache, so cached pages never leak between tests."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _http_test_client_and_plain_static(settings, tmp_path):
    """Tests run with production settings (DEBUG off) but over plain HTTP, without collectstatic.

    The HTTPS redirect would answer every test request with a 301; tests of the redirect itself
    turn it back on. The manifest storage needs `collectstatic`, which tests do not run.
    """
    settings.SECURE_SSL_REDIRECT = False
    # Tests send many requests from one address: the API's rate limit is off unless a test
    # turns it on (tests/test_api.py).
    settings.API_RATE_LIMIT = 0
    # No bulk files unless a test writes them (tests/test_bulk_data.py): downloads stream live,
    # and writes schedule no background task.
    settings.BULK_DATA_DIR = tmp_path / "bulk-data"
    settings.BULK_DATA_DEBOUNCE = -1
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """
    Transactional tests (the browser tests' live server, the migration walk) last, as Django
    orders them: they empty the database when they end, data migrations' groups included, so
    a test that relies on those must run before them. pytest-django sorts them so, but
    pytest's own grouping of tests that share a session-scoped parametrized fixture (the
    browser) can move them back among the others; this runs after both.
    """

    def browser(item):
        return item.get_closest_marker("browser") is not None

    # Among them, those that restore the database serialized when the test database was made
    # (`serialized_rollback`) first: the flush after any other transactional test runs the
    # post-migrate handlers, which make the content types again, in another order than the
    # migrations did (new ids), and a restore after it then fails on the content types' unique
    # names. Then the browser tests, which leave the database empty, after the others.
    items.sort(
        key=lambda item: (
            is_transactional(item),
            is_transactional(item) and not restores_serialized_database(item),
            is_transactional(item) and browser(item),
        )
    )


def is_transactional(item):
    marker = item.get_closest_marker("django_db")
    fixtures = getattr(item, "fixturenames", ())
    return bool(
        (marker and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")))
        or "transactional_db" in fixtures
        or "live_server" in fixtures
    )


def restores_serialized_database(item):
    marker = item.get_closest_marker("django_db")
    return bool(marker and marker.kwargs.get("serialized_rollback"))
