"""Kith settings, read from the environment.

KITH_DATA_DIR      where the SQLite database, the generated secret key and uploads live
DATABASE_URL       postgresql://user@host:port/name to use PostgreSQL instead of SQLite
KITH_SECRET_KEY    overrides the generated secret key
KITH_ALLOWED_HOSTS comma-separated host names (default: localhost, 127.0.0.1, [::1])
KITH_DEBUG         "1"/"true" turns on Django's debug mode (off by default)
KITH_RECORD_VISIBILITY  "all" (default) or "own": which records members and viewers see
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
import platformdirs

BASE_DIR = Path(__file__).resolve().parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DATA_DIR = Path(os.environ.get("KITH_DATA_DIR") or platformdirs.user_data_dir("kith", appauthor=False))
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    if os.environ.get("KITH_SECRET_KEY"):
        return os.environ["KITH_SECRET_KEY"]
    path = DATA_DIR / "secret_key"
    if not path.exists():
        # Written once with owner-only permissions; reused across restarts so sessions survive.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("KITH_DEBUG")
TESTING = env_bool("KITH_TESTING")
ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("KITH_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",") if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("KITH_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "ninja",  # serves the API docs' Swagger assets from local static files (no CDN)
    "kith.core",
    "kith.contacts",
    "kith.sales",
    "kith.activities",
    "kith.imports",
    "kith.exports",
    "kith.duplicates",
    "kith.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "kith.core.middleware.RequestIdMiddleware",
    "kith.core.middleware.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "kith.urls"
WSGI_APPLICATION = "kith.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kith.web.context.kith",
            ],
        },
    }
]

# --- Database -----------------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "").strip()
if DATABASE_URL:
    _db = dj_database_url.parse(DATABASE_URL, conn_max_age=0)
    _db.setdefault("OPTIONS", {})
    if _db["ENGINE"] == "django.db.backends.postgresql":
        # Django's psycopg pool (CONN_MAX_AGE must stay 0 with it).
        _db["OPTIONS"]["pool"] = {
            "min_size": int(os.environ.get("KITH_DB_POOL_MIN", "1")),
            "max_size": int(os.environ.get("KITH_DB_POOL_MAX", "10")),
            "timeout": 10,
        }
        _db["TEST"] = {"NAME": os.environ.get("KITH_TEST_DB_NAME", "test_kith")}
    DATABASES = {"default": _db}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("KITH_SQLITE_PATH") or str(DATA_DIR / "kith.sqlite3"),
            "OPTIONS": {
                # BEGIN IMMEDIATE: writers queue on the lock instead of failing on upgrade.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL;"
                    "PRAGMA synchronous=NORMAL;"
                    "PRAGMA foreign_keys=ON;"
                    "PRAGMA temp_store=MEMORY;"
                    "PRAGMA cache_size=-65536;"
                    "PRAGMA mmap_size=268435456;"
                ),
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "core.User"
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("KITH_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise expects it even when serving from the app folders
# Serve app static files straight from the installed package: no collectstatic step for a new user.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = DATA_DIR / "uploads"

# --- Security defaults ---------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("KITH_SECURE_COOKIES")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 14 * 24 * 3600
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Only our own assets; no inline scripts anywhere.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'; "
    "object-src 'none'"
)
# Login throttling: this many failures per (account) or (IP) within the window lock it for the window.
KITH_LOGIN_MAX_FAILURES = int(os.environ.get("KITH_LOGIN_MAX_FAILURES", "5"))
KITH_LOGIN_WINDOW_SECONDS = int(os.environ.get("KITH_LOGIN_WINDOW_SECONDS", "900"))

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

KITH_RECORD_VISIBILITY = os.environ.get("KITH_RECORD_VISIBILITY", "all")
KITH_DEFAULT_REGION = os.environ.get("KITH_DEFAULT_REGION", "US")  # for phone numbers without a +country code

NINJA_PAGINATION_PER_PAGE = 50

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("KITH_LOG_LEVEL", "WARNING")},
    "loggers": {"kith": {"level": os.environ.get("KITH_LOG_LEVEL", "INFO"), "propagate": True}},
}

KITH_TRASH_DAYS = int(os.environ.get("KITH_TRASH_DAYS", "30"))
KITH_DEFAULT_CURRENCY = os.environ.get("KITH_DEFAULT_CURRENCY", "USD")
# Public web forms: at most this many submissions per IP address per form within the window.
KITH_FORM_RATE_LIMIT = int(os.environ.get("KITH_FORM_RATE_LIMIT", "10"))
KITH_FORM_RATE_WINDOW_SECONDS = int(os.environ.get("KITH_FORM_RATE_WINDOW_SECONDS", "600"))
KITH_WORKSPACE_NAME = os.environ.get("KITH_WORKSPACE_NAME", "Kith")  # the seller name on quotes

# Outgoing email (reminders, agendas, notifications, emails sent from records).
# KITH_SMTP_URL: smtp://user:password@host:587?starttls=1  |  smtps://user:password@host:465  |  smtp://127.0.0.1:1025
# Unset: Kith sends no email (in-app notifications still work; sending from a record explains what to set).
KITH_SMTP_URL = os.environ.get("KITH_SMTP_URL", "")
KITH_EMAIL_FROM = os.environ.get("KITH_EMAIL_FROM", "Kith <kith@localhost>")
# The address Kith's links in emails and calendar feeds point at (no trailing slash).
KITH_BASE_URL = os.environ.get("KITH_BASE_URL", "http://127.0.0.1:8000")
# Uploaded import files are kept this many days (for the failed-rows download), then deleted; the import
# records and their counts stay.
KITH_IMPORT_KEEP_DAYS = int(os.environ.get("KITH_IMPORT_KEEP_DAYS", "30"))
# an import that wrote more records than this is undone by a background job (with progress), not in the request
KITH_IMPORT_UNDO_INLINE_MAX = int(os.environ.get("KITH_IMPORT_UNDO_INLINE_MAX", "2000"))
# Exports: up to this many rows download at once, larger ones run as a job; prepared files kept this long.
KITH_EXPORT_STREAM_LIMIT = int(os.environ.get("KITH_EXPORT_STREAM_LIMIT", "5000"))
KITH_EXPORT_KEEP_HOURS = int(os.environ.get("KITH_EXPORT_KEEP_HOURS", "168"))
KITH_EXPORT_DIR = os.environ.get("KITH_EXPORT_DIR", "")
# Likely duplicates below this confidence (0–100) stay out of the review queue.
KITH_DUPLICATES_MIN_CONFIDENCE = int(os.environ.get("KITH_DUPLICATES_MIN_CONFIDENCE", "50"))
