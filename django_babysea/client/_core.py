"""What happens after each attempt, shared by the sync and async clients.

The clients only send requests and sleep; this module turns each outcome (a response or a
transport exception) into the operation's result, a :class:`Retry` with the delay to wait, or the
final typed exception. It also does the logging: method, path, status, attempt and request id,
never headers.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import httpx

from ._config import DEFAULT_MAX_RETRY_AFTER, ClientConfig
from ._request import Operation, build_request
from ._response import parse_error, parse_success
from ._retry import RetryPolicy
from .errors import NetworkError, RequestTimeoutError, ResponseValidationError

logger = logging.getLogger("django_babysea.client")

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Done(Generic[T]):
    """The operation's result."""

    value: T


@dataclass(frozen=True, slots=True)
class Retry:
    """Send the same request again after ``delay`` seconds."""

    delay: float


class Core:
    """The sans-IO part of a client: configuration, retry policy, outcome handling."""

    __slots__ = ("config", "policy")

    def __init__(self, config: ClientConfig, policy: RetryPolicy) -> None:
        self.config = config
        self.policy = policy

    @classmethod
    def create(
        cls,
        api_key: str,
        region: str,
        base_url: str | None,
        timeout: float,
        max_retries: int,
        random: Callable[[], float],
        max_retry_after: float = DEFAULT_MAX_RETRY_AFTER,
    ) -> Core:
        config = ClientConfig.create(
            api_key, region, base_url, timeout, max_retries, max_retry_after
        )
        policy = RetryPolicy(
            max_retries=config.max_retries,
            max_retry_after=config.max_retry_after,
            random=random,
        )
        return cls(config, policy)

    def describe(self, name: str) -> str:
        """The client's ``repr``: where it talks to, never the key."""
        c = self.config
        return (
            f"{name}(region={c.region!r}, base_url={c.origin!r}, "
            f"timeout={c.timeout:g}, max_retries={c.max_retries})"
        )

    def request(self, operation: Operation[T]) -> httpx.Request:
        return build_request(self.config, operation.spec)

    def on_response(
        self, operation: Operation[T], response: httpx.Response, attempt: int
    ) -> Done[T] | Retry:
        spec = operation.spec
        if response.is_success:
            try:
                envelope = parse_success(response)
                result = operation.parse(envelope)
            except ResponseValidationError as exc:
                exc.status = response.status_code
                exc.request_id = exc.request_id or _request_id(response)
                logger.warning("BabySea %s %s -> %s: %s", spec.method, spec.path, exc.status, exc)
                raise
            logger.debug(
                "BabySea %s %s -> %s (attempt %d, request_id=%s)",
                *(spec.method, spec.path, response.status_code, attempt, envelope.request_id),
            )
            return Done(result)
        error = parse_error(response)
        error.attempts = attempt
        delay = self.policy.after_api_error(error, attempt)
        logger.log(
            logging.INFO if delay is not None else logging.DEBUG,
            "BabySea %s %s -> %s %s (attempt %d, request_id=%s)%s",
            *(spec.method, spec.path, error.status, error.code, attempt, error.request_id),
            f"; retrying in {delay:.2f}s" if delay is not None else "",
        )
        if delay is None:
            raise error
        return Retry(delay)

    def on_exception(self, operation: Operation[T], exc: httpx.HTTPError, attempt: int) -> Retry:
        spec = operation.spec
        url = strip_request(exc)
        if isinstance(exc, httpx.TimeoutException) and not isinstance(exc, httpx.ConnectTimeout):
            logger.info("BabySea %s %s timed out (attempt %d)", spec.method, spec.path, attempt)
            raise RequestTimeoutError(self.config.timeout) from exc
        delay = self.policy.after_transport_error(replay_safe=spec.replay_safe, attempt=attempt)
        logger.info(
            "BabySea %s %s failed: %s (attempt %d)%s",
            *(spec.method, spec.path, type(exc).__name__, attempt),
            f"; retrying in {delay:.2f}s" if delay is not None else "",
        )
        if delay is None:
            raise NetworkError(
                exc,
                attempts=attempt,
                retryable=spec.replay_safe,
                description=describe_transport_error(exc, url),
            ) from exc
        return Retry(delay)


def strip_request(exc: httpx.HTTPError) -> str | None:
    """Replace the request an httpx exception carries by a bare copy (method and URL, no
    headers), so the ``Authorization`` header never travels with the exception into a pickle
    (a Celery result backend), a log record or an error report. Returns the URL."""
    try:
        request = exc.request
    except RuntimeError:  # raised without a request
        return None
    exc.request = httpx.Request(request.method, request.url)
    return str(request.url)


def describe_transport_error(exc: httpx.HTTPError, url: str | None) -> str:
    """One phrase naming what failed and where: ``Could not connect to <url>: Connection
    refused``."""
    reason = re.sub(r"^\[Errno -?\d+\]\s*", "", str(exc).strip()) or type(exc).__name__
    if url is None:
        return reason
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        return f"Could not connect to {url}: {reason}"
    return f"{reason} ({url})"


def _request_id(response: httpx.Response) -> str | None:
    try:
        value = response.json().get("request_id")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


class ClientIdentity:
    """What the sync and async clients both show of their configuration (never the key)."""

    _core: Core

    def __repr__(self) -> str:
        return self._core.describe(type(self).__name__)

    @property
    def region(self) -> str:
        return self._core.config.region

    @property
    def base_url(self) -> str:
        """The origin requests go to (paths start with ``/v1/``)."""
        return self._core.config.origin

    @property
    def timeout(self) -> float:
        return self._core.config.timeout

    @property
    def max_retries(self) -> int:
        return self._core.config.max_retries
