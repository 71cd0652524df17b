"""Settings of the Wagtail example site: the example site's settings (same environment
variables, see ``settings``) plus Wagtail, wagtailmedia, django_babysea.contrib.wagtail and the
``cms`` pages. The Wagtail admin is at ``/cms/``, the pages at ``/`` (``make demo-wagtail``).
"""

from __future__ import annotations

from .settings import *  # noqa: F403
from .settings import INSTALLED_APPS, MIDDLEWARE

INSTALLED_APPS = [
    *INSTALLED_APPS,
    "django_babysea.contrib.wagtail",
    "cms",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
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
]

MIDDLEWARE = [*MIDDLEWARE, "wagtail.contrib.redirects.middleware.RedirectMiddleware"]

ROOT_URLCONF = "example_site.urls_wagtail"
WAGTAIL_SITE_NAME = "Northern coasts"
WAGTAILADMIN_BASE_URL = "http://127.0.0.1:8000"
WAGTAILMEDIA = {"MEDIA_MODEL": "wagtailmedia.Media"}
# Wagtail's search on the database (no search server for an example).
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
# The Wagtail admin signs in at its own page; the gallery's login stays at /gallery/.
LOGIN_URL = "wagtailadmin_login"
LOGIN_REDIRECT_URL = "wagtailadmin_home"
LOGOUT_REDIRECT_URL = "wagtailadmin_login"
