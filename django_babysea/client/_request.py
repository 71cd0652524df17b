"""Sans-IO request side: what an operation sends, and the ``httpx.Request`` built from it."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import httpx

from ._config import ClientConfig, telemetry_headers
from ._response import Envelope
from .errors import ConfigurationError

T = TypeVar("T")

_REPLAY_SAFE_METHODS = frozenset({"GET", "HEAD", "DELETE"})


@dataclass(frozen=True, slots=True)
class RequestSpec:
    """One HTTP call: ``path`` starts with ``/v1/`` and is already escaped."""

    method: str
    path: str
    params: dict[str, str] | None = None
    json: dict[str, Any] | None = None
    idempotency_key: str | None = None

    @property
    def replay_safe(self) -> bool:
        """Sending it twice cannot create anything twice (transport retries are allowed)."""
        return self.method in _REPLAY_SAFE_METHODS or self.idempotency_key is not None


@dataclass(frozen=True, slots=True)
class Operation(Generic[T]):
    """A request and the parser of its success envelope; run by the sync or async client."""

    spec: RequestSpec
    parse: Callable[[Envelope], T]


def build_request(config: ClientConfig, spec: RequestSpec) -> httpx.Request:
    headers = {
        "Authorization": f"Bearer {config.api_key}",
        "Accept": "application/json",
        **telemetry_headers(),
    }
    content: bytes | None = None
    if spec.json is not None:
        try:
            content = json.dumps(spec.json, separators=(",", ":"), ensure_ascii=False).encode()
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(f"The request body is not JSON-serializable: {exc}") from None
        headers["Content-Type"] = "application/json"
    if spec.idempotency_key is not None:
        headers["Idempotency-Key"] = spec.idempotency_key
    return httpx.Request(
        spec.method,
        config.origin + spec.path,
        params=spec.params,
        headers=headers,
        content=content,
        extensions={"timeout": httpx.Timeout(config.timeout).as_dict()},
    )
