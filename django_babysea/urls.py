"""URLs to include under a prefix of the site's choice: ``path("babysea/", include(...))``."""

from __future__ import annotations

from importlib.util import find_spec

from django.urls import URLPattern, URLResolver, include, path

from .live.sse import events_view
from .live.views import status_view
from .views import WebhookView

app_name = "django_babysea"

urlpatterns: list[URLPattern | URLResolver] = [
    path("webhook/", WebhookView.as_view(), name="webhook"),
    # Live status of the generations a page shows (docs/live-status.md).
    path("status/", status_view, name="status"),
    # Server-sent events: ASGI only (501 under WSGI).
    path("status/events/", events_view, name="status_events"),
]

# The REST API needs the `api` extra (Django REST framework and django-filter).
if find_spec("rest_framework") is not None and find_spec("django_filters") is not None:
    urlpatterns.append(path("api/", include("django_babysea.api.urls")))
