"""The REST API's URLs, included under ``api/`` by :mod:`django_babysea.urls`."""

from __future__ import annotations

from django.urls import URLPattern, path

from .account import BudgetView, EstimateView
from .views import (
    GenerationCancelView,
    GenerationDetailView,
    GenerationListView,
    GenerationStatusView,
    ModelListView,
)

urlpatterns: list[URLPattern] = [
    path("generations/", GenerationListView.as_view(), name="babysea-api-generations"),
    path("generations/<str:pk>/", GenerationDetailView.as_view(), name="babysea-api-generation"),
    path(
        "generations/<str:pk>/cancel/",
        GenerationCancelView.as_view(),
        name="babysea-api-generation-cancel",
    ),
    path(
        "generations/<str:pk>/status/",
        GenerationStatusView.as_view(),
        name="babysea-api-generation-status",
    ),
    path("models/", ModelListView.as_view(), name="babysea-api-models"),
    path("estimate/", EstimateView.as_view(), name="babysea-api-estimate"),
    path("budget/", BudgetView.as_view(), name="babysea-api-budget"),
]
