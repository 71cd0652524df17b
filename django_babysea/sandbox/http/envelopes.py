"""Response objects and the success, paginated and error envelopes (contract 1.4-1.6)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from django_babysea.sandbox.contract.errors import ApiError
from django_babysea.sandbox.state.clock import Clock, Ids, iso

__all__ = [
    "Request",
    "Response",
    "dumps",
    "error_response",
    "json_response",
    "success",
    "text_response",
]


class Headers(Protocol):
    def get(self, name: str, /) -> Any: ...


@dataclass
class Request:
    """One parsed HTTP request as the routing layer sees it."""

    method: str
    path: str
    target: str
    query: dict[str, list[str]]
    headers: Headers
    body: bytes | None
    body_too_large: bool
    client_ip: str
    #: Seconds of injected slowness; a create spends them holding its idempotency claim.
    processing_delay: float = 0.0
    #: The address (host, port) the client connected to.
    local_address: tuple[str, int] | None = None

    def header(self, name: str) -> str | None:
        value = self.headers.get(name)
        return None if value is None else str(value)


@dataclass
class Response:
    """What the HTTP layer writes; ``stream`` (with ``length``) replaces ``body`` for files.

    A ``stream`` without ``length`` is sent without Content-Length, delimited by closing the
    connection. ``abort`` closes the connection after the body without announcing it (the body may
    be shorter than its Content-Length); ``hang`` then first holds it open that many seconds, or
    until the client hangs up.
    """

    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    stream: Iterable[bytes] | None = None
    length: int | None = None
    drop: bool = False
    delay: float = 0.0
    trickle: float = 0.0
    close: bool = False
    abort: bool = False
    hang: float = 0.0
    code: str | None = None
    request_id: str | None = None
    head: bool = False


def dumps(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def json_response(status: int, payload: dict[str, Any], **headers: str) -> Response:
    return Response(
        status,
        dumps(payload),
        headers=dict(headers),
        request_id=payload.get("request_id") if isinstance(payload, dict) else None,
    )


def text_response(
    status: int, text: str, content_type: str = "text/plain; charset=utf-8"
) -> Response:
    return Response(status, text.encode("utf-8"), content_type=content_type)


def success(
    ids: Ids,
    clock: Clock,
    message: str,
    data: dict[str, Any],
    *,
    page: dict[str, int] | None = None,
) -> Response:
    payload: dict[str, Any] = {
        "status": "success",
        "request_id": ids.request_id(),
        "message": message,
        "timestamp": iso(clock.now()),
        "data": data,
    }
    if page is not None:
        payload.update(page)
    return json_response(200, payload)


def error_response(ids: Ids, error: ApiError) -> Response:
    payload = {"status": "error", "request_id": ids.request_id(), "error": error.error_object()}
    response = json_response(error.status, payload, **error.headers)
    response.code = error.code
    return response
