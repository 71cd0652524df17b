"""The asynchronous client, :class:`AsyncBabySea`: the same operations, retry policy, parsing and
polling logic as :class:`~django_babysea.client.BabySea`, sent with ``httpx.AsyncClient``."""

from __future__ import annotations

import asyncio
import random as _random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
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


class AsyncBabySea(ClientIdentity):
    """Async twin of :class:`~django_babysea.client.BabySea`: same arguments and methods, each a
    coroutine; ``iter_generations`` is an async iterator and ``sleep`` an async function."""

    def __init__(
        self,
        api_key: str,
        region: str = DEFAULT_REGION,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        *,
        max_retry_after: float = DEFAULT_MAX_RETRY_AFTER,
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        random: Callable[[], float] = _random.random,
    ) -> None:
        self._core = Core.create(
            api_key, region, base_url, timeout, max_retries, random, max_retry_after
        )
        if http_client is not None and transport is not None:
            raise ConfigurationError("Pass either transport or http_client, not both.")
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(transport=transport, follow_redirects=False)
        self._sleep = sleep
        self._clock = clock
        self.library = AsyncLibrary(self)
        self.health = AsyncHealth(self)

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _run(self, operation: Operation[T]) -> T:
        request = self._core.request(operation)
        attempt = 0
        step: Done[T] | Retry
        while True:
            attempt += 1
            try:
                response = await self._http.send(request)
            except httpx.TransportError as exc:
                step = self._core.on_exception(operation, exc, attempt)
            else:
                step = self._core.on_response(operation, response, attempt)
            if isinstance(step, Done):
                return step.value
            await self._sleep(step.delay)

    async def status(self) -> KeyStatus:
        return await self._run(ops.status())

    async def usage(self, days: int = 30) -> Usage:
        return await self._run(ops.usage(days))

    async def account(self) -> Account:
        return await self._run(ops.account())

    async def billing(self) -> Billing:
        return await self._run(ops.billing())

    async def estimate(
        self,
        model: str,
        *,
        count: int | None = None,
        duration: int | None = None,
        resolution: str | None = None,
        audio: bool | None = None,
    ) -> Estimate:
        return await self._run(ops.estimate(model, count, duration, resolution, audio))

    async def generate(
        self, model: str, *, idempotency_key: str | None = None, **fields: Any
    ) -> GenerationCreated:
        return await self._run(ops.generate(model, idempotency_key, fields))

    async def get_generation(self, generation_id: str) -> Generation:
        return await self._run(ops.get_generation(generation_id))

    async def list_generations(self, limit: int = 50, offset: int = 0) -> GenerationPage:
        return await self._run(ops.list_generations(limit, offset))

    async def iter_generations(self, page_size: int = 100) -> AsyncIterator[Generation]:
        offset: int | None = 0
        while offset is not None:
            page = await self.list_generations(limit=page_size, offset=offset)
            for generation in page.generations:
                yield generation
            offset = next_offset(page)

    async def cancel_generation(self, generation_id: str) -> CancelResult:
        return await self._run(ops.cancel_generation(generation_id))

    async def delete_generation(self, generation_id: str) -> DeleteResult:
        return await self._run(ops.delete_generation(generation_id))

    async def wait_for_generation(
        self,
        generation_id: str,
        *,
        timeout: float = DEFAULT_WAIT_TIMEOUT,
        interval: float = DEFAULT_WAIT_INTERVAL,
    ) -> Generation:
        poll = Poll(generation_id, timeout, interval, self._clock)
        while True:
            generation = await self.get_generation(generation_id)
            delay = poll.after(generation)
            if delay is None:
                return generation
            await self._sleep(delay)

    async def generate_and_wait(
        self,
        model: str,
        *,
        idempotency_key: str | None = None,
        timeout: float = DEFAULT_WAIT_TIMEOUT,
        interval: float = DEFAULT_WAIT_INTERVAL,
        **fields: Any,
    ) -> Generation:
        created = await self.generate(model, idempotency_key=idempotency_key, **fields)
        return await self.wait_for_generation(
            created.generation_id, timeout=timeout, interval=interval
        )


class AsyncLibrary:
    __slots__ = ("_client",)

    def __init__(self, client: AsyncBabySea) -> None:
        self._client = client

    async def models(self) -> list[ModelInfo]:
        return await self._client._run(ops.library_models())

    async def providers(self) -> list[ProviderInfo]:
        return await self._client._run(ops.library_providers())


class AsyncHealth:
    __slots__ = ("_client",)

    def __init__(self, client: AsyncBabySea) -> None:
        self._client = client

    async def providers(self) -> ProvidersHealth:
        return await self._client._run(ops.health_providers())

    async def models(self) -> ModelsHealth:
        return await self._client._run(ops.health_models())

    async def storage(self) -> StorageHealth:
        return await self._client._run(ops.health_storage())

    async def cache(self) -> CacheHealth:
        return await self._client._run(ops.health_cache())
