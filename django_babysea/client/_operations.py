"""The 17 BabySea operations (contract section 2.1), each described once as a request and a
parser of its success envelope. Both clients run these same descriptions."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from ._config import check_idempotency_key, id_path, model_path
from ._decode import Result
from ._request import Operation, RequestSpec
from ._response import Envelope
from .types import (
    Account,
    Billing,
    CacheHealth,
    CancelResult,
    DeleteResult,
    Estimate,
    Generation,
    GenerationCreated,
    GenerationPage,
    KeyStatus,
    ModelInfo,
    ModelsHealth,
    ProviderInfo,
    ProvidersHealth,
    StorageHealth,
    Usage,
)

R = TypeVar("R", bound=Result)


def _parser(cls: type[R]) -> Callable[[Envelope], R]:
    def parse(envelope: Envelope) -> R:
        return cls.from_data(envelope.data, request_id=envelope.request_id)

    return parse


def _get(path: str, cls: type[R], params: dict[str, str] | None = None) -> Operation[R]:
    return Operation(RequestSpec("GET", path, params=params or None), _parser(cls))


def _flag(value: bool) -> str:
    return "true" if value else "false"


# -- account ----------------------------------------------------------------------------------


def status() -> Operation[KeyStatus]:
    return _get("/v1/status", KeyStatus)


def usage(days: int | None) -> Operation[Usage]:
    return _get("/v1/usage", Usage, {"days": str(days)} if days is not None else None)


def account() -> Operation[Account]:
    return _get("/v1/user/account", Account)


def billing() -> Operation[Billing]:
    return _get("/v1/user/billing", Billing)


def estimate(
    model: str,
    count: int | None,
    duration: int | None,
    resolution: str | None,
    audio: bool | None,
) -> Operation[Estimate]:
    options = {"count": count, "duration": duration, "resolution": resolution}
    params = {k: str(v) for k, v in options.items() if v is not None}
    if audio is not None:
        params["audio"] = _flag(audio)
    return _get(f"/v1/estimate/{model_path(model)}", Estimate, params)


# -- generations ------------------------------------------------------------------------------


def generate(
    model: str, idempotency_key: str | None, fields: Mapping[str, Any]
) -> Operation[GenerationCreated]:
    body = {k: v for k, v in fields.items() if v is not None}
    kind = "video" if "generation_duration" in body else "image"
    key = check_idempotency_key(idempotency_key) if idempotency_key is not None else None
    spec = RequestSpec(
        "POST", f"/v1/generate/{kind}/{model_path(model)}", json=body, idempotency_key=key
    )

    def parse(envelope: Envelope) -> GenerationCreated:
        created = GenerationCreated.from_data(envelope.data, request_id=envelope.request_id)
        return dataclasses.replace(created, idempotency_replayed=envelope.replayed)

    return Operation(spec, parse)


def get_generation(generation_id: str) -> Operation[Generation]:
    return _get(f"/v1/content/{id_path(generation_id)}", Generation)


def list_generations(limit: int | None, offset: int | None) -> Operation[GenerationPage]:
    options = {"limit": limit, "offset": offset}
    params = {k: str(v) for k, v in options.items() if v is not None}

    def parse(envelope: Envelope) -> GenerationPage:
        # total/limit/offset are siblings of data in the paginated envelope.
        paging: dict[str, Any] = {
            k: envelope.body[k] for k in ("total", "limit", "offset") if k in envelope.body
        }
        return GenerationPage.from_data({**envelope.data, **paging}, request_id=envelope.request_id)

    return Operation(RequestSpec("GET", "/v1/content/list", params=params or None), parse)


def cancel_generation(generation_id: str) -> Operation[CancelResult]:
    path = f"/v1/content/generation/cancel/{id_path(generation_id)}"
    return Operation(RequestSpec("POST", path), _parser(CancelResult))


def delete_generation(generation_id: str) -> Operation[DeleteResult]:
    path = f"/v1/content/{id_path(generation_id)}"
    return Operation(RequestSpec("DELETE", path), _parser(DeleteResult))


# -- library ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class _ModelList(Result):
    models: tuple[ModelInfo, ...]
    models_total: int


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class _ProviderList(Result):
    providers: tuple[ProviderInfo, ...]
    providers_total: int


def library_models() -> Operation[list[ModelInfo]]:
    def parse(envelope: Envelope) -> list[ModelInfo]:
        return list(_parser(_ModelList)(envelope).models)

    return Operation(RequestSpec("GET", "/v1/library/models"), parse)


def library_providers() -> Operation[list[ProviderInfo]]:
    def parse(envelope: Envelope) -> list[ProviderInfo]:
        return list(_parser(_ProviderList)(envelope).providers)

    return Operation(RequestSpec("GET", "/v1/library/providers"), parse)


# -- health -----------------------------------------------------------------------------------


def health_providers() -> Operation[ProvidersHealth]:
    return _get("/v1/health/inference/providers", ProvidersHealth)


def health_models() -> Operation[ModelsHealth]:
    return _get("/v1/health/inference/models", ModelsHealth)


def health_storage() -> Operation[StorageHealth]:
    return _get("/v1/health/storage", StorageHealth)


def health_cache() -> Operation[CacheHealth]:
    return _get("/v1/health/cache", CacheHealth)
