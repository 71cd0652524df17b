"""URLs to include under a prefix of the site's choice: ``path("babysea/", include(...))``."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver

app_name = "django_babysea"

# The webhook receiver and the REST API register here as they are added.
urlpatterns: list[URLPattern | URLResolver] = []
