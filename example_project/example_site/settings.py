"""Settings of the example site.

With no environment it runs on SQLite against the embedded sandbox (``make demo``). Environment
variables switch it to real services:

- ``DATABASE_URL`` (e.g. ``postgres://postgres@127.0.0.1:5432/test``), or ``DJANGO_DATABASE_PATH``
  for another SQLite file than ``example_project/db.sqlite3``
- ``DJANGO_MEDIA_ROOT``: where output copies are stored (default ``example_project/media``)
- ``CELERY_BROKER_URL`` (e.g. ``redis://127.0.0.1:6379/0``) with ``BABYSEA_USE_CELERY=1`` to
  run the slow work on a worker (``celery -A example_site worker``), ``CELERY_QUEUE`` its queue
- ``BABYSEA_USER_DAILY_BUDGET``: credits one user may spend per day (``10`` by default; empty for
  no limit)
- ``BABYSEA_API_KEY``, ``BABYSEA_BASE_URL``, ``BABYSEA_REGION``, ``BABYSEA_WEBHOOK_SECRET``
  (the key and the secret are required with ``DJANGO_DEBUG=0``)
- ``BABYSEA_S3_BUCKET`` with ``AWS_S3_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``,
  ``AWS_SECRET_ACCESS_KEY``, ``AWS_S3_REGION_NAME`` to copy outputs into S3
- ``DJANGO_DEBUG`` (``1``/``0``), ``DJANGO_SECRET_KEY``, ``DJANGO_ALLOWED_HOSTS`` (comma-separated)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from django_babysea.sandbox.defaults import DEFAULT_PORT, DEMO_API_KEY, DEMO_WEBHOOK_SECRET

BASE_DIR = Path(__file__).resolve().parent.parent


def env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_flag("DJANGO_DEBUG", True)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-site-insecure-key-for-local-use-only")
ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "django_babysea",
    "gallery",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "example_site.urls"
WSGI_APPLICATION = "example_site.wsgi.application"

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
            ]
        },
    }
]

# SQLite for concurrent writers (runserver is threaded; BabySea may deliver one webhook several
# times at once): take the write lock when a transaction begins instead of failing to upgrade a
# read lock, wait for it up to 20 s, and let readers proceed beside the writer (WAL).
SQLITE_OPTIONS: dict[str, Any] = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}

if os.environ.get("DATABASE_URL"):
    import dj_database_url

    DATABASES = {"default": dj_database_url.config(conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("DJANGO_DATABASE_PATH") or BASE_DIR / "db.sqlite3",
        }
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {**DATABASES["default"].get("OPTIONS", {}), **SQLITE_OPTIONS}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "generate"
LOGOUT_REDIRECT_URL = "gallery"

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "static"
MEDIA_URL = "media/"
MEDIA_ROOT = os.environ.get("DJANGO_MEDIA_ROOT") or BASE_DIR / "media"

STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
BABYSEA_STORAGE = "default"
if os.environ.get("BABYSEA_S3_BUCKET"):
    STORAGES["babysea"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ["BABYSEA_S3_BUCKET"],
            "endpoint_url": os.environ.get("AWS_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("AWS_S3_REGION_NAME") or None,
            "querystring_auth": True,
        },
    }
    BABYSEA_STORAGE = "babysea"


def required_env(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(
            f"{name} must be set when DJANGO_DEBUG=0: outside development the example site "
            "does not fall back to the sandbox's public demo credentials."
        )
    return value


if DEBUG:
    # Without a key of its own the site talks to the embedded sandbox with its documented demo
    # key and secret. They are public, which is why this happens only while DEBUG is on, and why
    # the warning about them (W004) is silenced here; with DEBUG off they are an error (E011).
    _sandbox_default = not os.environ.get("BABYSEA_API_KEY")
    _api_key = os.environ.get("BABYSEA_API_KEY") or DEMO_API_KEY
    _webhook_secrets = os.environ.get(
        "BABYSEA_WEBHOOK_SECRET", DEMO_WEBHOOK_SECRET if _sandbox_default else ""
    )
    SILENCED_SYSTEM_CHECKS = ["django_babysea.W004"]
else:
    _sandbox_default = False
    _api_key = required_env("BABYSEA_API_KEY")
    _webhook_secrets = required_env("BABYSEA_WEBHOOK_SECRET")

BABYSEA = {
    "API_KEY": _api_key,
    "REGION": os.environ.get("BABYSEA_REGION", "us"),
    "BASE_URL": os.environ.get("BABYSEA_BASE_URL")
    or (f"http://127.0.0.1:{DEFAULT_PORT}" if _sandbox_default else None),
    "WEBHOOK_SECRETS": [s.strip() for s in _webhook_secrets.split(",") if s.strip()],
    "STORAGE": BABYSEA_STORAGE,
    # A demo value, so the generate page has a budget to show; a real site picks its own.
    "USER_DAILY_BUDGET": os.environ.get("BABYSEA_USER_DAILY_BUDGET", "10") or None,
    "USE_CELERY": env_flag("BABYSEA_USE_CELERY", False),
}

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or None
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL is None
# The queue of the site's tasks (and of its worker's -Q), so a shared Redis keeps them apart.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_QUEUE", "babysea-example")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        }
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        "django.server": {"class": "logging.StreamHandler", "formatter": "django.server"},
    },
    "loggers": {
        "django_babysea": {"handlers": ["console"], "level": "INFO"},
        # The request log of runserver; the demo sets WARNING so only errors show.
        "django.server": {
            "handlers": ["django.server"],
            "level": os.environ.get("DJANGO_SERVER_LOG_LEVEL", "INFO"),
            "propagate": False,
        },
    },
}

if not DEBUG:
    SECURE_SSL_REDIRECT = env_flag("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
