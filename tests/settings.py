"""Test settings: SQLite in memory, or PostgreSQL when BABYSEA_TEST_DATABASE_URL is set."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

SECRET_KEY = "tests-only-not-secret"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "tests.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    # The Tasks framework's database backend (tests/tasks_backend): its table in every test DB.
    "django_tasks_db",
    "django_babysea",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

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
            ]
        },
    }
]

_database_url = os.environ.get("BABYSEA_TEST_DATABASE_URL")
if _database_url:
    import dj_database_url

    DATABASES = {"default": dj_database_url.parse(_database_url)}
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}

STATIC_URL = "/static/"
MEDIA_URL = "/media/"

BABYSEA = {
    "API_KEY": "bye_tests_settings_key_0000000000000000",
    "WEBHOOK_SECRETS": ["whsec_tests_settings_secret_00000000"],
}

# Output copies land in a throwaway directory, removed when the test run ends.
MEDIA_ROOT = tempfile.mkdtemp(prefix="babysea-tests-media-")
atexit.register(shutil.rmtree, MEDIA_ROOT, ignore_errors=True)
