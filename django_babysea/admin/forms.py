"""The create form: built from one cached catalog entry, validated by the catalog validator."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping
from typing import Any, Final

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from django_babysea.models import CatalogModel, Generation
from django_babysea.services import provider_order_choices, validate_request

__all__ = ["GenerationRequestForm", "form_idempotency_key", "initial_from"]

TOKEN: Final = re.compile(r"[0-9a-f]{32}")
YES_NO: Final = (("", _("Model default")), ("true", _("Yes")), ("false", _("No")))


def _yes_no(value: str) -> bool:
    return value == "true"


def _yes_no_field(label: Any) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label, choices=YES_NO, coerce=_yes_no, empty_value=None, required=False
    )


def _extra_field(key: str) -> forms.Field:
    """A form field for a model-specific key; known keys get a typed field."""
    known: dict[str, forms.Field] = {
        "generation_seed": forms.IntegerField(
            label=_("Seed"), required=False, help_text=_("The same seed repeats a result.")
        ),
        "generation_guidance": forms.FloatField(label=_("Guidance"), required=False),
        "generation_negative_prompt": forms.CharField(
            label=_("Negative prompt"),
            required=False,
            widget=forms.Textarea(attrs={"rows": 2}),
            help_text=_("What the image should not show."),
        ),
        "generation_safety_tolerance": forms.IntegerField(
            label=_("Safety tolerance"), required=False
        ),
        "generation_camera_fixed": _yes_no_field(_("Fixed camera")),
        "generation_prompt_optimizer": _yes_no_field(_("Optimise the prompt")),
        "generation_input_file_last_content": forms.URLField(
            label=_("Last frame (URL)"),
            required=False,
            assume_scheme="https",
            help_text=_("A public https:// image the video ends on."),
        ),
    }
    if key in known:
        return known[key]
    label = key.removeprefix("generation_").replace("_", " ").capitalize()
    return forms.CharField(label=label, required=False)


def _choices(values: list[Any], default: str | None = None) -> list[tuple[Any, Any]]:
    blank: list[tuple[Any, Any]] = [("", default)] if default else []
    return blank + [(str(value), str(value)) for value in values]


class GenerationRequestForm(forms.Form):
    """The fields ``model`` accepts, and nothing else. ``cleaned_request`` holds the
    ``generation_*`` body once the form is valid."""

    form_token = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, model: CatalogModel, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.model = model
        self.cleaned_request: dict[str, Any] = {}
        self.fields["form_token"].initial = secrets.token_hex(16)
        self.fields.update(self._model_fields(model))

    @staticmethod
    def _model_fields(model: CatalogModel) -> dict[str, forms.Field]:
        schema: Mapping[str, Any] = model.schema or {}
        fields: dict[str, forms.Field] = {
            "generation_prompt": forms.CharField(
                label=_("Prompt"), max_length=10_000, widget=forms.Textarea(attrs={"rows": 4})
            )
        }
        if schema.get("generation_ratio"):
            fields["generation_ratio"] = forms.ChoiceField(
                label=_("Aspect ratio"), choices=_choices(schema["generation_ratio"])
            )
        if schema.get("generation_output_format"):
            fields["generation_output_format"] = forms.ChoiceField(
                label=_("Output format"), choices=_choices(schema["generation_output_format"])
            )
        most = int(schema.get("generation_output_number") or 1)
        if most > 1:
            fields["generation_output_number"] = forms.IntegerField(
                label=_("Number of outputs"), min_value=1, max_value=most, initial=1
            )
        if schema.get("generation_duration"):
            fields["generation_duration"] = forms.TypedChoiceField(
                label=_("Duration (seconds)"),
                choices=_choices(schema["generation_duration"]),
                coerce=int,
            )
        if schema.get("generation_resolution"):
            fields["generation_resolution"] = forms.ChoiceField(
                label=_("Resolution"), choices=_choices(schema["generation_resolution"])
            )
        if schema.get("generation_generate_audio"):
            fields["generation_generate_audio"] = forms.BooleanField(
                label=_("Generate audio"), required=False, initial=True
            )
        if schema.get("generation_input_file"):
            fields["generation_input_file"] = forms.CharField(
                label=_("Input files (URLs)"),
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
                help_text=_("Public https:// URLs, one per line."),
            )
        orders = provider_order_choices(model)
        if orders:
            fields["generation_provider_order"] = forms.ChoiceField(
                label=_("Provider order"),
                choices=_choices(orders, str(_("Model default"))),
                required=False,
                help_text=_("Which providers BabySea tries, in order."),
            )
        for key in model.specific_schema or []:
            if isinstance(key, str) and key.startswith("generation_") and key not in fields:
                fields[key] = _extra_field(key)
        return fields

    def clean_form_token(self) -> str:
        token = str(self.cleaned_data["form_token"])
        if not TOKEN.fullmatch(token):
            raise ValidationError(_("This form is damaged; open it again."))
        return token

    def clean_generation_input_file(self) -> list[str]:
        text = str(self.cleaned_data.get("generation_input_file") or "")
        return [line.strip() for line in text.splitlines() if line.strip()]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        values = {key: value for key, value in cleaned.items() if key.startswith("generation_")}
        try:
            self.cleaned_request = validate_request(self.model.model_identifier, values)
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                if key in self.fields and key not in self.errors:
                    self.add_error(key, messages)
                elif key not in self.fields:
                    self.add_error(None, messages)
        return cleaned


def form_idempotency_key(token: str, user_pk: object) -> str:
    """The generation's idempotency key for one shown form and one user: posting the same
    form again finds the row it made."""
    digest = hashlib.sha256(f"{user_pk}:{token}".encode()).hexdigest()[:40]
    return f"django-babysea:form:{digest}"


def initial_from(generation: Generation, model: CatalogModel) -> dict[str, Any]:
    """Initial values for "duplicate with changes": the fields of ``generation``'s request
    that ``model`` still accepts, shaped for the form."""
    fields = GenerationRequestForm._model_fields(model)
    initial: dict[str, Any] = {}
    for key, value in (generation.request or {}).items():
        if key not in fields or value is None:
            continue
        if key == "generation_input_file":
            value = "\n".join(value) if isinstance(value, list) else str(value)
        elif isinstance(value, bool) and isinstance(fields[key], forms.TypedChoiceField):
            value = "true" if value else "false"
        initial[key] = value
    return initial
