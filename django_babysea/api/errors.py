"""Every error the API answers: a JSON body ``{"code", "detail"}`` and the matching status.

BabySea's errors map to statuses a client can act on (400 invalid, 402 no credits, 409
conflict, 429 with ``Retry-After``, 503 when BabySea cannot be reached); nothing becomes a 500.
"""

from __future__ import annotations

import math
from typing import Any, Final

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils import timezone
from rest_framework import exceptions, status  # type: ignore[import-untyped]
from rest_framework.response import Response  # type: ignore[import-untyped]
from rest_framework.views import exception_handler  # type: ignore[import-untyped]

from django_babysea.client import (
    APIError,
    BabySeaError,
    ConcurrencyLimitError,
    IdempotencyConflictError,
    InsufficientCreditsError,
    InvalidRequestError,
    NotCancelableError,
    NotFoundError,
    RateLimitError,
)
from django_babysea.client.errors import api_error_class
from django_babysea.services import (
    BudgetExceededError,
    CatalogUnavailableError,
    GenerationNotSentError,
)

__all__ = ["ApiError", "babysea_error", "error_body", "handle_exception"]

#: Seconds a client is told to wait when BabySea gave no ``Retry-After``.
DEFAULT_RETRY_AFTER: Final = 1


class ApiError(exceptions.APIException):  # type: ignore[misc]
    """An error answered as it is: ``status``, ``code``, ``detail`` and extra body keys."""

    def __init__(
        self,
        status_code: int,
        code: str,
        detail: str,
        *,
        retry_after: float | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail=detail, code=code)
        self.status_code = status_code
        self.code = code
        self.retry_after = retry_after
        self.extra = extra


def error_body(code: str, detail: Any, **extra: Any) -> dict[str, Any]:
    return {"code": code, "detail": detail, **extra}


# (class, HTTP status, code), most specific first.
_BABYSEA: Final[tuple[tuple[type[APIError], int, str], ...]] = (
    (InsufficientCreditsError, status.HTTP_402_PAYMENT_REQUIRED, "insufficient_credits"),
    (IdempotencyConflictError, status.HTTP_409_CONFLICT, "idempotency_conflict"),
    (NotCancelableError, status.HTTP_409_CONFLICT, "not_cancelable"),
    (ConcurrencyLimitError, status.HTTP_429_TOO_MANY_REQUESTS, "concurrency_limit"),
    (RateLimitError, status.HTTP_429_TOO_MANY_REQUESTS, "rate_limited"),
    (InvalidRequestError, status.HTTP_400_BAD_REQUEST, "invalid"),
    (NotFoundError, status.HTTP_400_BAD_REQUEST, "not_found_at_babysea"),
)


def babysea_error(
    error: type[APIError] | None, message: str, retry_after: float | None = None, **extra: Any
) -> ApiError:
    """The API error for a BabySea error class (``None``: BabySea could not be reached)."""
    for klass, status_code, code in _BABYSEA:
        if error is not None and issubclass(error, klass):
            if status_code == status.HTTP_429_TOO_MANY_REQUESTS and retry_after is None:
                retry_after = DEFAULT_RETRY_AFTER
            return ApiError(status_code, code, message, retry_after=retry_after, **extra)
    return ApiError(
        status.HTTP_503_SERVICE_UNAVAILABLE,
        "babysea_unavailable",
        message,
        retry_after=retry_after,
        **extra,
    )


def failed_row_error(error_code: str, message: str, **extra: Any) -> ApiError:
    """The API error for a generation BabySea refused at create (``error_code`` BSExxxx)."""
    klass = api_error_class(error_code, 0)
    if not any(issubclass(klass, known) for known, _, _ in _BABYSEA):
        return ApiError(status.HTTP_502_BAD_GATEWAY, "refused", message, **extra)
    return babysea_error(klass, message, **extra)


def _budget_error(exc: Exception) -> ApiError | None:
    if not isinstance(exc, BudgetExceededError):
        return None
    resets_at = exc.resets_at
    wait = (resets_at - timezone.now()).total_seconds()
    return ApiError(
        status.HTTP_429_TOO_MANY_REQUESTS,
        "budget_exceeded",
        str(exc),
        retry_after=max(1.0, wait),
        resets_at=resets_at.isoformat(),
    )


def _translate(exc: Exception) -> Exception:
    budget = _budget_error(exc)
    if budget is not None:
        return budget
    if isinstance(exc, DjangoValidationError):
        errors = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        return ApiError(400, "invalid", "The request is not valid.", errors=errors)
    if isinstance(exc, CatalogUnavailableError):
        return ApiError(503, "catalog_unavailable", str(exc), retry_after=DEFAULT_RETRY_AFTER)
    if isinstance(exc, GenerationNotSentError):
        return ApiError(409, "not_sent", str(exc))
    if isinstance(exc, APIError):
        return babysea_error(type(exc), exc.message, exc.retry_after)
    if isinstance(exc, BabySeaError):  # network error, timeout, garbled answer
        return babysea_error(None, "BabySea could not be reached; try again later.")
    if isinstance(exc, ValueError):
        return ApiError(400, "invalid", str(exc))
    return exc


def handle_exception(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's exception handler, with BabySea errors mapped and every body ``{code, detail}``."""
    exc = _translate(exc)
    if isinstance(exc, ApiError):
        response = Response(
            error_body(exc.code, str(exc.detail), **exc.extra), status=exc.status_code
        )
        if exc.retry_after is not None:
            response["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
        return response
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, Http404):
        response.data = error_body("not_found", "Not found.")
    elif isinstance(exc, exceptions.ValidationError):
        response.data = error_body("invalid", "The request is not valid.", errors=response.data)
    elif isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        response.data = error_body(codes if isinstance(codes, str) else "error", str(exc.detail))
    return response
