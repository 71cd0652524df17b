"""The history list and the inspect view of the Generations area."""

from __future__ import annotations

import json
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.tables import Column, DateColumn, TitleColumn
from wagtail.admin.views import generic
from wagtail.admin.views.generic.history import HistoryView
from wagtail.admin.widgets.button import Button, ButtonWithDropdown, HeaderButton

from django_babysea.models import CreditEvent, Generation
from django_babysea.services.media import media_for, with_media

from .access import scoped, sees_everyone
from .display import STATUS_TONES, CreditsColumn, StatusColumn, ThumbnailColumn, credits
from .items import library_items_of
from .offers import Offers

__all__ = [
    "GenerationHistoryView",
    "GenerationIndexView",
    "GenerationInspectView",
    "area_queryset",
    "prompt_line",
]

PROMPT_CHARS = 80


def prompt_line(generation: Generation) -> str:
    return Truncator(generation.prompt or "—").chars(PROMPT_CHARS)


def area_queryset(user: Any) -> QuerySet[Generation]:
    """What the user may see, with what a row renders (owner, outputs, library items): a page
    of any length costs the same few queries."""
    return with_media(scoped(user).select_related("owner")).prefetch_related("library_items")


class GenerationIndexView(generic.IndexView):  # type: ignore[misc]
    default_ordering = "-created_at"
    page_title = _("Generations")

    def get_base_queryset(self) -> QuerySet[Generation]:
        return area_queryset(self.request.user)

    @cached_property
    def columns(self) -> list[Column]:
        columns = [
            ThumbnailColumn(),
            self._get_title_column_class(TitleColumn)(
                "prompt",
                label=_("Prompt"),
                accessor=prompt_line,
                get_url=self.get_inspect_url,
            ),
            Column("model_identifier", label=_("Model"), sort_key="model_identifier"),
            Column("kind", label=_("Kind"), accessor="get_kind_display"),
            StatusColumn("status", label=_("Status"), sort_key="status"),
            CreditsColumn("cost_charged", label=_("Credits charged"), sort_key="cost_charged"),
            DateColumn("created_at", label=_("Created"), sort_key="created_at"),
        ]
        if sees_everyone(self.request.user):
            columns.insert(5, Column("owner", label=_("Owner"), accessor="owner"))
        return columns

    @cached_property
    def offers(self) -> Offers:
        return Offers(self.request.user)

    def get_list_more_buttons(self, instance: Generation) -> list[Any]:
        buttons: list[Any] = super().get_list_more_buttons(instance)
        for offer in self.offers.for_generation(instance):
            buttons.append(Button(offer.label, url=offer.url, icon_name=offer.icon, priority=50))
        return buttons

    def get_context_data(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context_data(*args, **kwargs)
        context["usage_report_url"] = reverse("babysea_generations:usage_report")
        return context

    @cached_property
    def header_buttons(self) -> list[Any]:
        return [
            HeaderButton(
                _("Usage report"),
                url=reverse("babysea_generations:usage_report"),
                icon_name="table",
            )
        ]


class GenerationHistoryView(HistoryView):  # type: ignore[misc]
    """The audit log of one generation (generate, cancel, delete, import), for who may see it."""

    any_permission_required = ("view",)

    def get_base_object_queryset(self) -> QuerySet[Generation]:
        return scoped(self.request.user)


class GenerationInspectView(generic.InspectView):  # type: ignore[misc]
    template_name = "babysea_wagtail/area/inspect.html"

    def get_object(self, queryset: Any = None) -> Generation:
        generation = area_queryset(self.request.user).filter(pk=self.pk).first()
        if generation is None:
            # Someone else's generation is, for this user, one that does not exist.
            raise Http404
        return generation

    def get_page_subtitle(self) -> str:
        return prompt_line(self.object)

    def get_fields(self) -> list[str]:
        return []

    @cached_property
    def header_more_buttons(self) -> list[Any]:
        return []

    @cached_property
    def header_buttons(self) -> list[Any]:
        offered = Offers(self.request.user).for_generation(self.object)
        if not offered:
            return []
        first, *rest = offered
        buttons: list[Any] = [HeaderButton(first.label, url=first.url, icon_name=first.icon)]
        if rest:
            buttons.append(
                ButtonWithDropdown(
                    label=_("More actions"),
                    icon_name="dots-horizontal",
                    buttons=[Button(o.label, url=o.url, icon_name=o.icon) for o in rest],
                    attrs={"aria-label": _("More actions")},
                )
            )
        return buttons

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context_data(**kwargs)
        generation: Generation = self.object
        context.update(
            generation=generation,
            status_tone=STATUS_TONES.get(generation.status, "secondary"),
            credits_reserved=credits(generation.cost_reserved),
            credits_charged=credits(generation.cost_charged),
            outputs=[(output, media_for(output)) for output in generation.outputs.all()],
            ledger=CreditEvent.objects.filter(generation=generation).order_by("created_at", "pk"),
            library_items=library_items_of(generation, self.request.user),
            request_json=json.dumps(generation.request, indent=2, sort_keys=True, default=str),
            history_url=reverse("babysea_generations:history", args=[generation.pk]),
            index_url=reverse("babysea_generations:index"),
        )
        return context
