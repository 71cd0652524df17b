"""The Generate tab's form: where the image goes (the library half) beside the fields the chosen
model accepts (the admin's :class:`GenerationRequestForm`, built from the cached catalog)."""

from __future__ import annotations

from typing import Any, Final

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from taggit.utils import parse_tags
from wagtail.models import Collection

from django_babysea.admin.forms import GenerationRequestForm
from django_babysea.models import CatalogModel

__all__ = ["PREFIX", "LibraryForm", "generation_form", "price_label"]

#: Both forms share one ``<form>`` inside the chooser modal, which lives in the page editor:
#: a prefix keeps their ids (``id_babysea-title``) apart from the page's own (``id_title``).
PREFIX: Final = "babysea"
MAX_TAGS: Final = 20


def price_label(model: CatalogModel) -> str:
    """``0.003 credits per output``, or the range when the price depends on the resolution."""
    pricing = model.pricing
    if isinstance(pricing, int | float) and not isinstance(pricing, bool):
        return str(_("%(price)s credits per output") % {"price": f"{pricing:.3f}"})
    if isinstance(pricing, dict) and pricing:
        prices = [float(p) for p in pricing.values() if isinstance(p, int | float)]
        if prices:
            return str(
                _("%(low)s to %(high)s credits per output")
                % {"low": f"{min(prices):.3f}", "high": f"{max(prices):.3f}"}
            )
    return str(_("price unknown"))


class LibraryForm(forms.Form):
    """The model, and the image's place in the library: collection, title, alt text, tags."""

    model = forms.ChoiceField(label=_("Model"))
    collection = forms.ModelChoiceField(
        label=_("Collection"), queryset=Collection.objects.none(), empty_label=None
    )
    title = forms.CharField(
        label=_("Title"),
        max_length=255,
        required=False,
        help_text=_("Empty: the start of the prompt."),
    )
    description = forms.CharField(
        label=_("Alt text"),
        max_length=255,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("What the image shows, for people who cannot see it. Empty: the prompt."),
    )
    tags = forms.CharField(
        label=_("Tags"), max_length=255, required=False, help_text=_("Separated by commas.")
    )

    def __init__(
        self,
        *args: Any,
        models: list[CatalogModel],
        collections: QuerySet[Collection],
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("prefix", PREFIX)
        super().__init__(*args, **kwargs)
        model_field = self.fields["model"]
        assert isinstance(model_field, forms.ChoiceField)
        model_field.choices = [
            (m.model_identifier, f"{m.model_identifier} ({price_label(m)})") for m in models
        ]
        collection_field = self.fields["collection"]
        assert isinstance(collection_field, forms.ModelChoiceField)
        collection_field.queryset = collections
        if len(collections) == 1:
            # One place to go: say nothing about it (as Wagtail's upload form does).
            collection_field.widget = forms.HiddenInput()
            collection_field.initial = collections[0].pk

    def clean_tags(self) -> list[str]:
        tags = [tag[:100] for tag in parse_tags(self.cleaned_data.get("tags") or "")]
        if len(tags) > MAX_TAGS:
            raise forms.ValidationError(
                _("At most %(count)d tags, please."), params={"count": MAX_TAGS}
            )
        return tags


def generation_form(model: CatalogModel, data: Any = None, **kwargs: Any) -> GenerationRequestForm:
    """The admin's create form for ``model``, under the tab's prefix."""
    return GenerationRequestForm(data, model=model, prefix=PREFIX, **kwargs)
