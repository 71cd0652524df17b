"""Filters of the generation list: ``?status=``, ``?kind=``, ``?model=``,
``?created_after=`` / ``?created_before=`` (ISO 8601 date or date-time)."""

from __future__ import annotations

import django_filters  # type: ignore[import-untyped]

from django_babysea.models import Generation, GenerationKind, GenerationStatus

__all__ = ["GenerationFilter"]


class GenerationFilter(django_filters.FilterSet):  # type: ignore[misc]
    status = django_filters.MultipleChoiceFilter(choices=GenerationStatus.choices)
    kind = django_filters.ChoiceFilter(choices=GenerationKind.choices)
    model = django_filters.CharFilter(field_name="model_identifier")
    created = django_filters.IsoDateTimeFromToRangeFilter(field_name="created_at")

    class Meta:
        model = Generation
        fields = ("status", "kind", "model", "created")
