"""The BSE error table (contract sections 4.1 and 4.2) and the exception that carries one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

__all__ = ["ERRORS", "ApiError", "ErrorSpec", "api_error"]


@dataclass(frozen=True)
class ErrorSpec:
    type: str
    status: int
    retryable: bool
    message: str


ERRORS: Final[dict[str, ErrorSpec]] = {
    "BSE1001": ErrorSpec(
        "authentication_required",
        401,
        False,
        "An API key is required: send it as 'Authorization: Bearer <key>'.",
    ),
    "BSE1002": ErrorSpec(
        "authentication_failed",
        401,
        False,
        "The API key is invalid, expired, revoked, or belongs to another region.",
    ),
    "BSE1003": ErrorSpec(
        "insufficient_permissions", 403, False, "The API key lacks the scope this route requires."
    ),
    "BSE1004": ErrorSpec(
        "insufficient_credits",
        402,
        False,
        "The credit balance does not cover this generation. Add credits or wait for the next "
        "plan renewal.",
    ),
    "BSE1005": ErrorSpec(
        "rate_limit_exceeded",
        429,
        True,
        "Too many requests for this account; wait for the period given in Retry-After.",
    ),
    "BSE1006": ErrorSpec(
        "auth_rate_limited",
        429,
        True,
        "Too many failed authentication attempts from this IP address; wait for the period "
        "given in Retry-After.",
    ),
    "BSE1007": ErrorSpec(
        "ip_not_allowed", 403, False, "The client IP address is not in the API key's allowlist."
    ),
    "BSE1008": ErrorSpec(
        "account_not_found", 404, False, "The account behind this API key was not found."
    ),
    "BSE1009": ErrorSpec(
        "concurrency_limit_exceeded",
        429,
        True,
        "The plan's limit of in-flight generations has been reached.",
    ),
    "BSE2001": ErrorSpec("invalid_input", 400, False, "Invalid request parameters."),
    "BSE2002": ErrorSpec(
        "file_too_large", 422, False, "An input file exceeds the maximum dimensions."
    ),
    "BSE2003": ErrorSpec(
        "file_too_small", 422, False, "An input file is below the minimum dimensions."
    ),
    "BSE2004": ErrorSpec(
        "unsupported_file_format", 422, False, "Only JPEG, PNG and WebP input files are accepted."
    ),
    "BSE2005": ErrorSpec(
        "file_load_error", 422, False, "An input file could not be loaded or processed."
    ),
    "BSE2006": ErrorSpec(
        "content_policy_violation", 422, False, "The input was flagged by the safety filter."
    ),
    "BSE2007": ErrorSpec(
        "file_size_exceeded", 422, False, "An input file exceeds the maximum byte size."
    ),
    "BSE2008": ErrorSpec(
        "parameter_out_of_range", 422, False, "A parameter is outside its allowed range."
    ),
    "BSE2009": ErrorSpec(
        "file_download_error", 422, False, "An input file URL could not be downloaded."
    ),
    "BSE2010": ErrorSpec(
        "payload_too_large", 413, False, "The request body exceeds the 100 KB limit."
    ),
    "BSE2011": ErrorSpec(
        "generation_not_found", 404, False, "The generation does not exist for this account."
    ),
    "BSE2012": ErrorSpec(
        "generation_not_cancelable",
        409,
        False,
        "The generation has already completed, failed or been canceled.",
    ),
    "BSE2013": ErrorSpec(
        "cancel_window_expired", 409, False, "The cancel window for this generation has expired."
    ),
    "BSE2014": ErrorSpec("model_not_found", 404, False, "The model identifier is not known."),
    "BSE2015": ErrorSpec(
        "idempotency_key_reused",
        409,
        False,
        "This Idempotency-Key was already used with a different request body.",
    ),
    "BSE2016": ErrorSpec(
        "idempotency_request_in_progress",
        409,
        True,
        "A request with this Idempotency-Key is still being processed; retry shortly.",
    ),
    "BSE4001": ErrorSpec(
        "provider_error", 502, True, "Provider returned an upstream server error."
    ),
    "BSE4002": ErrorSpec(
        "provider_timeout", 504, True, "Provider did not finish within the attempt timeout."
    ),
    "BSE4003": ErrorSpec(
        "all_providers_failed", 502, True, "Every provider in the chain failed for this request."
    ),
    "BSE4004": ErrorSpec("provider_rate_limited", 503, True, "Provider rate limit reached."),
    "BSE4005": ErrorSpec(
        "provider_capacity_unavailable", 503, True, "Provider capacity is unavailable."
    ),
    "BSE4006": ErrorSpec(
        "provider_credits_exhausted", 503, False, "The provider account is out of credit."
    ),
    "BSE4007": ErrorSpec(
        "provider_content_rejected", 422, False, "The provider's safety filter rejected the output."
    ),
    "BSE5001": ErrorSpec("internal_error", 500, True, "An unexpected server error occurred."),
    "BSE5002": ErrorSpec(
        "service_unavailable", 503, True, "A dependency of the API is temporarily unavailable."
    ),
}

#: How a failed generation's ``generation_error`` names one provider's failure.
PROVIDER_FAILURE_PHRASES: Final[dict[str, str]] = {
    "BSE4001": "returned a server error",
    "BSE4002": "timed out",
    "BSE4004": "was rate limited",
    "BSE4005": "had no capacity",
    "BSE4006": "ran out of credits",
    "BSE4007": "rejected the output",
    "BSE5001": "failed unexpectedly",
    "BSE5002": "was unavailable",
}


class ApiError(Exception):
    """A BSE error to be rendered as the error envelope of section 1.6."""

    def __init__(
        self,
        code: str,
        message: str | None = None,
        *,
        details: dict[str, Any] | None = None,
        provider_errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        status: int | None = None,
    ) -> None:
        spec = ERRORS[code]
        self.code = code
        self.spec = spec
        self.message = message or spec.message
        self.details = details
        self.provider_errors = provider_errors
        self.headers = dict(headers or {})
        self.status = status if status is not None else spec.status
        super().__init__(f"{code}: {self.message}")

    def error_object(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "code": self.code,
            "type": self.spec.type,
            "message": self.message,
            "retryable": self.spec.retryable,
        }
        if self.details is not None:
            body["details"] = self.details
        if self.provider_errors is not None:
            body["provider_errors"] = self.provider_errors
        return body


def api_error(code: str, message: str | None = None, **details: Any) -> ApiError:
    """Shorthand for an :class:`ApiError` whose details are the keyword arguments."""
    return ApiError(code, message, details=details or None)


def invalid(field: str, message: str, **extra: Any) -> ApiError:
    """A BSE2001 naming the offending ``field``."""
    return ApiError("BSE2001", message, details={"field": field, **extra})


def out_of_range(field: str, message: str, **extra: Any) -> ApiError:
    """A BSE2008 naming the offending ``field``."""
    return ApiError("BSE2008", message, details={"field": field, **extra})


def provider_error_item(provider: str, code: str) -> dict[str, Any]:
    spec = ERRORS[code]
    return {
        "provider": provider,
        "code": code,
        "type": spec.type,
        "message": spec.message,
        "retryable": spec.retryable,
    }
