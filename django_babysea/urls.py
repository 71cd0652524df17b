"""URLs to include under a prefix of the site's choice: ``path("babysea/", include(...))``."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from .views import WebhookView

app_name = "django_babysea"

# The REST API registers here as it is added.
urlpatterns: list[URLPattern | URLResolver] = [
    path("webhook/", WebhookView.as_view(), name="webhook"),
]
