"""Settings of the example site.

With no environment it runs on SQLite against the embedded sandbox (``make demo``). Environment
variables switch it to real services:

- ``DATABASE_URL`` (e.g. ``postgres://postgres@127.0.0.1:5432/test``)
- ``CELERY_BROKER_URL`` (e.g. ``redis://127.0.0.1:6379/0``)
- ``BABYSEA_API_KEY``, ``BABYSEA_BASE_URL``, ``BABYSEA_REGION``, ``BABYSEA_WEBHOOK_SECRET``
- ``BABYSEA_S3_BUCKET`` with ``AWS_S3_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``,
  ``AWS_SECRET_ACCESS_KEY``, ``AWS_S3_REGION_NAME`` to copy outputs into S3
- ``DJANGO_DEBUG`` (``1``/``0``), ``DJANGO_SECRET_KEY``, ``DJANGO_ALLOWED_HOSTS`` (comma-separated)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

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
    "django_babysea",
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

if os.environ.get("DATABASE_URL"):
    import dj_database_url

    DATABASES = {"default": dj_database_url.config(conn_max_age=60)}
else:
    DATABASES = {
        "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "static"
MEDIA_URL = "media/"
MEDIA_ROOT = BASE_DIR / "media"

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

# Without a key of its own the site talks to the embedded sandbox with its documented demo key.
_sandbox_default = not os.environ.get("BABYSEA_API_KEY")
BABYSEA = {
    "API_KEY": os.environ.get("BABYSEA_API_KEY") or DEMO_API_KEY,
    "REGION": os.environ.get("BABYSEA_REGION", "us"),
    "BASE_URL": os.environ.get("BABYSEA_BASE_URL")
    or (f"http://127.0.0.1:{DEFAULT_PORT}" if _sandbox_default else None),
    "WEBHOOK_SECRETS": [
        s.strip()
        for s in os.environ.get(
            "BABYSEA_WEBHOOK_SECRET", DEMO_WEBHOOK_SECRET if _sandbox_default else ""
        ).split(",")
        if s.strip()
    ],
    "STORAGE": BABYSEA_STORAGE,
}

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or None
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL is None

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django_babysea": {"handlers": ["console"], "level": "INFO"}},
}

if not DEBUG:
    SECURE_SSL_REDIRECT = env_flag("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
