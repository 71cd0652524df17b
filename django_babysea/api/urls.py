"""The REST API's URLs, included under ``api/`` by :mod:`django_babysea.urls`.

With drf-spectacular installed (the ``openapi`` extra), ``schema/`` serves the API's OpenAPI 3
schema; without it the API works the same, with no ``schema/`` route.
"""

from __future__ import annotations

from django.urls import URLPattern, path

from .account import BudgetView, EstimateView
from .openapi import spectacular_installed
from .views import (
    GenerationCancelView,
    GenerationDetailView,
    GenerationListView,
    GenerationStatusView,
    ModelListView,
)

urlpatterns: list[URLPattern] = [
    path("generations/", GenerationListView.as_view(), name="babysea-api-generations"),
    path("generations/<str:id>/", GenerationDetailView.as_view(), name="babysea-api-generation"),
    path(
        "generations/<str:id>/cancel/",
        GenerationCancelView.as_view(),
        name="babysea-api-generation-cancel",
    ),
    path(
        "generations/<str:id>/status/",
        GenerationStatusView.as_view(),
        name="babysea-api-generation-status",
    ),
    path("models/", ModelListView.as_view(), name="babysea-api-models"),
    path("estimate/", EstimateView.as_view(), name="babysea-api-estimate"),
    path("budget/", BudgetView.as_view(), name="babysea-api-budget"),
]

if spectacular_installed():
    from .schema import BabySeaSchemaView

    urlpatterns.append(path("schema/", BabySeaSchemaView.as_view(), name="api-schema"))
