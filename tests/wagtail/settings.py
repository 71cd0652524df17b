"""Settings of the Wagtail suite: the main test settings plus Wagtail, wagtailmedia and
django_babysea.contrib.wagtail (``pytest tests/wagtail --ds tests.wagtail.settings``)."""

from __future__ import annotations

from tests.settings import *  # noqa: F403
from tests.settings import INSTALLED_APPS, MIDDLEWARE

INSTALLED_APPS = [
    *INSTALLED_APPS,
    "django_babysea.contrib.wagtail",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "wagtailmedia",
    "modelcluster",
    "taggit",
    "tests.wagtail.cms",
]

MIDDLEWARE = [*MIDDLEWARE, "wagtail.contrib.redirects.middleware.RedirectMiddleware"]

ROOT_URLCONF = "tests.wagtail.urls"
WAGTAIL_SITE_NAME = "BabySea tests"
WAGTAILADMIN_BASE_URL = "http://testserver"
WAGTAILDOCS_EXTENSIONS = ["pdf", "txt"]
WAGTAILMEDIA = {"MEDIA_MODEL": "wagtailmedia.Media"}
