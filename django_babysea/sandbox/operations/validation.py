"""Request validation: the generate body (contract 2.7), query parameters, Idempotency-Key (5)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlsplit

from django_babysea.sandbox.contract.catalog import Catalog, MediaType, Model
from django_babysea.sandbox.contract.errors import ApiError, invalid, out_of_range

__all__ = [
    "GenerationInput",
    "parse_json_object",
    "query_int",
    "validate_generation",
    "validate_idempotency_key",
]

MAX_STRING: Final = 10_000
IDEMPOTENCY_KEY: Final = re.compile(r"^[A-Za-z0-9_\-:.]{1,255}$")
COMMON_FIELDS: Final = frozenset(
    {
        "generation_prompt",
        "generation_ratio",
        "generation_output_format",
        "generation_output_number",
        "generation_input_file",
        "generation_provider_order",
    }
)
VIDEO_FIELDS: Final = frozenset({"generation_duration"})
_IMAGE_EXTENSIONS: Final = frozenset({"jpg", "jpeg", "png", "webp"})
_OTHER_MEDIA_EXTENSIONS: Final = frozenset(
    {"gif", "bmp", "tif", "tiff", "svg", "heic", "heif", "avif", "ico", "psd", "pdf", "mp4", "mov"}
)
# Sandbox rules for the model-specific extras of the catalog (kind, minimum, maximum or choices).
_EXTRA_RULES: Final[dict[str, tuple[Any, ...]]] = {
    "generation_seed": ("int", 0, 2**32 - 1),
    "generation_guidance": ("number", 0, 20),
    "generation_cfg_scale": ("number", 0, 1),
    "generation_steps": ("int", 1, 50),
    "generation_safety_tolerance": ("int", 0, 6),
    "generation_negative_prompt": ("string",),
    "generation_prompt_upsampling": ("bool",),
    "generation_raw": ("bool",),
    "generation_camera_fixed": ("bool",),
    "generation_prompt_optimizer": ("bool",),
    "generation_quality": ("choice", ("low", "medium", "high", "auto")),
    "generation_background": ("choice", ("auto", "transparent", "opaque")),
    "generation_input_file_last_content": ("url",),
}


@dataclass
class GenerationInput:
    model: Model
    body: dict[str, Any]
    prompt: str
    ratio: str
    output_format: str
    output_number: int
    input_file: list[str] | None
    provider_order: list[str]
    duration: int | None = None
    resolution: str | None = None
    generate_audio: bool | None = None
    extras: dict[str, Any] = field(default_factory=dict)


def parse_json_object(raw: bytes | None) -> dict[str, Any]:
    """The request body as a JSON object, or BSE2001 with ``details.field = "body"``."""
    if not raw or not raw.strip():
        raise invalid("body", "The request body must be a JSON object.")
    try:
        parsed = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise invalid("body", "The request body is not valid JSON.") from None
    if not isinstance(parsed, dict):
        raise invalid("body", "The request body must be a JSON object.")
    return parsed


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _string(body: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise invalid(name, f"{name} is required.")
        return None
    if not isinstance(value, str):
        raise invalid(name, f"{name} must be a string.")
    if len(value) > MAX_STRING:
        raise invalid(name, f"{name} must be at most {MAX_STRING} characters.")
    return value


def _choice(body: dict[str, Any], name: str, choices: tuple[str, ...], model: Model) -> str:
    value = _string(body, name)
    if value is None:
        return choices[0]
    if value not in choices:
        raise invalid(
            name,
            f"{name} must be one of the values supported by {model.identifier}: "
            f"{', '.join(choices)}.",
        )
    return value


def https_url(name: str, value: Any) -> str:
    if not isinstance(value, str) or len(value) > MAX_STRING:
        raise invalid(name, f"{name} must contain URL strings.")
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname:
        raise invalid(name, f"{name} must contain public https:// URLs.")
    return value


def _check_input_url(url: str) -> None:
    """What BabySea would find downloading the file, decided from the URL alone."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if host == "invalid" or host.endswith(".invalid"):
        raise ApiError("BSE2009", f"Could not download {url}.", details={"url": url})
    extension = parts.path.rsplit("/", 1)[-1].rpartition(".")[2].lower()
    if "." in parts.path.rsplit("/", 1)[-1] and extension in _OTHER_MEDIA_EXTENSIONS:
        raise ApiError("BSE2004", details={"url": url})


def _input_files(body: dict[str, Any], model: Model) -> list[str] | None:
    name = "generation_input_file"
    value = body.get(name)
    if value is None:
        return None
    if not model.input_file:
        raise invalid(name, f"{model.identifier} does not accept input files.")
    if not isinstance(value, list):
        raise invalid(name, f"{name} must be an array of URLs.")
    urls = [https_url(name, item) for item in value]
    if len(urls) > model.input_file_limit:
        raise out_of_range(
            name,
            f"{model.identifier} accepts at most {model.input_file_limit} input file(s).",
            max=model.input_file_limit,
        )
    for url in urls:
        _check_input_url(url)
    return urls or None


def provider_order(value: Any, model: Model) -> list[str]:
    """``fastest`` or any ordering of distinct providers of the model (section 10 #12, #13)."""
    name = "generation_provider_order"
    if value is None:
        return list(model.providers)
    if not isinstance(value, str):
        raise invalid(name, f"{name} must be a string.")
    if value.strip() == "fastest":
        return list(model.providers)
    names = [part.strip() for part in value.split(",")]
    if not all(names) or len(set(names)) != len(names) or not set(names) <= set(model.providers):
        raise invalid(
            name,
            f"{name} must be 'fastest' or a comma-separated list of distinct providers of "
            f"{model.identifier}: {', '.join(model.providers)}.",
        )
    return names


def _output_number(body: dict[str, Any], model: Model) -> int:
    name = "generation_output_number"
    value = body.get(name)
    if value is None:
        return model.output_number
    if not is_int(value):
        raise invalid(name, f"{name} must be an integer.")
    if not 1 <= value <= model.output_number:
        raise out_of_range(
            name,
            f"{name} must be between 1 and {model.output_number}.",
            min=1,
            max=model.output_number,
        )
    return int(value)


def check_duration(value: Any, model: Model, name: str = "generation_duration") -> int:
    if not is_int(value):
        raise invalid(name, f"{name} must be an integer number of seconds.")
    low, high = min(model.durations), max(model.durations)
    allowed = ", ".join(str(d) for d in model.durations)
    if not low <= value <= high:
        raise out_of_range(name, f"{name} must be one of {allowed} seconds.", min=low, max=high)
    if value not in model.durations:
        raise invalid(name, f"{name} must be one of {allowed} seconds.")
    return int(value)


def _extra(name: str, value: Any) -> Any:
    rule = _EXTRA_RULES.get(name)
    if rule is None:
        if isinstance(value, str):
            return _string({name: value}, name)
        if value is None or isinstance(value, bool | int | float):
            return value
        raise invalid(name, f"{name} must be a string, number or boolean.")
    kind = rule[0]
    if kind in ("int", "number"):
        if not (is_int(value) if kind == "int" else is_number(value)):
            raise invalid(name, f"{name} must be {'an integer' if kind == 'int' else 'a number'}.")
        if not rule[1] <= value <= rule[2]:
            raise out_of_range(
                name, f"{name} must be between {rule[1]} and {rule[2]}.", min=rule[1], max=rule[2]
            )
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise invalid(name, f"{name} must be a boolean.")
        return value
    if kind == "choice":
        if value not in rule[1]:
            raise invalid(name, f"{name} must be one of {', '.join(rule[1])}.")
        return value
    if kind == "url":
        url = https_url(name, value)
        _check_input_url(url)
        return url
    return _string({name: value}, name)


def allowed_fields(model: Model, route: MediaType) -> frozenset[str]:
    allowed = set(COMMON_FIELDS) | set(model.specific)
    if route == "video":
        allowed |= VIDEO_FIELDS
        if model.input_file:
            allowed.add("generation_input_file_last_content")
    if model.resolutions:
        allowed.add("generation_resolution")
    if model.audio:
        allowed.add("generation_generate_audio")
    return frozenset(allowed)


def _model_for(catalog: Catalog, identifier: str, route: MediaType) -> Model:
    model = catalog.get(identifier)
    if model is None:
        raise ApiError(
            "BSE2014",
            f"Model {identifier} is not in the catalog.",
            details={"model_identifier": identifier},
        )
    if model.media_type != route:
        raise invalid(
            "model_identifier",
            f"{identifier} is a {model.media_type} model; use /v1/generate/{model.media_type}/.",
        )
    return model


def validate_generation(
    catalog: Catalog, route: MediaType, identifier: str, raw: bytes | None
) -> GenerationInput:
    """Every BSE2xxx check of a create request, in a stable order."""
    body = parse_json_object(raw)
    model = _model_for(catalog, identifier, route)
    allowed = allowed_fields(model, route)
    for key in body:
        if key not in allowed:
            raise invalid(key, f"{key} is not a field {model.identifier} accepts.")
    prompt = _string(body, "generation_prompt", required=True)
    if prompt is None or not prompt.strip():
        raise invalid("generation_prompt", "generation_prompt must not be empty.")
    result = GenerationInput(
        model=model,
        body=body,
        prompt=prompt,
        ratio=_choice(body, "generation_ratio", model.ratios, model),
        output_format=_choice(body, "generation_output_format", model.output_formats, model),
        output_number=_output_number(body, model),
        input_file=_input_files(body, model),
        provider_order=provider_order(body.get("generation_provider_order"), model),
    )
    if route == "video":
        if body.get("generation_duration") is None:
            raise invalid("generation_duration", "generation_duration is required for video.")
        result.duration = check_duration(body["generation_duration"], model)
    if model.resolutions:
        result.resolution = _choice(body, "generation_resolution", model.resolutions, model)
    if model.audio:
        audio = body.get("generation_generate_audio")
        if audio is not None and not isinstance(audio, bool):
            raise invalid(
                "generation_generate_audio", "generation_generate_audio must be a boolean."
            )
        result.generate_audio = True if audio is None else audio
    for key in body:
        extra = key in model.specific or key == "generation_input_file_last_content"
        if extra and body[key] is not None:
            result.extras[key] = _extra(key, body[key])
    return result


def query_int(query: dict[str, list[str]], name: str, default: int) -> int:
    """An integer query parameter, or BSE2001 naming it."""
    values = query.get(name)
    if not values:
        return default
    text = values[0].strip()
    if not re.fullmatch(r"[+-]?\d{1,9}", text):
        raise invalid(name, f"{name} must be an integer.")
    return int(text)


def validate_idempotency_key(value: str | None) -> str | None:
    if value is None:
        return None
    if not IDEMPOTENCY_KEY.match(value):
        raise invalid(
            "Idempotency-Key",
            "Idempotency-Key must be 1-255 characters of letters, digits, '_', '-', ':' or '.'.",
        )
    return value
