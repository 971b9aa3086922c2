import pytest


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache, so cached pages never leak between tests."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _http_test_client_and_plain_static(settings):
    """Tests run with production settings (DEBUG off) but over plain HTTP, without collectstatic.

    The HTTPS redirect would answer every test request with a 301; tests of the redirect itself
    turn it back on. The manifest storage needs `collectstatic`, which tests do not run.
    """
    settings.SECURE_SSL_REDIRECT = False
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
