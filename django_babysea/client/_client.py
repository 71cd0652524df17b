"""The synchronous client, :class:`BabySea`: one pooled ``httpx.Client`` per instance."""

from __future__ import annotations

import random as _random
import time
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from . import _operations as ops
from ._config import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_MAX_RETRY_AFTER,
    DEFAULT_REGION,
    DEFAULT_TIMEOUT,
)
from ._core import ClientIdentity, Core, Done, Retry
from ._polling import DEFAULT_WAIT_INTERVAL, DEFAULT_WAIT_TIMEOUT, Poll, next_offset
from ._request import Operation
from .errors import ConfigurationError
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

T = TypeVar("T")


class BabySea(ClientIdentity):
    """BabySea API client. Thread-safe; reuse one instance (it keeps connections alive).

    ``base_url`` overrides ``region`` (a trailing ``/`` or ``/v1`` is dropped). ``timeout`` is in
    seconds per request; ``max_retries`` is the number of retries after the first attempt;
    ``max_retry_after`` is the longest ``Retry-After`` (seconds) honoured before a retry: a
    longer one raises the error at once instead of sleeping.
    ``transport`` or ``http_client`` replace the HTTP layer (a given ``http_client`` is not closed
    by :meth:`close`). ``sleep``, ``clock`` and ``random`` drive retry back-off and polling; tests
    replace them.
    """

    def __init__(
        self,
        api_key: str,
        region: str = DEFAULT_REGION,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        *,
        max_retry_after: float = DEFAULT_MAX_RETRY_AFTER,
        transport: httpx.BaseTransport | None = None,
        http_client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        random: Callable[[], float] = _random.random,
    ) -> None:
        self._core = Core.create(
            api_key, region, base_url, timeout, max_retries, random, max_retry_after
        )
        if http_client is not None and transport is not None:
            raise ConfigurationError("Pass either transport or http_client, not both.")
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(transport=transport, follow_redirects=False)
        self._sleep = sleep
        self._clock = clock
        self.library = Library(self)
        self.health = Health(self)

    # -- lifecycle ------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the pooled connections (unless the ``http_client`` was passed in)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _run(self, operation: Operation[T]) -> T:
        request = self._core.request(operation)
        attempt = 0
        step: Done[T] | Retry
        while True:
            attempt += 1
            try:
                response = self._http.send(request)
            except httpx.TransportError as exc:
                step = self._core.on_exception(operation, exc, attempt)
            else:
                step = self._core.on_response(operation, response, attempt)
            if isinstance(step, Done):
                return step.value
            self._sleep(step.delay)

    # -- account --------------------------------------------------------------------------------

    def status(self) -> KeyStatus:
        """``GET /v1/status``: check the key and see which one it is."""
        return self._run(ops.status())

    def usage(self, days: int = 30) -> Usage:
        """``GET /v1/usage``: request and provider statistics over ``days`` (1-90)."""
        return self._run(ops.usage(days))

    def account(self) -> Account:
        """``GET /v1/user/account``."""
        return self._run(ops.account())

    def billing(self) -> Billing:
        """``GET /v1/user/billing``: plan and credit balance."""
        return self._run(ops.billing())

    def estimate(
        self,
        model: str,
        *,
        count: int | None = None,
        duration: int | None = None,
        resolution: str | None = None,
        audio: bool | None = None,
    ) -> Estimate:
        """``GET /v1/estimate/{model}``: the cost of a generation, without running it."""
        return self._run(ops.estimate(model, count, duration, resolution, audio))

    # -- generations ----------------------------------------------------------------------------

    def generate(
        self, model: str, *, idempotency_key: str | None = None, **fields: Any
    ) -> GenerationCreated:
        """Start a generation: ``POST /v1/generate/video/{model}`` when ``generation_duration``
        is given, else ``/image/``. ``fields`` are the ``generation_*`` body fields (``None``
        values are left out). Pass ``idempotency_key`` to make the call safe to repeat."""
        return self._run(ops.generate(model, idempotency_key, fields))

    def get_generation(self, generation_id: str) -> Generation:
        """``GET /v1/content/{generation_id}``."""
        return self._run(ops.get_generation(generation_id))

    def list_generations(self, limit: int = 50, offset: int = 0) -> GenerationPage:
        """``GET /v1/content/list``: one page, newest first (``limit`` at most 100)."""
        return self._run(ops.list_generations(limit, offset))

    def iter_generations(self, page_size: int = 100) -> Iterator[Generation]:
        """Every generation of the account, page after page, newest first."""
        offset: int | None = 0
        while offset is not None:
            page = self.list_generations(limit=page_size, offset=offset)
            yield from page.generations
            offset = next_offset(page)

    def cancel_generation(self, generation_id: str) -> CancelResult:
        """``POST /v1/content/generation/cancel/{generation_id}`` (pending/processing only)."""
        return self._run(ops.cancel_generation(generation_id))

    def delete_generation(self, generation_id: str) -> DeleteResult:
        """``DELETE /v1/content/{generation_id}``: remove the output files; the record stays."""
        return self._run(ops.delete_generation(generation_id))

    def wait_for_generation(
        self,
        generation_id: str,
        *,
        timeout: float = DEFAULT_WAIT_TIMEOUT,
        interval: float = DEFAULT_WAIT_INTERVAL,
    ) -> Generation:
        """Poll until the generation succeeds and return it.

        Raises :class:`GenerationFailedError` on ``failed``/``canceled`` and
        :class:`GenerationTimeoutError` when the next poll would pass ``timeout`` seconds.
        ``interval`` is at least 0.5 s.
        """
        poll = Poll(generation_id, timeout, interval, self._clock)
        while True:
            generation = self.get_generation(generation_id)
            delay = poll.after(generation)
            if delay is None:
                return generation
            self._sleep(delay)

    def generate_and_wait(
        self,
        model: str,
        *,
        idempotency_key: str | None = None,
        timeout: float = DEFAULT_WAIT_TIMEOUT,
        interval: float = DEFAULT_WAIT_INTERVAL,
        **fields: Any,
    ) -> Generation:
        """:meth:`generate` then :meth:`wait_for_generation`.

        A replay answered with the canceled shape needs no polling: the first fetch sees the
        terminal ``canceled`` record and raises :class:`GenerationFailedError`."""
        created = self.generate(model, idempotency_key=idempotency_key, **fields)
        return self.wait_for_generation(created.generation_id, timeout=timeout, interval=interval)


class Library:
    """``client.library``: the model and provider catalog."""

    __slots__ = ("_client",)

    def __init__(self, client: BabySea) -> None:
        self._client = client

    def models(self) -> list[ModelInfo]:
        """``GET /v1/library/models``."""
        return self._client._run(ops.library_models())

    def providers(self) -> list[ProviderInfo]:
        """``GET /v1/library/providers``."""
        return self._client._run(ops.library_providers())


class Health:
    """``client.health``: BabySea's own health endpoints."""

    __slots__ = ("_client",)

    def __init__(self, client: BabySea) -> None:
        self._client = client

    def providers(self) -> ProvidersHealth:
        """``GET /v1/health/inference/providers``."""
        return self._client._run(ops.health_providers())

    def models(self) -> ModelsHealth:
        """``GET /v1/health/inference/models``."""
        return self._client._run(ops.health_models())

    def storage(self) -> StorageHealth:
        """``GET /v1/health/storage``."""
        return self._client._run(ops.health_storage())

    def cache(self) -> CacheHealth:
        """``GET /v1/health/cache``."""
        return self._client._run(ops.health_cache())
