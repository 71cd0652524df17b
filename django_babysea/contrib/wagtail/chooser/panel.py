"""What the Generate tab shows: the form for one image model, the estimate's address, the
editor's budget, or why nothing can be generated now."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest, QueryDict
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _

from django_babysea.admin.forms import GenerationRequestForm
from django_babysea.contrib.wagtail.permissions import collections_for
from django_babysea.models import CatalogModel
from django_babysea.services import CatalogUnavailableError, budget_status, load_catalog

from .forms import PREFIX, LibraryForm, generation_form, price_label

__all__ = ["Panel", "image_models", "render_panel", "render_unavailable"]

TEMPLATES = "babysea_wagtail/chooser/"
#: The fields most images are made with; the model's others wait under "More options".
MAIN_FIELDS = ("generation_ratio", "generation_output_format", "generation_resolution")
#: Query parameters of the chooser kept on the way to Wagtail's "chosen" step (rich text asks
#: for a format: ``select_format``).
PRESERVED = ("select_format",)


@dataclass
class Panel:
    """The two halves of the tab's form, for the model they were built for."""

    model: CatalogModel
    library: LibraryForm
    fields: GenerationRequestForm
    stale: str = ""
    errors: list[str] = field(default_factory=list)


def image_models() -> tuple[list[CatalogModel], str]:
    """The image models of the cached catalog (refreshed when stale), and the reason when the
    catalog is stale. Raises :class:`CatalogUnavailableError` when there is none at all."""
    catalog = load_catalog()
    return [m for m in catalog.models if m.kind == "image"], catalog.error


def pick_model(models: list[CatalogModel], wanted: str | None) -> CatalogModel:
    """The model asked for, else the first healthy one, else the first."""
    for model in models:
        if model.model_identifier == wanted:
            return model
    healthy = [m for m in models if m.health in ("", "healthy")]
    return (healthy or models)[0]


def _initial(query: QueryDict, names: list[str]) -> dict[str, Any]:
    """Values the script carries over when the model changes (``babysea-<name>`` in the query)."""
    return {
        name: query[f"{PREFIX}-{name}"]
        for name in names
        if f"{PREFIX}-{name}" in query and name != "form_token"
    }


def build_panel(request: HttpRequest, data: QueryDict | None = None) -> Panel:
    """The forms for a GET (unbound, with what the editor typed before switching model) or a
    POST (bound to ``data``)."""
    models, stale = image_models()
    if not models:
        raise CatalogUnavailableError(_("BabySea's catalog lists no image model right now."))
    source = data if data is not None else request.GET
    model = pick_model(models, source.get(f"{PREFIX}-model"))
    collections = collections_for(request.user)
    if data is not None:
        library = LibraryForm(data, models=models, collections=collections)
        fields = generation_form(model, data)
    else:
        library = LibraryForm(
            initial={
                **_initial(source, list(LibraryForm.base_fields)),
                "model": model.model_identifier,
            },
            models=models,
            collections=collections,
        )
        names = list(GenerationRequestForm._model_fields(model))
        fields = generation_form(model, initial=_initial(source, names))
    return Panel(model=model, library=library, fields=fields, stale=stale)


def preserved_query(query: Mapping[str, str]) -> str:
    kept = QueryDict(mutable=True)
    for name in PRESERVED:
        if query.get(name):
            kept[name] = query[name]
    return f"?{kept.urlencode()}" if kept else ""


def _budget_text(request: HttpRequest) -> str:
    budget = budget_status(request.user)
    if budget.remaining is None:
        return ""
    return _(
        "Your budget today: %(remaining)s of %(limit)s credits left (resets %(resets_at)s)."
    ) % {
        "remaining": f"{budget.remaining:.3f}",
        "limit": f"{budget.limit:.3f}",
        "resets_at": date_format(localtime(budget.resets_at), "DATETIME_FORMAT"),
    }


def render_panel(request: HttpRequest, panel: Panel) -> str:
    """The tab's content: the form, the price, the estimate's place, the budget."""
    query = preserved_query(request.GET)
    others = [f for f in panel.fields.visible_fields() if f.name != "generation_prompt"]
    more = [f for f in others if f.name not in MAIN_FIELDS]
    context = {
        "main_fields": [f for f in others if f.name in MAIN_FIELDS],
        "more_fields": more,
        "more_open": any(f.errors for f in more),
        "panel": panel,
        "library": panel.library,
        "fields": panel.fields,
        "model": panel.model,
        "price": price_label(panel.model),
        "action_url": reverse("babysea_wagtail_chooser:generate") + query,
        "estimate_url": reverse("babysea_wagtail_chooser:estimate"),
        "budget_text": _budget_text(request),
        "prefix": PREFIX,
    }
    return render_to_string(TEMPLATES + "panel.html", context, request)


def render_unavailable(request: HttpRequest, reason: str) -> str:
    return render_to_string(TEMPLATES + "unavailable.html", {"reason": reason}, request)
