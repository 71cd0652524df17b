"""The filters of the Generations list: status, kind, model, owner, created date, prompt."""

from __future__ import annotations

from typing import Any

import django_filters
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet

from django_babysea.models import CatalogModel, Generation, GenerationKind, GenerationStatus

from .access import sees_everyone

__all__ = ["GenerationFilterSet"]


def _model_choices() -> list[tuple[str, str]]:
    # The cached catalog names the models one may filter by; one query when the form renders.
    names = CatalogModel.objects.order_by("model_identifier").values_list(
        "model_identifier", flat=True
    )
    return [(name, name) for name in names]


class GenerationFilterSet(WagtailFilterSet):  # type: ignore[misc]
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=GenerationStatus.choices, empty_label=_("Any status")
    )
    kind = django_filters.ChoiceFilter(
        label=_("Kind"), choices=GenerationKind.choices, empty_label=_("Images and videos")
    )
    model_identifier = django_filters.ChoiceFilter(
        label=_("Model"), choices=_model_choices, empty_label=_("Any model")
    )
    owner = django_filters.ModelChoiceFilter(
        label=_("Owner"), queryset=get_user_model().objects.none(), empty_label=_("Anyone")
    )
    created_at = django_filters.DateFromToRangeFilter(
        label=_("Created"), widget=DateRangePickerWidget
    )
    prompt = django_filters.CharFilter(label=_("Prompt contains"), lookup_expr="icontains")

    class Meta:
        model = Generation
        fields: tuple[str, ...] = (
            "status",
            "kind",
            "model_identifier",
            "owner",
            "created_at",
            "prompt",
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        user = getattr(self.request, "user", None)
        if sees_everyone(user):
            # Only people who own generations, so the list stays short on a busy site.
            users = get_user_model().objects.filter(babysea_generations__isnull=False)
            self.filters["owner"].queryset = users.distinct().order_by(
                get_user_model().USERNAME_FIELD
            )
        else:
            # Everyone else sees their own generations only: no owner to choose.
            del self.filters["owner"]
