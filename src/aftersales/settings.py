"""Settings: one file that reads typed environment variables, with safe local defaults.

Everything a deployment may change comes from the environment (``AFTERSALES_*`` and
``DATABASE_URL``); nothing else needs editing.  The defaults give the single-machine demo:
SQLite under ``./var``, Chinese UI, Asia/Shanghai time.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

import dj_database_url
from csp.constants import NONE as CSP_NONE, SELF as CSP_SELF
from django.utils.translation import gettext_lazy as _

PACKAGE_DIR = Path(__file__).resolve().parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


VAR_DIR = Path(os.environ.get("AFTERSALES_VAR_DIR", Path.cwd() / "var")).resolve()


def _secret_key() -> str:
    """A fixed key from the environment, else one generated once and kept in var/.

    Generating it per process would log everyone out on every restart and break
    signed links between gunicorn workers.
    """
    key = os.environ.get("AFTERSALES_SECRET_KEY")
    if key:
        return key
    path = VAR_DIR / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(50)
        path.write_text(key)
        path.chmod(0o600)
        return key


SECRET_KEY = _secret_key()
DEBUG = env_bool("AFTERSALES_DEBUG", False)
PRODUCTION = env_bool("AFTERSALES_PRODUCTION", False)
ALLOWED_HOSTS = env_list("AFTERSALES_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("AFTERSALES_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "aftersales.web",  # first: its templates override the admin's
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",
    "django_htmx",
    "template_partials",
    "auditlog",  # who changed the service network and the rules, and how (api/admin.py)
    "aftersales.core",
    "aftersales.accounts",
    "aftersales.registry",
    "aftersales.warranty",
    "aftersales.notify",
    "aftersales.service",
    "aftersales.sla",
    "django_tasks",
    "django_tasks_db",
    "aftersales.knowledge",
    "aftersales.stats",
    "aftersales.quality",
    "aftersales.exports",
    "aftersales.standards",
    "aftersales.parts",
    "aftersales.portal",
    "aftersales.visits",
    "aftersales.ops",  # metrics, readiness, request ids, the replica router (issue 19)
    "aftersales.calls",  # the phone system (CTI): call events, the desk's pop, callbacks (issue 16)
    "aftersales.inbox",  # fax and e-mail: the IMAP inbox read by the worker into intake drafts (issue 16)
    "aftersales.retention",  # what is kept how long; the daily purge (issue 19)
    "aftersales.demo",  # last: it calls every app's demo builder
]

MIDDLEWARE = [
    "aftersales.ops.middleware.RequestIdMiddleware",  # first: every later step and log line knows the id
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # After the locale, so the API's error answers speak the request's language.
    "aftersales.api.middleware.ApiErrorMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The admin site's changes to audited models name their author too.
    "auditlog.middleware.AuditlogMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "aftersales.core.headers.NoStoreMiddleware",
    "aftersales.ops.routing.ReplicaReadsMiddleware",  # last: sessions and users are read on the primary
]

ROOT_URLCONF = "aftersales.urls"
WSGI_APPLICATION = "aftersales.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# SQLite is the embedded default; DATABASE_URL=postgres://... switches to PostgreSQL (psycopg 3).
CONN_MAX_AGE = env_int("AFTERSALES_CONN_MAX_AGE", 60)
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'aftersales.sqlite3'}",
        conn_max_age=CONN_MAX_AGE,
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Django's SQLite backend, with write transactions queued on a file lock (see its docstring).
    DATABASES["default"]["ENGINE"] = "aftersales.core.sqlite3"
    DATABASES["default"]["OPTIONS"] = {
        # IMMEDIATE takes the write lock at BEGIN, so two writers queue on the busy timeout
        # instead of one failing with "database is locked" when it upgrades a read lock.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
    # Tests use a file, not Django's shared in-memory database: threads in the concurrency tests
    # then take real write locks and wait on the busy timeout, as gunicorn workers do.
    # One file per process, in the temp directory, so two test runs on one machine never share one.
    DATABASES["default"]["TEST"] = {"NAME": os.path.join(tempfile.gettempdir(), f"aftersales-test-{os.getpid()}.sqlite3")}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # JIT compilation pays off for long analytical queries, not for these short ones: a partner's
    # visibility subquery has a large estimated cost and was compiled on every search (365 ms of 464).
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
# A streaming read replica (docs/deploy.md): reports, statistics, search and exports read there
# (aftersales.ops.routing), with read-your-writes and a lag guard; everything else uses the primary.
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(os.environ["DATABASE_REPLICA_URL"], conn_max_age=CONN_MAX_AGE,
                                                 conn_health_checks=True)
    DATABASES["replica"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
    # Tests of a site with a replica read the test database through it (pytest-django mirrors it).
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["aftersales.ops.routing.ReplicaRouter"]
REPLICA_MAX_LAG_SECONDS = env_int("AFTERSALES_REPLICA_MAX_LAG", 10)
REPLICA_STICKY_SECONDS = env_int("AFTERSALES_REPLICA_STICKY", 10)
REPLICA_LAG_CHECK_SECONDS = float(os.environ.get("AFTERSALES_REPLICA_LAG_CHECK", "1"))
# Regular expressions of the GET paths whose reads may go to the replica (plus any ?export=...).
REPLICA_READ_PATHS = env_list("AFTERSALES_REPLICA_READ_PATHS", [
    r"^/stats/", r"^/api/v1/stats/", r"^/quality/$", r"^/search/", r"^/api/v1/search", r"^/customers/", r"^/machines/",
])
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if env_bool("AFTERSALES_FAST_HASHER", False):
    # Tests create many users; argon2 at full cost would dominate their run time.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = ["aftersales.accounts.backends.ThrottledModelBackend"]
# Login throttling (core.throttle, counters in the database): after LIMIT failures for one
# username from one client address, that pair is locked out for LOCKOUT_BASE seconds, doubling with
# every further failure up to LOCKOUT_MAX; the same user from another address is not locked. An
# address with ADDRESS_LIMIT failures over any usernames (password spraying) is locked the same way.
# Failures are forgotten after WINDOW seconds without one.
LOGIN_FAILURE_LIMIT = env_int("AFTERSALES_LOGIN_FAILURE_LIMIT", 5)
LOGIN_FAILURE_WINDOW_SECONDS = env_int("AFTERSALES_LOGIN_FAILURE_WINDOW", 900)
LOGIN_ADDRESS_FAILURE_LIMIT = env_int("AFTERSALES_LOGIN_ADDRESS_FAILURE_LIMIT", 20)
LOGIN_LOCKOUT_BASE_SECONDS = env_int("AFTERSALES_LOGIN_LOCKOUT_BASE", 60)
LOGIN_LOCKOUT_MAX_SECONDS = env_int("AFTERSALES_LOGIN_LOCKOUT_MAX", 3600)
# How many reverse proxies in front of the site append to X-Forwarded-For (docs/deploy.md): the
# client address used by every throttle is the entry that many places from the right. 0 (the
# default, nothing in front): REMOTE_ADDR. Set it to exactly the number of proxies you run; more
# lets clients choose their own address.
TRUSTED_PROXIES = env_int("AFTERSALES_TRUSTED_PROXIES", 0)

# --- Language and time ----------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files --------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise expects it even when serving from the apps
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("AFTERSALES_MEDIA_ROOT", VAR_DIR / "media"))
# `collectstatic` (run by `make run`, `make test` and `aftersales serve`) writes each file under a
# name with its content hash, plus a gzip copy; whitenoise then serves those names with a one-year
# immutable cache and the compressed copy to browsers that accept it (a cheap phone downloads a
# third of the bytes once). Before collectstatic has run (a fresh checkout, a bare `pytest`) the
# storage falls back to the plain names, served from the apps.
WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "aftersales.web.staticstorage.HashedStaticStorage"},
}
# Uploaded files and their folders are readable by the service's own user only (customer photos,
# signatures, invoices): 0600 / 0700 whatever the process umask is.
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- Security -------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): scripts, styles, images and requests only from this site;
# no inline script, no inline event handler, no style="" attribute, no eval. The templates keep
# every script in static/web/js/app.js and every style in app.css (htmx's own indicator <style> is
# switched off by the htmx-config meta tag in base.html). Uploaded photos are same-origin; the
# signature pad draws on a canvas, which needs no source.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [CSP_SELF],
        "script-src": [CSP_SELF],
        "style-src": [CSP_SELF],
        "img-src": [CSP_SELF],
        "font-src": [CSP_SELF],
        "connect-src": [CSP_SELF],
        "form-action": [CSP_SELF],
        "frame-ancestors": [CSP_NONE],
        "base-uri": [CSP_NONE],
        "object-src": [CSP_NONE],
    },
}
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("AFTERSALES_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("AFTERSALES_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # Preload lists are hard to leave (months) and bind every subdomain: the operator opts in.
    SECURE_HSTS_PRELOAD = env_bool("AFTERSALES_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        SILENCED_SYSTEM_CHECKS = ["security.W021"]  # preload is a decision, not an oversight
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # The probes and the scrape come straight to each node over the private network, not through the
    # TLS proxy: HAProxy's health check (/readyz?scope=node) and Prometheus (/metrics, per node, with its
    # bearer token) would otherwise get a redirect to https on a port that speaks only HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]

# Phone and customer look-ups (a fragment of 4+ digits) per minute, counted in the database so
# every worker and node shares the count: per user and per client address.
LOOKUP_LIMIT_PER_USER = env_int("AFTERSALES_LOOKUP_LIMIT_PER_USER", 30)
LOOKUP_LIMIT_PER_ADDRESS = env_int("AFTERSALES_LOOKUP_LIMIT_PER_ADDRESS", 120)
# Attachments: per order, per user and hour, and all of one organization's files together.
ATTACHMENTS_PER_ORDER = env_int("AFTERSALES_ATTACHMENTS_PER_ORDER", 50)
ATTACHMENTS_PER_USER_HOUR = env_int("AFTERSALES_ATTACHMENTS_PER_USER_HOUR", 60)
ATTACHMENT_BYTES_PER_ORGANIZATION = env_int("AFTERSALES_ATTACHMENT_BYTES_PER_ORGANIZATION", 5 * 1024 ** 3)

# --- Logging --------------------------------------------------------------------------------
# AFTERSALES_LOG_FORMAT=json (the default in production): one JSON object a line for a log
# collector; every line carries the request id (aftersales.ops.context), "-" outside requests.
LOG_FORMAT = os.environ.get("AFTERSALES_LOG_FORMAT", "json" if PRODUCTION else "plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "aftersales.ops.logs.RequestIdFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
                   "json": {"()": "aftersales.ops.logs.JsonLogFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("AFTERSALES_LOG_LEVEL", "INFO")},
    # The worker runs its periodic tasks every half minute; their start and success lines would bury
    # everything else an operator reads. Failures are logged at ERROR and still show.
    "loggers": {"django.db.backends": {"level": "WARNING"},
                "django_tasks": {"level": os.environ.get("AFTERSALES_TASK_LOG_LEVEL", "WARNING")},
                "django_tasks_db": {"level": os.environ.get("AFTERSALES_TASK_LOG_LEVEL", "WARNING")}},
}

# --- Domain settings ------------------------------------------------------------------------
# Region names of the maker's home base; phones without a country code are Chinese numbers.
PHONE_DEFAULT_REGION = "CN"
NINJA_PAGINATION_PER_PAGE = 25

# --- Background work and notifications (the `aftersales worker` command) ---------------------
# The Django tasks API with the database backend: tasks are rows, so any number of workers on
# PostgreSQL share them (SKIP LOCKED), and SQLite needs nothing more.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
SLA_SWEEP_INTERVAL_SECONDS = env_int("AFTERSALES_SLA_SWEEP_INTERVAL", 30)
# An Excel export of more rows than this is written by the worker and announced in the bell
# (exports app); smaller ones download at once.
EXPORT_INLINE_ROWS = env_int("AFTERSALES_EXPORT_INLINE_ROWS", 5000)
NOTIFY_LANGUAGE = os.environ.get("AFTERSALES_NOTIFY_LANGUAGE", "zh-hans")
NOTIFY_SMS_GATEWAY = os.environ.get("AFTERSALES_SMS_GATEWAY", "aftersales.notify.gateways.LogSmsGateway")
NOTIFY_SMS_URL = os.environ.get("AFTERSALES_SMS_URL", "")  # HttpSmsGateway; may contain {phone}
NOTIFY_SMS_SECRET = os.environ.get("AFTERSALES_SMS_SECRET", "")  # HMAC-SHA256 key of X-Aftersales-Signature
NOTIFY_MAX_ATTEMPTS = env_int("AFTERSALES_NOTIFY_MAX_ATTEMPTS", 8)
NOTIFY_RETRY_BASE_SECONDS = env_int("AFTERSALES_NOTIFY_RETRY_BASE", 30)
NOTIFY_RETRY_MAX_SECONDS = env_int("AFTERSALES_NOTIFY_RETRY_MAX", 3600)
# A worker's claim on the messages it delivers, renewed while it works (longer than one send, whose
# HTTP timeout is 10 s): a worker that dies leaves them to another within this many seconds.
NOTIFY_CLAIM_SECONDS = env_int("AFTERSALES_NOTIFY_CLAIM_SECONDS", 30)
DEFAULT_FROM_EMAIL = os.environ.get("AFTERSALES_FROM_EMAIL", "aftersales@localhost")
EMAIL_BACKEND = os.environ.get("AFTERSALES_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")

# --- The public face: links in messages, the hotline, the company ---------------------------
# Every link that leaves the site (SMS, e-mail, printed QR codes) is built from SITE_URL, so a
# customer's phone can open it; `check --deploy` warns when it is unset in production.
SITE_URL = os.environ.get("AFTERSALES_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
HOTLINE = os.environ.get("AFTERSALES_HOTLINE", "400-800-1234")
COMPANY_NAME = os.environ.get("AFTERSALES_COMPANY_NAME", "开拓机械")
# The customer portal's intake account (portal.services.portal_actor), created on first use.
PORTAL_USERNAME = os.environ.get("AFTERSALES_PORTAL_USERNAME", "portal")
# The portal API's bearer token (the phone app after the SMS-code login) lasts this many days.
PORTAL_TOKEN_DAYS = env_int("AFTERSALES_PORTAL_TOKEN_DAYS", 30)

# --- Operations limits (issue 12) -----------------------------------------------------------
# Archive imports (registry.importers): a file over these is refused before any row is written.
IMPORT_MAX_ROWS = env_int("AFTERSALES_IMPORT_MAX_ROWS", 100_000)
IMPORT_MAX_BYTES = env_int("AFTERSALES_IMPORT_MAX_BYTES", 100 * 1024 * 1024)
# /healthz answers 503 when the last SLA sweep is older than this (or, on a server that has never
# seen one, when it has run this long without one), or when a due outbox message has waited longer
# than HEALTH_OUTBOX_LAG: the worker is down or stuck.
HEALTH_SWEEP_STALE_SECONDS = env_int("AFTERSALES_HEALTH_SWEEP_STALE", max(5 * SLA_SWEEP_INTERVAL_SECONDS, 120))
HEALTH_OUTBOX_LAG_SECONDS = env_int("AFTERSALES_HEALTH_OUTBOX_LAG", 300)

# --- Operations: metrics and readiness (aftersales.ops, issue 19) ----------------------------
# /metrics answers a scrape carrying "Authorization: Bearer <this>" (and signed-in staff); unset,
# only staff in a browser can read it.
METRICS_TOKEN = os.environ.get("AFTERSALES_METRICS_TOKEN", "")
# /readyz answers 503 when no worker process has reported (ops.WorkerHeartbeat) for this long.
READY_WORKER_STALE_SECONDS = env_int("AFTERSALES_READY_WORKER_STALE", max(3 * SLA_SWEEP_INTERVAL_SECONDS, 60))
# Repair records are kept this many years after an order closes (docs/deploy.md, "Retention": the
# 三包 repair-record rule and product-quality liability); nothing in the application deletes earlier.
RETENTION_YEARS = env_int("AFTERSALES_RETENTION_YEARS", 6)
# What only serves a moment is kept days, not years (aftersales.retention.policy; 0 = keep forever):
# the phone-number reveal log (an audit trail: long enough to investigate a leak reported late), the
# delivered messages (recipients' numbers; the order's timeline keeps what happened), the intake
# idempotency keys (a retry comes within minutes), the portal's SMS codes, the exported workbooks.
RETENTION_REVEAL_DAYS = env_int("AFTERSALES_RETENTION_REVEAL_DAYS", 3 * 365)
RETENTION_OUTBOX_DAYS = env_int("AFTERSALES_RETENTION_OUTBOX_DAYS", 180)
RETENTION_IDEMPOTENCY_DAYS = env_int("AFTERSALES_RETENTION_IDEMPOTENCY_DAYS", 30)
RETENTION_LOGIN_CODE_DAYS = env_int("AFTERSALES_RETENTION_LOGIN_CODE_DAYS", 30)
RETENTION_EXPORT_DAYS = env_int("AFTERSALES_RETENTION_EXPORT_DAYS", 7)
# Handled inbox messages (the order keeps a copy of their files) and the staff's in-app notices.
RETENTION_DRAFT_DAYS = env_int("AFTERSALES_RETENTION_DRAFT_DAYS", 365)
RETENTION_NOTIFICATION_DAYS = env_int("AFTERSALES_RETENTION_NOTIFICATION_DAYS", 365)
# The worker runs the purge once a day (0: only `aftersales retention purge --apply` by hand).
RETENTION_PURGE_DAILY = env_int("AFTERSALES_RETENTION_PURGE_DAILY", 1) == 1
# --- Every way a customer reaches us (issue 16) ----------------------------------------------
# The phone system's events (aftersales.calls): a signed request older or newer than the window is
# refused; an answer after THREE_RINGS seconds is late (a Chinese ring cadence is 1 s on, 4 s off);
# an abandoned call is a callback task due CALLBACK_MINUTES of working time later.
CTI_WINDOW_SECONDS = env_int("AFTERSALES_CTI_WINDOW", 300)
CTI_THREE_RINGS_SECONDS = env_int("AFTERSALES_CTI_THREE_RINGS_SECONDS", 15)
CTI_CALLBACK_MINUTES = env_int("AFTERSALES_CTI_CALLBACK_MINUTES", 30)
# The fax and e-mail inbox (aftersales.inbox): empty host = no inbox. A message larger than
# INBOX_MAX_BYTES is refused by its IMAP size before it is fetched or parsed.
INBOX_HOST = os.environ.get("AFTERSALES_INBOX_HOST", "")
INBOX_PORT = env_int("AFTERSALES_INBOX_PORT", 993)
INBOX_USER = os.environ.get("AFTERSALES_INBOX_USER", "")
INBOX_PASSWORD = os.environ.get("AFTERSALES_INBOX_PASSWORD", "")
INBOX_SSL = env_bool("AFTERSALES_INBOX_SSL", True)
INBOX_FOLDER = os.environ.get("AFTERSALES_INBOX_FOLDER", "INBOX")
INBOX_MAX_BYTES = env_int("AFTERSALES_INBOX_MAX_BYTES", 20 * 1024 * 1024)
INBOX_BATCH = env_int("AFTERSALES_INBOX_BATCH", 20)
