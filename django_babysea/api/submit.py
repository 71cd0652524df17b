"""``POST generations/``: validate with the catalog validator, then submit, once per
``Idempotency-Key``."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any, Final, cast

from rest_framework.request import Request  # type: ignore[import-untyped]

from django_babysea.client import APIError, BabySeaError
from django_babysea.models import Generation, GenerationStatus
from django_babysea.services import (
    catalog_is_fresh,
    generations,
    load_catalog,
    validate_request,
)
from django_babysea.services.generations import FIELD_PREFIX, Submission

from .errors import ApiError, babysea_error, failed_row_error

__all__ = ["submit"]

#: What a client may send as ``Idempotency-Key`` (it is stored with the user's id in front).
CLIENT_KEY: Final = re.compile(r"[A-Za-z0-9_\-:.]{1,200}")


def _invalid(errors: dict[str, list[str]]) -> ApiError:
    return ApiError(400, "invalid", "The request is not valid.", errors=errors)


def _parse(data: Any) -> tuple[str, dict[str, Any]]:
    if not isinstance(data, Mapping):
        raise _invalid({"non_field_errors": ["Send a JSON object."]})
    model = data.get("model")
    errors: dict[str, list[str]] = {}
    if not isinstance(model, str) or not model.strip():
        errors["model"] = ["Choose a model (its identifier, e.g. 'bfl/flux-schnell')."]
    for key in data:
        if key != "model" and not str(key).startswith(FIELD_PREFIX):
            errors[str(key)] = [f"Unknown field: BabySea fields start with '{FIELD_PREFIX}'."]
    if errors:
        raise _invalid(errors)
    fields = {str(k): v for k, v in data.items() if k != "model"}
    return cast(str, model), fields


def _validated(model: str, fields: dict[str, Any]) -> dict[str, Any]:
    from django.core.exceptions import ValidationError

    try:
        return validate_request(model, fields)
    except ValidationError as exc:
        errors = exc.message_dict
        if "model_identifier" in errors:
            errors["model"] = errors.pop("model_identifier")
        raise _invalid(errors) from exc


def _idempotency_key(request: Request) -> str:
    raw = request.headers.get("Idempotency-Key")
    if raw is None:
        # A key of our own, so a row kept after a failed send can still be found and named.
        return f"api:{request.user.pk}:auto-{uuid.uuid4().hex}"
    if not CLIENT_KEY.fullmatch(raw):
        raise _invalid(
            {
                "Idempotency-Key": [
                    "Use 1 to 200 characters from A-Z, a-z, 0-9, '_', '-', ':' and '.'."
                ]
            }
        )
    # Keys are unique site-wide: the user's id keeps two users' keys apart.
    return f"api:{request.user.pk}:{raw}"


def submit(request: Request) -> tuple[Generation, bool]:
    """Submit the request's generation; returns it and whether it was created now.

    The same ``Idempotency-Key`` from the same user returns the first generation (409 when the
    body differs). A refusal by BabySea or a failure to reach it raises :class:`ApiError`.
    """
    model, fields = _parse(request.data)
    if not catalog_is_fresh():
        # Validation reads the cached catalog: fetch it when stale (a stale copy is kept and
        # used when BabySea cannot be reached; none at all is a 503).
        load_catalog()
    cleaned = _validated(model, fields)
    key = _idempotency_key(request)
    existing = Generation.objects.filter(idempotency_key=key).first()
    if existing is not None:  # a replay: answered without pricing the request again
        return _replayed(existing, model, cleaned), False
    generation, created = _submit(model, cleaned, request, key)
    if not created:
        # A concurrent request with the same key inserted the row first (our INSERT hit the
        # unique key): the database, not the look-up above, decides who created it.
        return _replayed(generation, model, cleaned), False
    refused = generation.generation_id is None and generation.status == GenerationStatus.FAILED
    if refused and generation.error_code:
        raise failed_row_error(
            generation.error_code, generation.error_message, id=str(generation.pk)
        )
    return generation, True


def _replayed(existing: Generation, model: str, cleaned: dict[str, Any]) -> Generation:
    """The generation a key already names, unless this request's body is another one (409)."""
    if existing.model_identifier != model.strip() or existing.request != cleaned:
        raise ApiError(
            409,
            "idempotency_conflict",
            "This Idempotency-Key was already used with a different request.",
            id=str(existing.pk),
        )
    return existing


def _submit(model: str, cleaned: dict[str, Any], request: Request, key: str) -> Submission:
    try:
        return generations.submit(
            model.strip(), owner=cast(Any, request.user), idempotency_key=key, **cleaned
        )
    except APIError as exc:
        raise babysea_error(type(exc), exc.message, exc.retry_after, id=_stored_id(key)) from exc
    except BabySeaError as exc:
        raise babysea_error(
            None,
            "BabySea could not be reached; the generation will be sent again later.",
            id=_stored_id(key),
        ) from exc


def _stored_id(key: str) -> str | None:
    """The id of the row kept for a send that failed, for the error body."""
    row = Generation.objects.filter(idempotency_key=key).values_list("pk", flat=True).first()
    return None if row is None else str(row)
