"""
Settings for Position Tracker, read from the environment.

One file, with development defaults that are safe: DEBUG is off unless asked for, and
without DEBUG a real SECRET_KEY is required. See README.md for every variable.
"""

import datetime
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def envint(name, default):
    return int(os.environ.get(name, default))


def envlist(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = envbool("DEBUG")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set SECRET_KEY (or DEBUG=1 for local development).")
    SECRET_KEY = "django-insecure-development-only-key-never-used-in-production"  # noqa: S105

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")

# Public address of the site, for canonical links in feeds and exports made outside a request.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sitemaps",
    "django_filters",
    "django_countries",
    "import_export",
    "simple_history",
    "axes",
    "csp",
    "django_tasks",
    "django_tasks_db",
    "corsheaders",
    # django-ninja: the API's vendored Swagger UI (its static files and templates).
    "ninja",
    "positions",
    # Email alerts and webhooks (alerts/, docs/alerts.md).
    "alerts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before CommonMiddleware, as django-cors-headers asks; it acts on /api/ only.
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes requires: it turns a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

# django-axes checks for a lockout before Django's own backend tries the password.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "tracker.urls"
WSGI_APPLICATION = "tracker.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# SQLite (WAL mode, see positions/apps.py) is the embedded default; PostgreSQL in production.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=envint("CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
# PostgreSQL's planner assumes spinning disks by default (random_page_cost 4): at a million
# statements it then scans every signature rather than read a board's few thousand by index.
# Servers on SSDs or with the data in memory (ours) should plan with 1.1; and sorting a large
# board needs more than the default 4 MB of work memory. JIT compilation costs more than it
# saves on the short queries of a web page. PG_OPTIONS overrides all three.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "options",
        os.environ.get("PG_OPTIONS", "-c random_page_cost=1.1 -c work_mem=16MB -c jit=off"),
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHE_URL = os.environ.get("CACHE_URL") or os.environ.get("REDIS_URL")
if CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "tracker.cache.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "tracker"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
# One language, English: no translation machinery on every string a page renders.
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# The admin is the only place to sign in: after signing in, or when a page needs it, go there.
LOGIN_URL = "admin:login"
LOGIN_REDIRECT_URL = "admin:index"

# The admin lives at a configurable path, so it is not where every scanner looks first.
ADMIN_URL = os.environ.get("ADMIN_URL", "admin/").strip("/") + "/"
if ADMIN_URL == "/":
    raise ImproperlyConfigured("ADMIN_URL must be a path such as 'admin/', not the site root.")

# Production hardening; all on unless DEBUG.
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", not DEBUG)
# The app runs behind a TLS-terminating proxy (see docs/operations.md) that sets this header.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Cookies: sent over HTTPS only in production, never readable from JavaScript (nothing of ours
# reads them: forms carry the CSRF token), and not sent on cross-site subrequests.
SESSION_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Editors sign in for a working day, not for the default two weeks.
SESSION_COOKIE_AGE = envint("SESSION_COOKIE_AGE", 12 * 60 * 60)
CSRF_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"

# Content-Security-Policy (django-csp 4): only our own origin, and no inline script or style
# anywhere, the admin included; CSS and JS are static files. object-src, base-uri,
# frame-ancestors and form-action do not fall back to default-src, so each is set.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}

# The public API (/api/, positions/api/): anyone may read it from a browser on another site
# (CORS for reads only, no credentials), at most API_RATE_LIMIT requests per API_RATE_WINDOW
# seconds from one client address (counted in the shared cache).
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_ALL_ORIGINS = True
CORS_ALLOW_METHODS = ["GET", "HEAD", "OPTIONS"]
CORS_ALLOW_CREDENTIALS = False
CORS_EXPOSE_HEADERS = ["ETag", "Last-Modified", "Retry-After"]
API_RATE_LIMIT = envint("API_RATE_LIMIT", 120)
API_RATE_WINDOW = envint("API_RATE_WINDOW", 60)

# Embeds (/embed/..., positions/embeds.py) are the only pages other sites may frame: their
# CSP frame-ancestors (space-separated sources, every site by default).
EMBED_FRAME_ANCESTORS = os.environ.get("EMBED_FRAME_ANCESTORS", "*").split()

# django-axes: after AXES_FAILURE_LIMIT failed logins for one username from one address, that
# pair is locked out for the cool-off period. Locking the pair (not the username alone) stops
# guessing without letting anyone lock an editor out from everywhere; the password validators
# below make slow, distributed guessing hopeless.
AXES_FAILURE_LIMIT = envint("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=envint("AXES_COOLOFF_MINUTES", 30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Failures during a lockout do not extend it: the message promises a time, keep the promise.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_TEMPLATE = "axes/lockout.html"
AXES_LOCKOUT_CALLABLE = "tracker.security.lockout_response"
# The client address comes from REMOTE_ADDR, unless the app is told how many proxies in front
# of it append to X-Forwarded-For (trusting that header blindly would let anyone pick an
# address and dodge the lockout).
TRUSTED_PROXY_COUNT = envint("TRUSTED_PROXY_COUNT", 0)
if TRUSTED_PROXY_COUNT:
    AXES_IPWARE_PROXY_COUNT = TRUSTED_PROXY_COUNT
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
else:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# django-import-export: cached temp storage works across processes when the cache is shared
# (Redis); permission codes so that only those allowed may import and export.
IMPORT_EXPORT_SKIP_ADMIN_LOG = False
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "add"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"

# Largest spreadsheet an editor may upload, in bytes.
IMPORT_MAX_UPLOAD_BYTES = envint("IMPORT_MAX_UPLOAD_BYTES", 10 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = IMPORT_MAX_UPLOAD_BYTES + 1024 * 1024

# What an import reads at most (positions/exchange/reading.py, docs/operations.md): a file
# beyond one of these is refused, before it is read further, with a message naming the limit.
IMPORT_MAX_ROWS = envint("IMPORT_MAX_ROWS", 1_000_000)
IMPORT_MAX_COLUMNS = envint("IMPORT_MAX_COLUMNS", 100)
IMPORT_MAX_CELL_CHARS = envint("IMPORT_MAX_CELL_CHARS", 100_000)
IMPORT_MAX_UNPACKED_BYTES = envint("IMPORT_MAX_UNPACKED_BYTES", 64 * 1024 * 1024)
IMPORT_MAX_COMPRESSION_RATIO = envint("IMPORT_MAX_COMPRESSION_RATIO", 100)
IMPORT_MAX_NESTING = envint("IMPORT_MAX_NESTING", 4)

# Background tasks (django-tasks): the database backend stores them in the database, where
# `manage.py db_worker` picks them up, on SQLite and PostgreSQL alike. Admin imports of files
# of at least IMPORT_BACKGROUND_BYTES are checked and written by that worker
# (positions/exchange/jobs.py); smaller files get their preview at once, in the request.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
# The whole-data-set downloads (positions/bulkdata.py): written to this directory by a
# background task this many seconds after the last of a burst of writes (-1: only by
# `manage.py write_bulk_data`). A proxy may serve the directory itself (docs/operations.md).
BULK_DATA_DIR = Path(os.environ.get("BULK_DATA_DIR", BASE_DIR / "var" / "data"))
BULK_DATA_DEBOUNCE = envint("BULK_DATA_DEBOUNCE", 60)
IMPORT_BACKGROUND_BYTES = envint("IMPORT_BACKGROUND_BYTES", 512 * 1024)
# A background import that has not reported progress for this long is presumed to have lost
# its worker, and is run again from its stored file (writing allows more, per row).
IMPORT_JOB_STALL_SECONDS = envint("IMPORT_JOB_STALL_SECONDS", 120)

# Email (Django's backends): the console in development (messages are printed by the server
# and the worker), SMTP otherwise; EMAIL_BACKEND names any other backend (a provider's).
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS")
EMAIL_USE_SSL = envbool("EMAIL_USE_SSL")
EMAIL_TIMEOUT = envint("EMAIL_TIMEOUT", 30)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Position Tracker <alerts@localhost>")
SERVER_EMAIL = os.environ.get("SERVER_EMAIL", DEFAULT_FROM_EMAIL)

# Alerts (alerts/, docs/alerts.md). The write path tells these modules what each write
# session moved, inside its transaction (positions/writes.py): the alerts' outbox.
WRITE_OBSERVERS = ["alerts.outbox"]
# An unconfirmed subscription, and its confirmation link, expire after this many days.
ALERTS_CONFIRM_DAYS = envint("ALERTS_CONFIRM_DAYS", 7)
# Subscribe requests from one client address per hour (0: no limit), and the least time
# between two confirmation emails for one subscription.
ALERTS_SUBSCRIBE_LIMIT = envint("ALERTS_SUBSCRIBE_LIMIT", 20)
ALERTS_RESEND_MINUTES = envint("ALERTS_RESEND_MINUTES", 15)
# Webhooks: seconds to wait for the receiver; the first retry's delay, doubled at each
# further retry up to the longest delay; attempts before giving up.
ALERTS_WEBHOOK_TIMEOUT = envint("ALERTS_WEBHOOK_TIMEOUT", 10)
ALERTS_WEBHOOK_RETRY_SECONDS = envint("ALERTS_WEBHOOK_RETRY_SECONDS", 60)
ALERTS_WEBHOOK_MAX_DELAY = envint("ALERTS_WEBHOOK_MAX_DELAY", 6 * 60 * 60)
ALERTS_WEBHOOK_MAX_ATTEMPTS = envint("ALERTS_WEBHOOK_MAX_ATTEMPTS", 8)
