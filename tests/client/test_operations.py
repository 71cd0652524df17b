"""All 17 operations against the scripted server, served the contract's example bodies."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from datetime import UTC, datetime
from typing import Any

import pytest

from django_babysea.client import (
    Account,
    BabySea,
    Billing,
    CacheHealth,
    CancelResult,
    DeleteResult,
    Estimate,
    Generation,
    GenerationCreated,
    GenerationPage,
    KeyStatus,
    ModelsHealth,
    ProvidersHealth,
    StorageHealth,
    Usage,
)
from django_babysea.client.types import Record

from .server import Reply, ScriptedServer, example

GEN_ID = "8e2c4a61-5f3b-4d9e-a1c7-3b6f0d2e9a18"
CLIENT_SIDE = {"raw", "request_id", "idempotency_replayed"}


def as_json(value: Any) -> Any:
    """A parsed value written back the way the contract's JSON writes it."""
    if isinstance(value, datetime):
        assert value.tzinfo is not None
        utc = value.astimezone(UTC)
        return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"
    if isinstance(value, tuple):
        return [as_json(v) for v in value]
    if isinstance(value, dict):
        return {k: as_json(v) for k, v in value.items()}
    if isinstance(value, Record):
        return {k: as_json(getattr(value, k)) for k in value.raw}
    return value


def assert_mirrors(record: Record, data: dict[str, Any]) -> None:
    """Every key of ``data`` is a field of ``record`` holding the same value; every other field
    is unset; ``raw`` is ``data`` itself."""
    names = {f.name for f in fields(record)} - CLIENT_SIDE
    assert set(data) <= names, set(data) - names
    for key, expected in data.items():
        assert as_json(getattr(record, key)) == expected, key
    for name in names - set(data):
        assert getattr(record, name) in (None, ()), name
    assert record.raw == data


SIMPLE = [
    # (call, method, path, query, example file, result class)
    (lambda c: c.status(), "GET", "/v1/status", {}, "status", KeyStatus),
    (lambda c: c.usage(days=7), "GET", "/v1/usage", {"days": ["7"]}, "usage", Usage),
    (lambda c: c.account(), "GET", "/v1/user/account", {}, "user_account", Account),
    (lambda c: c.billing(), "GET", "/v1/user/billing", {}, "user_billing", Billing),
    (
        lambda c: c.estimate("bfl/flux-schnell", count=4),
        *("GET", "/v1/estimate/bfl/flux-schnell", {"count": ["4"]}, "estimate_image", Estimate),
    ),
    (
        lambda c: c.get_generation(GEN_ID),
        *("GET", f"/v1/content/{GEN_ID}", {}, "content_get", Generation),
    ),
    (
        lambda c: c.get_generation("5b9e1f37-0c2d-4a86-b4e9-1f7c3d8a6b25"),
        "GET",
        "/v1/content/5b9e1f37-0c2d-4a86-b4e9-1f7c3d8a6b25",
        {},
        "content_get_failed",
        Generation,
    ),
    (
        lambda c: c.get_generation("2d6f8b14-9e3a-4c57-a0b8-5e1d7f9c3b62"),
        "GET",
        "/v1/content/2d6f8b14-9e3a-4c57-a0b8-5e1d7f9c3b62",
        {},
        "content_get_removed",
        Generation,
    ),
    (
        lambda c: c.delete_generation("2d6f8b14-9e3a-4c57-a0b8-5e1d7f9c3b62"),
        "DELETE",
        "/v1/content/2d6f8b14-9e3a-4c57-a0b8-5e1d7f9c3b62",
        {},
        "content_delete",
        DeleteResult,
    ),
    (
        lambda c: c.cancel_generation("e7a3c5d9-4b1f-4e2a-8d60-9c5b2f1e3a7d"),
        "POST",
        "/v1/content/generation/cancel/e7a3c5d9-4b1f-4e2a-8d60-9c5b2f1e3a7d",
        {},
        "content_cancel",
        CancelResult,
    ),
    (
        lambda c: c.health.providers(),
        *("GET", "/v1/health/inference/providers", {}, "health_inference_providers"),
        ProvidersHealth,
    ),
    (
        lambda c: c.health.models(),
        *("GET", "/v1/health/inference/models", {}, "health_inference_models", ModelsHealth),
    ),
    (
        lambda c: c.health.storage(),
        "GET",
        "/v1/health/storage",
        {},
        "health_storage",
        StorageHealth,
    ),
    (lambda c: c.health.cache(), "GET", "/v1/health/cache", {}, "health_cache", CacheHealth),
]


@pytest.mark.parametrize(
    ("call", "method", "path", "query", "name", "cls"), SIMPLE, ids=[c[4] for c in SIMPLE]
)
def test_operation_parses_every_field(
    client: BabySea,
    server: ScriptedServer,
    call: Callable[[BabySea], Record],
    method: str,
    path: str,
    query: dict[str, list[str]],
    name: str,
    cls: type[Record],
) -> None:
    server.script(method, path, Reply.example(name))
    body = example(name)

    result = call(client)

    assert type(result) is cls
    assert_mirrors(result, body["data"])
    assert result.request_id == body["request_id"]  # type: ignore[attr-defined]
    [seen] = server.seen()
    assert (seen.method, seen.path, seen.query) == (method, path, query)
    assert seen.body == b""
    assert "content-type" not in seen.headers


def test_status_values(client: BabySea, server: ScriptedServer) -> None:
    server.script("GET", "/v1/status", Reply.example("status"))
    status = client.status()
    assert status.apikey_prefix == "bye_Q7mZ2"
    assert status.apikey_name == "django-prod-worker"
    assert status.apikey_created_at == datetime(2026, 5, 2, 9, 14, 27, 512000, tzinfo=UTC)
    assert status.apikey_expires_at is None
    assert status.request_id == "req_4f1a9c2e7b3d5a60e8c1f4b2"


def test_usage_nested_items(client: BabySea, server: ScriptedServer) -> None:
    server.script("GET", "/v1/usage", Reply.example("usage"))
    usage = client.usage()
    assert server.seen()[0].query == {"days": ["30"]}
    assert usage.usage_total_estimated_cost == pytest.approx(3.861)
    image = usage.usage_endpoints[0]
    assert (image.endpoint, image.total_requests, image.error_codes["BSE1009"]) == (
        "/v1/generate/image",
        131,
        2,
    )
    assert [p.provider for p in usage.usage_providers] == ["bfl", "replicate", "byteplus"]
    assert usage.usage_providers[1].wasted_estimated_cost == pytest.approx(0.16)
    assert isinstance(usage.usage_providers[2].wasted_estimated_cost, float)


def test_billing_and_account_values(client: BabySea, server: ScriptedServer) -> None:
    server.script("GET", "/v1/user/billing", Reply.example("user_billing"))
    server.script("GET", "/v1/user/account", Reply.example("user_account"))
    billing = client.billing()
    account = client.account()
    assert billing.billing_credit_balance == pytest.approx(23.417)
    assert billing.billing_plan == "Pro Monthly"
    assert billing.billing_cancel_at_period_end is False
    assert billing.billing_period_ends_at == datetime(2026, 7, 1, tzinfo=UTC)
    assert account.account_name == "Northwind Studio"
    assert account.account_is_personal is False
    assert account.account_picture_url is None


def test_estimate_video_sends_every_option(client: BabySea, server: ScriptedServer) -> None:
    path = "/v1/estimate/bytedance/seedance-1.5-pro"
    server.script("GET", path, Reply.example("estimate_video"), Reply.example("estimate_video"))
    estimate = client.estimate(
        "bytedance/seedance-1.5-pro", count=2, duration=8, resolution="1080p", audio=False
    )
    client.estimate("bytedance/seedance-1.5-pro", audio=True)
    first, second = server.seen()
    assert first.path == path  # the model id's slash is not encoded
    assert first.query == {
        "count": ["2"],
        "duration": ["8"],
        "resolution": ["1080p"],
        "audio": ["false"],
    }
    assert second.query == {"audio": ["true"]}
    assert_mirrors(estimate, example("estimate_video")["data"])
    assert (estimate.cost_per_second, estimate.duration_seconds) == (0.166, 8)
    assert estimate.credit_balance_max_affordable == 17


def test_generate_image(client: BabySea, server: ScriptedServer) -> None:
    server.script("POST", "/v1/generate/image/bfl/flux-schnell", Reply.example("generate_image"))
    created = client.generate(
        "bfl/flux-schnell",
        generation_prompt="A harbor seal pup",
        generation_ratio="16:9",
        generation_seed=7,
        generation_input_file=None,
    )
    [seen] = server.seen()
    assert seen.path == "/v1/generate/image/bfl/flux-schnell"
    assert seen.json() == {
        "generation_prompt": "A harbor seal pup",
        "generation_ratio": "16:9",
        "generation_seed": 7,
    }
    assert seen.headers["content-type"] == "application/json"
    assert "idempotency-key" not in seen.headers
    assert isinstance(created, GenerationCreated)
    assert_mirrors(created, example("generate_image")["data"])
    assert created.generation_provider_order == ("bfl", "replicate", "cloudflare")
    assert created.generation_initialized is True
    assert created.idempotency_replayed is False
    assert created.canceled is False


def test_generate_video_route_and_idempotency_key(client: BabySea, server: ScriptedServer) -> None:
    path = "/v1/generate/video/bytedance/seedance-1-pro"
    server.script("POST", path, Reply.example("generate_video"))
    created = client.generate(
        "bytedance/seedance-1-pro",
        idempotency_key="job:order-1042.hero_v2-x",
        generation_prompt="Slow dolly shot",
        generation_duration=8,
        generation_resolution="1080p",
    )
    [seen] = server.seen()
    assert seen.path == path
    assert seen.headers["idempotency-key"] == "job:order-1042.hero_v2-x"
    assert seen.json()["generation_duration"] == 8
    assert created.generation_id == "c41d7e93-2a5b-4f08-9c6e-7d1a3b5f2e04"
    assert created.request_id == "req_8f1b4d6e2a0c3b57e9d1a4c6"


def test_generate_replay_surfaces_header_and_canceled_shape(
    client: BabySea, server: ScriptedServer
) -> None:
    server.script(
        "POST",
        "/v1/generate/image/bfl/flux-schnell",
        Reply.example("generate_image", headers={"Idempotency-Replayed": "true"}),
        Reply.example("generate_replay_canceled", headers={"Idempotency-Replayed": "true"}),
    )
    replayed = client.generate("bfl/flux-schnell", idempotency_key="k1", generation_prompt="x")
    canceled = client.generate("bfl/flux-schnell", idempotency_key="k1", generation_prompt="x")
    assert replayed.idempotency_replayed is True
    assert replayed.generation_id == GEN_ID
    assert canceled.idempotency_replayed is True
    assert canceled.canceled is True
    assert canceled.generation_id == "e7a3c5d9-4b1f-4e2a-8d60-9c5b2f1e3a7d"
    assert canceled.generation_status == "canceled"
    assert canceled.model_identifier is None
    assert canceled.generation_provider_order is None
    assert canceled.generation_prediction_id is None
    assert canceled.generation_initialized is None


def test_get_generation_values(client: BabySea, server: ScriptedServer) -> None:
    server.script("GET", f"/v1/content/{GEN_ID}", Reply.example("content_get"))
    generation = client.get_generation(GEN_ID)
    assert generation.generation_status == "succeeded"
    assert generation.is_terminal
    assert generation.generation_output_file == (
        f"https://cdn.us.babysea.ai/generations/{GEN_ID}/output-0.png",
    )
    assert generation.generation_created_at == datetime(2026, 6, 10, 16, 7, 12, 281000, tzinfo=UTC)
    assert generation.generation_metrics_total_time == pytest.approx(3.621)
    assert generation.generation_input_file is None
    assert generation.extra == {}


def test_failed_and_removed_records(client: BabySea, server: ScriptedServer) -> None:
    failed_id, removed_id = (
        "5b9e1f37-0c2d-4a86-b4e9-1f7c3d8a6b25",
        "2d6f8b14-9e3a-4c57-a0b8-5e1d7f9c3b62",
    )
    server.script("GET", f"/v1/content/{failed_id}", Reply.example("content_get_failed"))
    server.script("GET", f"/v1/content/{removed_id}", Reply.example("content_get_removed"))
    failed = client.get_generation(failed_id)
    removed = client.get_generation(removed_id)
    assert (failed.generation_error_code, failed.generation_provider_used) == ("BSE4003", None)
    assert failed.generation_error is not None
    assert failed.generation_error.startswith("All inference providers")
    assert failed.generation_duration == 8
    assert removed.generation_removed is True
    assert removed.generation_output_file is None
    assert removed.generation_audio_mode == "audio"
    assert removed.generation_generate_audio is True
    assert removed.generation_resolution == "720p"


def test_model_specific_fields_are_kept(client: BabySea, server: ScriptedServer) -> None:
    body = example("content_get")
    body["data"] |= {"generation_seed": 42, "generation_negative_prompt": "blurry"}
    server.script("GET", f"/v1/content/{GEN_ID}", Reply(200, body))
    generation = client.get_generation(GEN_ID)
    assert generation.extra == {"generation_seed": 42, "generation_negative_prompt": "blurry"}
    assert generation.raw["generation_seed"] == 42


def test_list_generations(client: BabySea, server: ScriptedServer) -> None:
    server.script("GET", "/v1/content/list", Reply.example("content_list"))
    page = client.list_generations(limit=3, offset=0)
    body = example("content_list")
    [seen] = server.seen()
    assert seen.query == {"limit": ["3"], "offset": ["0"]}
    assert isinstance(page, GenerationPage)
    assert (page.total, page.limit, page.offset) == (57, 3, 0)
    assert page.request_id == body["request_id"]
    assert [g.generation_status for g in page.generations] == ["processing", "succeeded", "failed"]
    for generation, data in zip(page.generations, body["data"]["generations"], strict=True):
        assert_mirrors(generation, data)
        assert generation.request_id == body["request_id"]


def test_library_models(client: BabySea, server: ScriptedServer) -> None:
    server.script("GET", "/v1/library/models", Reply.example("library_models"))
    models = client.library.models()
    data = example("library_models")["data"]
    assert isinstance(models, list)
    assert len(models) == data["models_total"] == 25
    for model, raw in zip(models, data["models"], strict=True):
        assert_mirrors(model, raw)
    by_id = {m.model_identifier: m for m in models}
    schnell = by_id["bfl/flux-schnell"]
    assert schnell.model_pricing == 0.005
    assert schnell.schema.generation_ratio[0] == "1:1"
    assert schnell.schema.generation_duration is None
    assert schnell.specific_schema == ("generation_seed",)
    seedance = by_id["bytedance/seedance-1.5-pro"]
    assert seedance.model_pricing == {
        "720p_audio": 0.052,
        "720p_noaudio": 0.026,
        "1080p_audio": 0.115,
        "1080p_noaudio": 0.058,
    }
    assert seedance.schema.generation_generate_audio is True
    assert by_id["google/veo-2"].schema.generation_duration == (5, 8)


def test_library_providers(client: BabySea, server: ScriptedServer) -> None:
    server.script("GET", "/v1/library/providers", Reply.example("library_providers"))
    providers = client.library.providers()
    data = example("library_providers")["data"]
    assert len(providers) == data["providers_total"] == 8
    for provider, raw in zip(providers, data["providers"], strict=True):
        assert_mirrors(provider, raw)
    fal = next(p for p in providers if p.provider_id == "fal")
    assert fal.babysea_implementation.cancel_method == "queue_cancel_api"
    assert fal.babysea_implementation.webhook_verification == "ed25519"
    assert fal.babysea_implementation.supported_media_types == ("image", "video")
    assert fal.babysea_implementation.supported_models_total == 14
    assert providers[0].babysea_implementation.cancel_method is None


def test_health_values(client: BabySea, server: ScriptedServer) -> None:
    server.script(
        "GET", "/v1/health/inference/providers", Reply.example("health_inference_providers")
    )
    server.script("GET", "/v1/health/inference/models", Reply.example("health_inference_models"))
    server.script("GET", "/v1/health/storage", Reply.example("health_storage"))
    server.script("GET", "/v1/health/cache", Reply.example("health_cache"))
    providers = client.health.providers()
    models = client.health.models()
    storage = client.health.storage()
    cache = client.health.cache()
    bfl = providers.providers[-1]
    assert (bfl.provider, bfl.status, bfl.failure_rate) == ("bfl", "degraded", 0.375)
    assert (bfl.window.total_attempts, bfl.window.duration_seconds) == (16, 300)
    veo = models.models[1]
    assert veo.providers["fal"].available is False
    assert veo.providers["fal"].raw_model_id == "fal-ai/veo2"
    assert models.models[2].model_pricing is None
    assert models.models[2].providers["fal"].raw_model_id is None
    assert (storage.service, storage.bucket, storage.latency_ms, storage.error) == (
        "storage",
        "generations-us",
        41.0,
        None,
    )
    assert (cache.service, cache.healthy, cache.latency_ms) == ("redis", True, 3.0)


def test_generation_ids_are_one_path_segment(client: BabySea, server: ScriptedServer) -> None:
    server.script("GET", "/v1/content/a%2F..%2Fstatus%3Fx", Reply.example("content_get"))
    client.get_generation("a/../status?x")
    assert server.seen()[0].path == "/v1/content/a%2F..%2Fstatus%3Fx"
