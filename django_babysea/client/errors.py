"""Every exception the client raises, under one base class: :class:`BabySeaError`.

API errors (a non-2xx answer) are :class:`APIError` subclasses picked by the ``BSE`` code, or by the
HTTP status when the code is unknown or the body was not BabySea's JSON. Nothing here ever holds the
API key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .types import Generation

__all__ = [
    "APIError",
    "AuthenticationError",
    "BabySeaError",
    "ConcurrencyLimitError",
    "ConfigurationError",
    "GenerationFailedError",
    "GenerationTimeoutError",
    "IdempotencyConflictError",
    "InsufficientCreditsError",
    "InvalidRequestError",
    "NetworkError",
    "NotCancelableError",
    "NotFoundError",
    "PermissionDeniedError",
    "ProviderError",
    "ProviderErrorInfo",
    "RateLimitError",
    "RateLimitInfo",
    "RequestTimeoutError",
    "ResponseValidationError",
    "ServerError",
    "api_error_class",
]


def _restore(cls: type[BabySeaError], args: tuple[Any, ...]) -> BabySeaError:
    exc = cls.__new__(cls)
    exc.args = args
    return exc


class BabySeaError(Exception):
    """Base class of every error raised by :mod:`django_babysea.client`."""

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only constructors do not survive the default pickling; Celery needs it.
        return (_restore, (type(self), self.args), self.__dict__)


class ConfigurationError(BabySeaError, ValueError):
    """Invalid client settings or call arguments; raised before anything is sent."""


@dataclass(frozen=True, slots=True)
class RateLimitInfo:
    """The ``X-RateLimit-*`` and ``Retry-After`` headers of a response."""

    limit: int
    remaining: int
    reset: int
    retry_after: int | None


@dataclass(frozen=True, slots=True)
class ProviderErrorInfo:
    """One entry of ``error.provider_errors``: how one provider of the failover chain failed."""

    provider: str
    code: str
    type: str
    message: str
    retryable: bool


class APIError(BabySeaError):
    """BabySea answered with a non-2xx status; the fields come from the error envelope."""

    def __init__(
        self,
        *,
        status: int,
        code: str,
        type: str,
        message: str,
        retryable: bool,
        request_id: str | None = None,
        details: dict[str, Any] | None = None,
        provider_errors: tuple[ProviderErrorInfo, ...] = (),
        rate_limit: RateLimitInfo | None = None,
        retry_after: float | None = None,
        body: dict[str, Any] | None = None,
        attempts: int = 1,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.type = type
        self.message = message
        self.retryable = retryable
        self.request_id = request_id
        self.details = details
        self.provider_errors = provider_errors
        self.rate_limit = rate_limit
        #: Seconds from the ``Retry-After`` header, when the response had one.
        self.retry_after = retry_after
        #: The normalized error envelope (``{"status": "error", "request_id": ..., "error": ...}``).
        self.body = body if body is not None else {}
        #: How many attempts were made in total before this error was raised.
        self.attempts = attempts

    def __str__(self) -> str:
        text = f"{self.code} {self.type} (HTTP {self.status}): {self.message}"
        if self.request_id:
            text += f" [request_id={self.request_id}]"
        if self.attempts > 1:
            text += f" after {self.attempts} attempts"
        return text


class AuthenticationError(APIError):
    """BSE1001/BSE1002 or HTTP 401: the key is missing, invalid, expired, revoked or foreign."""


class PermissionDeniedError(APIError):
    """BSE1003/BSE1007 or HTTP 403 (including the edge firewall's plain-text 403)."""


class InsufficientCreditsError(APIError):
    """BSE1004 or HTTP 402: the balance does not cover the reservation."""


class RateLimitError(APIError):
    """BSE1005/BSE1006 or HTTP 429."""


class ConcurrencyLimitError(RateLimitError):
    """BSE1009: the plan's in-flight generation cap is reached."""


class InvalidRequestError(APIError):
    """BSE2001-BSE2010 or HTTP 400/413/422: the request itself must change."""


class NotFoundError(APIError):
    """BSE1008/BSE2011/BSE2014 or HTTP 404: account, generation or model not found."""


class NotCancelableError(APIError):
    """BSE2012/BSE2013: the generation is already terminal or past its cancel window."""


class IdempotencyConflictError(APIError):
    """BSE2015/BSE2016: the Idempotency-Key was reused with another body, or is still running."""


class ProviderError(APIError):
    """BSE4xxx: inference provider failures (see :attr:`APIError.provider_errors`)."""


class ServerError(APIError):
    """BSE5xxx or any other 5xx answer."""


_BY_CODE: dict[str, type[APIError]] = {
    "BSE1001": AuthenticationError,
    "BSE1002": AuthenticationError,
    "BSE1003": PermissionDeniedError,
    "BSE1004": InsufficientCreditsError,
    "BSE1005": RateLimitError,
    "BSE1006": RateLimitError,
    "BSE1007": PermissionDeniedError,
    "BSE1008": NotFoundError,
    "BSE1009": ConcurrencyLimitError,
    **{f"BSE20{n:02d}": InvalidRequestError for n in range(1, 11)},
    "BSE2011": NotFoundError,
    "BSE2012": NotCancelableError,
    "BSE2013": NotCancelableError,
    "BSE2014": NotFoundError,
    "BSE2015": IdempotencyConflictError,
    "BSE2016": IdempotencyConflictError,
}

_BY_STATUS: dict[int, type[APIError]] = {
    400: InvalidRequestError,
    401: AuthenticationError,
    402: InsufficientCreditsError,
    403: PermissionDeniedError,
    404: NotFoundError,
    413: InvalidRequestError,
    422: InvalidRequestError,
    429: RateLimitError,
}


def api_error_class(code: str, status: int) -> type[APIError]:
    """The most specific class for a ``BSE`` code, falling back on the HTTP status."""
    if code in _BY_CODE:
        return _BY_CODE[code]
    if len(code) == 7 and code[3:].isdigit():
        if code.startswith("BSE4"):
            return ProviderError
        if code.startswith("BSE5"):
            return ServerError
    if status >= 500:
        return ServerError
    return _BY_STATUS.get(status, APIError)


class NetworkError(BabySeaError):
    """The request could not be completed: DNS, refused or reset connection, dropped response.

    The message names the URL tried. ``cause`` is the transport exception; the client strips the
    request it carries down to method and URL, so no header (the API key) is ever pickled or
    logged with it.

    ``retryable`` is true when the request was eligible for transport retries (GET, DELETE, or a
    POST with an Idempotency-Key) and they ran out; ``attempts`` counts every try.
    """

    def __init__(
        self,
        cause: BaseException,
        *,
        attempts: int,
        retryable: bool,
        description: str | None = None,
    ) -> None:
        plural = "attempt" if attempts == 1 else "attempts"
        super().__init__(f"Network error after {attempts} {plural}: {description or cause}")
        self.cause = cause
        self.attempts = attempts
        self.retryable = retryable


class RequestTimeoutError(BabySeaError, TimeoutError):
    """No answer within the client's timeout. Never retried: the request may have run."""

    def __init__(self, timeout: float) -> None:
        super().__init__(f"Request timed out after {timeout:g}s")
        self.timeout = timeout


class ResponseValidationError(BabySeaError):
    """A 2xx answer that is not BabySea's success envelope, or whose ``data`` lacks a field or
    has a field of the wrong type. ``where`` names the offending field (``data.generation_id``)."""

    def __init__(
        self,
        message: str,
        *,
        where: str | None = None,
        status: int | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.where = where
        self.status = status
        self.request_id = request_id

    def __str__(self) -> str:
        text = f"Unexpected BabySea response: {f'{self.where}: ' if self.where else ''}"
        text += self.message
        if self.status is not None:
            text += f" (HTTP {self.status})"
        if self.request_id:
            text += f" [request_id={self.request_id}]"
        return text


class GenerationFailedError(BabySeaError):
    """:meth:`~django_babysea.client.BabySea.wait_for_generation` saw ``failed`` or ``canceled``."""

    def __init__(self, generation: Generation) -> None:
        status = generation.generation_status
        detail = generation.generation_error or f"Generation {generation.generation_id} {status}"
        code = generation.generation_error_code
        super().__init__(f"{detail} ({code})" if code else detail)
        self.generation = generation
        self.generation_id = generation.generation_id
        self.generation_status = status
        self.generation_error_code = code


class GenerationTimeoutError(BabySeaError):
    """:meth:`~django_babysea.client.BabySea.wait_for_generation` ran out of time."""

    def __init__(self, generation_id: str, *, timeout: float, last_status: str | None) -> None:
        super().__init__(
            f"Generation {generation_id} did not finish within {timeout:g}s "
            f"(last status: {last_status})"
        )
        self.generation_id = generation_id
        self.timeout = timeout
        self.last_status = last_status
