"""``AsyncBabySea`` runs the same operation descriptions, retry policy and polling logic."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest

from django_babysea.client import (
    AsyncBabySea,
    ConfigurationError,
    GenerationFailedError,
    InsufficientCreditsError,
    NetworkError,
    RequestTimeoutError,
    ServerError,
)

from .conftest import API_KEY, FakeTime
from .server import Reply, ScriptedServer
from .server import generation_reply as record
from .server import page_reply as page

T = TypeVar("T")
GEN_ID = "8e2c4a61-5f3b-4d9e-a1c7-3b6f0d2e9a18"


def run(
    server: ScriptedServer,
    fake_time: FakeTime,
    body: Callable[[AsyncBabySea], Awaitable[T]],
    **options: Any,
) -> T:
    async def main() -> T:
        async with AsyncBabySea(
            API_KEY,
            base_url=server.url,
            sleep=fake_time.async_sleep,
            clock=fake_time.clock,
            random=lambda: 0.5,
            **({"timeout": 5} | options),
        ) as client:
            return await body(client)

    return asyncio.run(main())


OPERATIONS: list[tuple[str, str, str, Callable[[AsyncBabySea], Awaitable[Any]]]] = [
    ("GET", "/v1/status", "status", lambda c: c.status()),
    ("GET", "/v1/usage", "usage", lambda c: c.usage(days=7)),
    ("GET", "/v1/user/account", "user_account", lambda c: c.account()),
    ("GET", "/v1/user/billing", "user_billing", lambda c: c.billing()),
    (
        "GET",
        "/v1/estimate/bfl/flux-schnell",
        "estimate_image",
        lambda c: c.estimate("bfl/flux-schnell", count=4),
    ),
    (
        "POST",
        "/v1/generate/image/bfl/flux-schnell",
        "generate_image",
        lambda c: c.generate("bfl/flux-schnell", generation_prompt="x"),
    ),
    (
        "POST",
        "/v1/generate/video/bytedance/seedance-1-pro",
        "generate_video",
        lambda c: c.generate(
            "bytedance/seedance-1-pro", generation_prompt="x", generation_duration=8
        ),
    ),
    ("GET", f"/v1/content/{GEN_ID}", "content_get", lambda c: c.get_generation(GEN_ID)),
    ("GET", "/v1/content/list", "content_list", lambda c: c.list_generations(limit=3)),
    ("DELETE", "/v1/content/x", "content_delete", lambda c: c.delete_generation("x")),
    (
        "POST",
        "/v1/content/generation/cancel/x",
        "content_cancel",
        lambda c: c.cancel_generation("x"),
    ),
    ("GET", "/v1/library/models", "library_models", lambda c: c.library.models()),
    ("GET", "/v1/library/providers", "library_providers", lambda c: c.library.providers()),
    (
        "GET",
        "/v1/health/inference/providers",
        "health_inference_providers",
        lambda c: c.health.providers(),
    ),
    (
        "GET",
        "/v1/health/inference/models",
        "health_inference_models",
        lambda c: c.health.models(),
    ),
    ("GET", "/v1/health/storage", "health_storage", lambda c: c.health.storage()),
    ("GET", "/v1/health/cache", "health_cache", lambda c: c.health.cache()),
]


def test_every_operation(server: ScriptedServer, fake_time: FakeTime) -> None:
    for method, path, name, _ in OPERATIONS:
        server.script(method, path, Reply.example(name))

    async def body(client: AsyncBabySea) -> list[Any]:
        return [await call(client) for *_, call in OPERATIONS]

    results = run(server, fake_time, body)
    assert [(r.method, r.path) for r in server.seen()] == [(m, p) for m, p, *_ in OPERATIONS]
    status, usage, account, billing, estimate, image, video, generation, page, *rest = results
    deleted, canceled, models, providers, provider_health, model_health, storage, cache = rest
    assert status.apikey_prefix == "bye_Q7mZ2"
    assert usage.usage_total_requests == 412
    assert account.account_name == "Northwind Studio"
    assert billing.billing_credit_balance == 23.417
    assert estimate.credit_balance_max_affordable == 4683
    assert image.generation_id == GEN_ID
    assert video.generation_id == "c41d7e93-2a5b-4f08-9c6e-7d1a3b5f2e04"
    assert generation.generation_status == "succeeded"
    assert (page.total, len(page.generations)) == (57, 3)
    assert deleted.files_deleted == 1
    assert canceled.credits_refunded is True
    assert len(models) == 25
    assert len(providers) == 8
    assert provider_health.providers_total == 5
    assert model_health.models_total == 3
    assert storage.bucket == "generations-us"
    assert cache.service == "redis"
    assert len(server.ports) == 1  # one pooled connection


def test_retries_and_errors(server: ScriptedServer, fake_time: FakeTime) -> None:
    down = Reply(503, {"status": "error", "error": {"code": "BSE5001", "retryable": True}})
    server.script("GET", "/v1/status", down, Reply.example("status"))
    server.script("GET", "/v1/usage", down, down, down)
    server.script("GET", "/v1/user/billing", Reply.example("error_insufficient_credits", 402))
    server.script("POST", "/v1/generate/image/bfl/flux-schnell", Reply(drop=True))

    async def body(client: AsyncBabySea) -> list[BaseException]:
        await client.status()
        caught: list[BaseException] = []
        for call in (
            client.usage(),
            client.billing(),
            client.generate("bfl/flux-schnell", generation_prompt="x"),
        ):
            try:
                await call
            except Exception as exc:
                caught.append(exc)
        return caught

    usage_error, billing_error, network_error = run(server, fake_time, body)
    assert isinstance(usage_error, ServerError)
    assert usage_error.attempts == 3
    assert isinstance(billing_error, InsufficientCreditsError)
    assert isinstance(network_error, NetworkError)
    assert (network_error.attempts, network_error.retryable) == (1, False)
    assert len(server.seen("GET", "/v1/status")) == 2
    assert len(server.seen("GET", "/v1/usage")) == 3
    assert len(server.seen("POST")) == 1
    assert fake_time.sleeps == [0.5, 0.5, 1.0]


def test_timeout(server: ScriptedServer, fake_time: FakeTime) -> None:
    server.script("GET", "/v1/status", Reply.example("status", delay=1))

    async def body(client: AsyncBabySea) -> None:
        await client.status()

    with pytest.raises(RequestTimeoutError):
        run(server, fake_time, body, timeout=0.1)
    assert len(server.seen()) == 1


def test_paging_and_waiting(server: ScriptedServer, fake_time: FakeTime) -> None:
    server.script("GET", "/v1/content/list", page(["a", "b"], 3, 0), page(["c"], 3, 2))
    server.script(
        "GET",
        f"/v1/content/{GEN_ID}",
        record("processing"),
        record("succeeded"),
        record("canceled"),
    )

    async def body(client: AsyncBabySea) -> tuple[list[str], str, BaseException | None]:
        ids = [g.generation_id async for g in client.iter_generations(page_size=2)]
        done = await client.wait_for_generation(GEN_ID, interval=1)
        try:
            await client.wait_for_generation(GEN_ID)
        except GenerationFailedError as exc:
            return ids, done.generation_status, exc
        return ids, done.generation_status, None

    ids, status, error = run(server, fake_time, body)
    assert ids == ["a", "b", "c"]
    assert status == "succeeded"
    assert isinstance(error, GenerationFailedError)
    assert error.generation_status == "canceled"
    assert fake_time.sleeps == [1.0]
    assert len(server.seen()) == 5


def test_constructor_checks_and_repr() -> None:
    with pytest.raises(ConfigurationError):
        AsyncBabySea("")
    client = AsyncBabySea(API_KEY, region="jp")
    assert API_KEY not in repr(client)
    assert repr(client).startswith("AsyncBabySea(region='jp', base_url='https://api.jp.babysea.ai'")
    asyncio.run(client.aclose())
