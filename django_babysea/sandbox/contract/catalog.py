"""The model and provider catalog the sandbox serves (package data, contract section 9)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any, Literal

__all__ = ["Catalog", "Model", "Provider", "load_catalog"]

MediaType = Literal["image", "video"]

#: Input-file count limits seen in community code (contract section 9.3); others take one file.
_MULTI_INPUT_PREFIXES = ("bfl/flux-2-", "runway/gen4-image")
_MULTI_INPUT_LIMIT = 3

#: Provider-native model ids shown by ``/v1/health/inference/models`` where they are known.
_RAW_IDS: dict[tuple[str, str], str] = {
    ("bfl/flux-schnell", "bfl"): "flux-dev-schnell",
    ("bfl/flux-schnell", "replicate"): "black-forest-labs/flux-schnell",
    ("bfl/flux-schnell", "cloudflare"): "@cf/black-forest-labs/flux-1-schnell",
    ("google/veo-2", "fal"): "fal-ai/veo2",
    ("bytedance/seedance-1-pro", "byteplus"): "seedance-1-0-pro-250528",
}
_REPLICATE_OWNERS = {"bfl": "black-forest-labs"}


@dataclass(frozen=True)
class Provider:
    provider_id: str
    cancel_method: str | None
    raw: dict[str, Any]


@dataclass(frozen=True)
class Model:
    """One catalog entry with typed access to the parts validation and pricing need."""

    identifier: str
    media_type: MediaType
    pricing: Decimal | dict[str, Decimal] | None
    providers: tuple[str, ...]
    ratios: tuple[str, ...]
    output_formats: tuple[str, ...]
    output_number: int
    input_file: bool
    durations: tuple[int, ...] = ()
    resolutions: tuple[str, ...] = ()
    audio: bool = False
    specific: tuple[str, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def input_file_limit(self) -> int:
        if self.identifier.startswith(_MULTI_INPUT_PREFIXES):
            return _MULTI_INPUT_LIMIT
        return 1

    @property
    def default_resolution(self) -> str | None:
        return self.resolutions[0] if self.resolutions else None

    @property
    def resolution_priced(self) -> bool:
        return isinstance(self.pricing, dict)

    def raw_model_id(self, provider: str) -> str | None:
        known = _RAW_IDS.get((self.identifier, provider))
        if known is not None:
            return known
        lab, _, name = self.identifier.partition("/")
        if provider == "replicate":
            return f"{_REPLICATE_OWNERS.get(lab, lab)}/{name}"
        if provider == "fal":
            return f"fal-ai/{lab}/{name}"
        if provider == "cloudflare":
            return f"@cf/{lab}/{name}"
        return name


def _decimal_pricing(value: Any) -> Decimal | dict[str, Decimal] | None:
    if value is None:
        return None
    if isinstance(value, dict):
        return {str(k): Decimal(str(v)) for k, v in value.items()}
    return Decimal(str(value))


def _model(entry: dict[str, Any]) -> Model:
    schema: dict[str, Any] = entry["schema"]
    return Model(
        identifier=entry["model_identifier"],
        media_type=entry["model_type"],
        pricing=_decimal_pricing(entry.get("model_pricing")),
        providers=tuple(entry["model_supported_provider"]),
        ratios=tuple(schema.get("generation_ratio", ())),
        output_formats=tuple(schema.get("generation_output_format", ())),
        output_number=int(schema.get("generation_output_number", 1)),
        input_file=bool(schema.get("generation_input_file", False)),
        durations=tuple(int(d) for d in schema.get("generation_duration", ())),
        resolutions=tuple(schema.get("generation_resolution", ())),
        audio=bool(schema.get("generation_generate_audio", False)),
        specific=tuple(entry.get("specific_schema", ())),
        raw=entry,
    )


@dataclass(frozen=True)
class Catalog:
    models: dict[str, Model]
    providers: dict[str, Provider]
    models_payload: list[dict[str, Any]]
    providers_payload: list[dict[str, Any]]

    def get(self, identifier: str) -> Model | None:
        return self.models.get(identifier)


def _read(name: str) -> dict[str, Any]:
    text = resources.files("django_babysea.sandbox").joinpath("data", name).read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@cache
def load_catalog() -> Catalog:
    """The 25-model seed catalog and the providers, read once from package data."""
    models_data: list[dict[str, Any]] = _read("library_models.json")["data"]["models"]
    providers_data: list[dict[str, Any]] = _read("library_providers.json")["data"]["providers"]
    providers = {
        p["provider_id"]: Provider(
            provider_id=p["provider_id"],
            cancel_method=p["babysea_implementation"].get("cancel_method"),
            raw=p,
        )
        for p in providers_data
    }
    return Catalog(
        models={m["model_identifier"]: _model(m) for m in models_data},
        providers=providers,
        models_payload=models_data,
        providers_payload=providers_data,
    )
