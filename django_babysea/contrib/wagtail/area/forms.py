"""The forms of the area's actions: where outputs go, what to refine with, the variants."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from wagtail.models import Collection

from django_babysea.contrib.wagtail import permissions
from django_babysea.models import GenerationOutput

from .refining import input_models

__all__ = ["ConfirmForm", "ImportForm", "RefineForm", "RegenerateForm", "VariantsForm"]

MAX_PROMPT = 4000


class ConfirmForm(forms.Form):
    """Nothing to choose: the POST itself is the confirmation."""


class _CollectionChoice(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Collection) -> str:
        # Nested collections read as a path, as in Wagtail's own collection choosers.
        depth = max(int(obj.depth) - 2, 0)
        return f"{'— ' * depth}{obj.name}"


class _LibraryForm(forms.Form):
    """A collection ``user`` may add images to, and a token that makes a double POST submit
    one generation (the idempotency key)."""

    token = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        collections = permissions.collections_for(user)
        self.fields["collection"] = _CollectionChoice(
            label=_("Collection"),
            queryset=collections,
            initial=self.initial.get("collection") or collections.first(),
            empty_label=None,
            help_text=_("Where the outputs go in the image library."),
        )
        self.fields["token"].initial = uuid.uuid4()

    def idempotency_key(self, action: str) -> str:
        return f"babysea-wagtail:{action}:{self.cleaned_data['token'].hex}"


class ImportForm(_LibraryForm):
    pass


class RegenerateForm(_LibraryForm):
    pass


class _OutputChoice(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: GenerationOutput) -> str:
        return str(_("Output %(number)d") % {"number": obj.index + 1})


class RefineForm(_LibraryForm):
    """An output to start from, a model that accepts input files, and what to change."""

    def __init__(self, *args: Any, user: Any, outputs: list[GenerationOutput], **kwargs: Any):
        super().__init__(*args, user=user, **kwargs)
        self.fields["output"] = _OutputChoice(
            label=_("Start from"),
            queryset=GenerationOutput.objects.filter(pk__in=[o.pk for o in outputs]),
            initial=outputs[0].pk if outputs else None,
            empty_label=None,
            widget=forms.RadioSelect,
        )
        models = input_models()
        names = [model.model_identifier for model in models]
        self.fields["model"] = forms.ChoiceField(
            label=_("Model"),
            choices=[(name, name) for name in names],
            help_text=_("Models whose catalog entry accepts input files."),
        )
        self.fields["prompt"] = forms.CharField(
            label=_("Prompt"),
            max_length=MAX_PROMPT,
            widget=forms.Textarea(attrs={"rows": 4}),
            help_text=_("What to change in the image."),
        )
        self.order_fields(["output", "model", "prompt", "collection"])


class VariantsForm(_LibraryForm):
    """The bulk action's form: one generation per selected image."""

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        models = [model.model_identifier for model in input_models()]
        self.fields["model"] = forms.ChoiceField(
            label=_("Model"),
            choices=[(name, name) for name in models],
            help_text=_("Models whose catalog entry accepts input files."),
        )
        self.fields["prompt"] = forms.CharField(
            label=_("Prompt"),
            max_length=MAX_PROMPT,
            widget=forms.Textarea(attrs={"rows": 4}),
            help_text=_("What each variant should be, e.g. 'the same scene at dusk'."),
        )
        collection = self.fields["collection"]
        assert isinstance(collection, _CollectionChoice)
        collection.required = False
        collection.empty_label = _("The collection of each image")
        collection.initial = None
        self.order_fields(["model", "prompt", "collection"])
