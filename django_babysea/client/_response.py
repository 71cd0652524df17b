"""Sans-IO response side: the success envelope, and API errors normalized per contract
section 8 (non-JSON and partial JSON bodies included)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import httpx

from .errors import (
    APIError,
    ProviderErrorInfo,
    RateLimitInfo,
    ResponseValidationError,
    api_error_class,
)


@dataclass(frozen=True, slots=True)
class Envelope:
    """A validated success envelope. ``body`` is the whole JSON object (``total`` etc.)."""

    status: int
    request_id: str | None
    data: dict[str, Any]
    body: dict[str, Any]
    replayed: bool


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = json.loads(response.content)
    except (ValueError, RecursionError):
        return None
    return body if isinstance(body, dict) else None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def parse_success(response: httpx.Response) -> Envelope:
    status = response.status_code
    body = _json_object(response)
    if body is None:
        raise ResponseValidationError("the body is not a JSON object", status=status)
    request_id = _text(body.get("request_id"))
    if body.get("status") != "success":
        raise ResponseValidationError(
            "expected the success envelope", where="status", status=status, request_id=request_id
        )
    data = body.get("data")
    if not isinstance(data, dict):
        raise ResponseValidationError(
            "expected object", where="data", status=status, request_id=request_id
        )
    replayed = response.headers.get("Idempotency-Replayed", "").strip().lower() == "true"
    return Envelope(status, request_id, data, body, replayed)


def _number(value: str | None) -> float | None:
    try:
        number = float(value) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) else None


def retry_after(headers: httpx.Headers) -> float | None:
    """``Retry-After`` in seconds (the delta-seconds form; an HTTP date is ignored)."""
    seconds = _number(headers.get("Retry-After"))
    return max(seconds, 0.0) if seconds is not None else None


def rate_limit_info(headers: httpx.Headers) -> RateLimitInfo | None:
    """Parsed only when ``X-RateLimit-Limit`` is present (and numeric)."""
    limit = _number(headers.get("X-RateLimit-Limit"))
    if limit is None:
        return None
    wait = retry_after(headers)
    return RateLimitInfo(
        limit=int(limit),
        remaining=int(_number(headers.get("X-RateLimit-Remaining")) or 0),
        reset=int(_number(headers.get("X-RateLimit-Reset")) or 0),
        retry_after=int(wait) if wait is not None else None,
    )


def _provider_error(entry: object) -> ProviderErrorInfo | None:
    if not isinstance(entry, dict):
        return None
    provider, code, type_, message = (entry.get(k) for k in ("provider", "code", "type", "message"))
    retryable = entry.get("retryable")
    if (
        isinstance(provider, str)
        and isinstance(code, str)
        and isinstance(type_, str)
        and isinstance(message, str)
        and isinstance(retryable, bool)
    ):
        return ProviderErrorInfo(provider, code, type_, message, retryable)
    return None


def _provider_errors(value: object) -> tuple[ProviderErrorInfo, ...] | None:
    """Kept only when it is a list whose every entry is well typed, as the SDK does."""
    if not isinstance(value, list):
        return None
    items = [_provider_error(entry) for entry in value]
    return tuple(i for i in items if i is not None) if None not in items else None


def normalize_error(status: int, reason: str, body: dict[str, Any] | None) -> dict[str, Any]:
    """The ``error`` object of the envelope, with every missing part filled in."""
    if body is None:
        return {
            "code": f"HTTP_{status}",
            "type": "api_error",
            "message": f"HTTP {status} {reason or _phrase(status)}".strip(),
            "retryable": status >= 500,
        }
    raw = body.get("error")
    raw = raw if isinstance(raw, dict) else {}
    retryable = raw.get("retryable")
    error: dict[str, Any] = {
        "code": _text(raw.get("code")) or f"HTTP_{status}",
        "type": _text(raw.get("type")) or "api_error",
        "message": _text(raw.get("message")) or _text(body.get("message")) or f"HTTP {status}",
        "retryable": retryable if isinstance(retryable, bool) else status == 429 or status >= 500,
    }
    if isinstance(raw.get("details"), dict):
        error["details"] = raw["details"]
    if _provider_errors(raw.get("provider_errors")) is not None:
        error["provider_errors"] = raw["provider_errors"]
    return error


def parse_error(response: httpx.Response) -> APIError:
    """The typed error for a non-2xx response, whatever its body."""
    status = response.status_code
    body = _json_object(response)
    error = normalize_error(status, response.reason_phrase, body)
    request_id = _text(body.get("request_id")) if body is not None else None
    cls = api_error_class(error["code"], status)
    return cls(
        status=status,
        code=error["code"],
        type=error["type"],
        message=error["message"],
        retryable=error["retryable"],
        request_id=request_id,
        details=error.get("details"),
        provider_errors=_provider_errors(error.get("provider_errors")) or (),
        rate_limit=rate_limit_info(response.headers),
        retry_after=retry_after(response.headers),
        body={"status": "error", "request_id": request_id, "error": error},
    )


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
