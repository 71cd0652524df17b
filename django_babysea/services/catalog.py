"""BabySea's model catalog, cached in the database, and the one validator of a request.

The catalog lives in :class:`~django_babysea.models.CatalogModel` rows rather than the cache
framework: every process sees the same copy, it survives restarts and it can be queried.
:func:`load_catalog` serves it without a remote call while it is fresh
(``BABYSEA["CATALOG_TTL"]``), refreshes it when it is stale, and falls back on the stale copy
when BabySea cannot be reached. :func:`validate_request` checks a request against the cached
entry of its model; the admin's create form and the REST API both call it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from django_babysea.client import BabySeaError, ModelHealth, ModelInfo
from django_babysea.conf import babysea_settings
from django_babysea.models import CatalogModel

from .connection import get_client
from .validation import check_model_identifier

__all__ = [
    "CatalogState",
    "CatalogUnavailableError",
    "catalog_is_fresh",
    "load_catalog",
    "provider_order_choices",
    "refresh_catalog",
    "validate_request",
]

#: Longest prompt BabySea accepts (its limit for strings in a request body).
MAX_PROMPT: Final = 10_000
#: Longest value of any other text field.
MAX_TEXT: Final = 10_000


class CatalogUnavailableError(ValueError):
    """There is no cached catalog and BabySea cannot be reached to fetch one."""


@dataclass(frozen=True)
class CatalogState:
    """The catalog as served: its rows, and whether it is older than ``CATALOG_TTL`` because
    BabySea could not be reached (``error`` then says why, without any secret)."""

    models: list[CatalogModel] = field(default_factory=list)
    stale: bool = False
    error: str = ""


# -- the cache ----------------------------------------------------------------------------------


def _health(entry: ModelHealth | None) -> str:
    if entry is None or not entry.providers:
        return ""
    up = [availability.available for availability in entry.providers.values()]
    if all(up):
        return "healthy"
    return "degraded" if any(up) else "unavailable"


def _row(info: ModelInfo, health: str, now: datetime) -> dict[str, Any]:
    return {
        "kind": "video" if info.model_type == "video" else "image",
        "pricing": info.model_pricing,
        "providers": list(info.model_supported_provider),
        "schema": {key: value for key, value in info.schema.raw.items() if value is not None},
        "specific_schema": list(info.specific_schema),
        "health": health,
        "available": True,
        "fetched_at": now,
    }


def refresh_catalog() -> int:
    """Fetch ``GET /v1/library/models`` (and model health, when BabySea answers it) and store
    it; models BabySea no longer lists stay, marked ``available=False``. Returns the number of
    models listed. Raises :class:`~django_babysea.client.BabySeaError` when the catalog cannot
    be fetched; nothing is changed then."""
    client = get_client()
    models = client.library.models()
    try:
        health = {entry.model_identifier: entry for entry in client.health.models().models}
    except BabySeaError:  # health is a bonus; the catalog alone is enough to create
        health = {}
    now = timezone.now()
    with transaction.atomic():
        for info in models:
            CatalogModel.objects.update_or_create(
                model_identifier=info.model_identifier,
                defaults=_row(info, _health(health.get(info.model_identifier)), now),
            )
        listed = [info.model_identifier for info in models]
        CatalogModel.objects.exclude(model_identifier__in=listed).update(available=False)
    return len(models)


def catalog_is_fresh(now: datetime | None = None) -> bool:
    """True when the cached catalog was fetched within ``CATALOG_TTL`` seconds."""
    oldest = (
        CatalogModel.objects.filter(available=True)
        .order_by("fetched_at")
        .values_list("fetched_at", flat=True)
        .first()
    )
    if oldest is None:
        return False
    now = now or timezone.now()
    return now - oldest < timedelta(seconds=babysea_settings.CATALOG_TTL)


def load_catalog() -> CatalogState:
    """The available models, fetched again first when the cache is stale.

    Fresh: no remote call. Stale and BabySea unreachable: the stale rows, with ``stale`` set
    and the reason. Empty and unreachable: :class:`CatalogUnavailableError`.
    """
    error = ""
    if not catalog_is_fresh():
        try:
            refresh_catalog()
        except BabySeaError as exc:
            error = str(exc)
    models = list(CatalogModel.objects.filter(available=True))
    if not models and error:
        raise CatalogUnavailableError(
            _("BabySea's model catalog could not be fetched and none is cached yet: %(error)s")
            % {"error": error}
        )
    return CatalogState(models=models, stale=bool(error), error=error)


def provider_order_choices(model: CatalogModel) -> list[str]:
    """``fastest`` and the default order for a multi-provider model, else its one provider."""
    providers = [str(provider) for provider in model.providers]
    if len(providers) <= 1:
        return providers
    return ["fastest", ", ".join(providers)]


# -- the validator ------------------------------------------------------------------------------


def _model(model_identifier: object) -> CatalogModel:
    if not isinstance(model_identifier, str) or not model_identifier.strip():
        raise ValidationError({"model_identifier": _("Choose a model.")})
    try:
        # A NUL or an over-long text would be refused by the database itself (a 500).
        check_model_identifier(model_identifier)
    except ValueError as exc:
        raise ValidationError({"model_identifier": str(exc)}) from None
    model = CatalogModel.objects.filter(
        model_identifier=model_identifier.strip(), available=True
    ).first()
    if model is None:
        raise ValidationError(
            {
                "model_identifier": _("%(model)s is not in BabySea's model catalog.")
                % {"model": model_identifier.strip()[:200]}
            }
        )
    return model


def _choice(value: object, allowed: Sequence[Any], label: str) -> Any:
    if value not in list(allowed) or isinstance(value, bool):
        shown = ", ".join(str(item) for item in allowed)
        raise ValueError(
            _("%(value)s is not a %(label)s this model accepts; choose one of: %(allowed)s.")
            % {"value": value, "label": label, "allowed": shown}
        )
    return value


def _text(value: object, limit: int = MAX_TEXT) -> str:
    if not isinstance(value, str):
        raise ValueError(_("Enter text."))
    if "\x00" in value:
        raise ValueError(_("The text contains a NUL character."))
    if len(value) > limit:
        raise ValueError(
            _("At most %(limit)d characters are allowed (this has %(length)d).")
            % {"limit": limit, "length": len(value)}
        )
    return value


def _https_url(value: object) -> str:
    text = _text(value, 2048).strip()
    parts = urlsplit(text)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError(
            _("%(value)s is not a public https:// URL.") % {"value": text[:100] or '""'}
        )
    return text


def _input_files(value: object) -> list[str]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise ValueError(_("Give a list of https:// URLs."))
    return [_https_url(item) for item in items if not (isinstance(item, str) and not item.strip())]


def _provider_order(value: object, model: CatalogModel) -> str:
    text = _text(value, 200).strip()
    if text == "fastest":
        return text
    names = [name.strip() for name in text.split(",")]
    known = [str(provider) for provider in model.providers]
    wrong = [name for name in names if name not in known]
    if wrong or len(set(names)) != len(names):
        raise ValueError(
            _("Use 'fastest' or distinct providers of this model, separated by commas: %(known)s.")
            % {"known": ", ".join(known)}
        )
    return ", ".join(names)


def _whole(value: object, minimum: int, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(_("Enter a whole number."))
    if not minimum <= value <= maximum:
        raise ValueError(
            _("Enter a number from %(min)d to %(max)d.") % {"min": minimum, "max": maximum}
        )
    return value


def _extra(value: object) -> Any:
    """A model-specific value: a short text, a finite number or a yes/no."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return _whole(value, -(2**63), 2**63 - 1)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(_("Enter a finite number."))
        return value
    return _text(value)


def _check(key: str, value: object, model: CatalogModel) -> Any:
    """The cleaned value of one field, or ``ValueError`` with a message for an editor."""
    schema = model.schema or {}
    if key == "generation_prompt":
        prompt = _text(value, MAX_PROMPT)
        if not prompt.strip():
            raise ValueError(_("Write a prompt."))
        return prompt
    if key == "generation_ratio":
        return _choice(value, schema.get("generation_ratio") or [], _("ratio"))
    if key == "generation_output_format":
        return _choice(value, schema.get("generation_output_format") or [], _("format"))
    if key == "generation_output_number":
        return _whole(value, 1, int(schema.get("generation_output_number") or 1))
    if key == "generation_input_file" and schema.get("generation_input_file"):
        return _input_files(value)
    if key == "generation_duration" and schema.get("generation_duration"):
        return _choice(value, schema["generation_duration"], _("duration in seconds"))
    if key == "generation_resolution" and schema.get("generation_resolution"):
        return _choice(value, schema["generation_resolution"], _("resolution"))
    if key == "generation_generate_audio" and schema.get("generation_generate_audio"):
        if not isinstance(value, bool):
            raise ValueError(_("Answer yes or no."))
        return value
    if key == "generation_provider_order":
        return _provider_order(value, model)
    if key == "generation_input_file_last_content" and key in model.specific_schema:
        return _https_url(value)
    if key in model.specific_schema:
        return _extra(value)
    raise ValueError(_("%(model)s does not accept this field.") % {"model": model.model_identifier})


def _is_empty(value: object) -> bool:
    return value is None or value == "" or value == [] or value == ()


def validate_request(model_identifier: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The ``generation_*`` fields of a request, checked against the cached catalog entry of
    ``model_identifier`` and cleaned (empty values dropped, provider order normalised).

    Makes no remote call. Raises :class:`~django.core.exceptions.ValidationError` whose
    ``message_dict`` maps each wrong field (``model_identifier`` for the model itself) to
    messages an editor understands, every problem at once.
    """
    model = _model(model_identifier)
    cleaned: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for key, value in fields.items():
        if _is_empty(value):
            continue
        try:
            cleaned[key] = _check(str(key), value, model)
        except ValueError as exc:
            errors[str(key)] = [str(exc)]
    if (model.schema or {}).get("generation_prompt", True) and "generation_prompt" not in cleaned:
        errors.setdefault("generation_prompt", [_("Write a prompt.")])
    if model.kind == "video" and "generation_duration" not in cleaned:
        durations = ", ".join(str(d) for d in (model.schema or {}).get("generation_duration", []))
        errors.setdefault(
            "generation_duration",
            [_("A video needs a duration; choose one of: %(allowed)s.") % {"allowed": durations}],
        )
    if errors:
        raise ValidationError(errors)
    return cleaned
