"""URLs of the Generate tab, registered under the Wagtail admin by :mod:`.hooks`."""

from __future__ import annotations

from django.urls import URLPattern, path

from .views import GenerateView, estimate_view, status_view

app_name = "babysea_wagtail_chooser"

urlpatterns: list[URLPattern] = [
    path("generate/", GenerateView.as_view(), name="generate"),
    path("estimate/", estimate_view, name="estimate"),
    path("status/<uuid:pk>/", status_view, name="status"),
]
