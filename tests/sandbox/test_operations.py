"""Every operation answers the contract's envelope with the example bodies' fields and types."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from django_babysea.sandbox import Sandbox

from .conftest import assert_shape, create, created_id, example

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def check_envelope(response: httpx.Response, name: str) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    for header in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"):
        assert response.headers[header].isdigit()
    body = response.json()
    expected = example(name)
    assert set(body) == set(expected)
    assert body["status"] == "success"
    assert re.fullmatch(r"req_[0-9a-f]{24}", body["request_id"])
    assert ISO.match(body["timestamp"])
    assert body["message"] == expected["message"]
    assert_shape(body["data"], expected["data"])
    return dict(body["data"])


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/v1/status", "status"),
        ("/v1/user/account", "user_account"),
        ("/v1/user/billing", "user_billing"),
        ("/v1/health/storage", "health_storage"),
        ("/v1/health/cache", "health_cache"),
    ],
)
def test_simple_operations_match_examples(api: httpx.Client, path: str, name: str) -> None:
    check_envelope(api.get(path), name)


def test_status_reports_the_key(api: httpx.Client, sandbox: Sandbox) -> None:
    data = check_envelope(api.get("/v1/status"), "status")
    assert data["apikey_prefix"] == sandbox.api_key[:9]
    assert ISO.match(data["apikey_last_used_at"])


def test_usage_matches_example_with_activity(api: httpx.Client) -> None:
    created_id(create(api))
    api.get("/v1/estimate/not/a-model")
    data = check_envelope(api.get("/v1/usage", params={"days": 7}), "usage")
    assert data["usage_period_days"] == 7
    assert data["usage_total_generations"] == 1
    assert data["usage_total_client_errors"] == 1
    groups = {row["endpoint"]: row for row in data["usage_endpoints"]}
    assert groups["/v1/estimate"]["error_codes"] == {"BSE2014": 1}
    assert groups["/v1/generate/image"]["success_count"] == 1
    assert data["usage_providers"][0]["provider"] == "bfl"


def test_billing_balance_is_three_decimals(api: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.set_balance("23.417")
    data = check_envelope(api.get("/v1/user/billing"), "user_billing")
    assert data["billing_credit_balance"] == 23.417
    assert data["billing_plan"] == "Pro Monthly"


def test_estimate_image_and_video_match_examples(api: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.set_balance("23.417")
    image = check_envelope(api.get("/v1/estimate/bfl/flux-schnell?count=4"), "estimate_image")
    assert image == example("estimate_image")["data"]
    video = check_envelope(
        api.get("/v1/estimate/bytedance/seedance-1-pro?duration=10&resolution=1080p"),
        "estimate_video",
    )
    assert video["cost_per_second"] == 0.166
    assert video["cost_per_generation"] == 1.66
    assert video["credit_balance_max_affordable"] == 14


def test_generate_image_and_video_match_examples(api: httpx.Client) -> None:
    image = check_envelope(create(api), "generate_image")
    assert image["generation_provider_order"] == ["bfl", "replicate", "cloudflare"]
    assert image["generation_prediction_id"].startswith("bfl_")
    video = check_envelope(
        create(
            api,
            "bytedance/seedance-1-pro",
            generation_duration=5,
            generation_resolution="1080p",
        ),
        "generate_video",
    )
    assert video["generation_prediction_id"].startswith("cgt-")


def test_content_get_matches_example(api: httpx.Client, sandbox: Sandbox) -> None:
    generation_id = created_id(create(api, generation_ratio="16:9"))
    sandbox.run_until_idle()
    data = check_envelope(api.get(f"/v1/content/{generation_id}"), "content_get")
    assert data["generation_status"] == "succeeded"
    assert data["generation_output_file"][0].startswith(f"{sandbox.url}/files/{generation_id}/")
    for field in ("generation_created_at", "generation_started_at", "generation_completed_at"):
        assert ISO.match(data[field])


def test_content_get_failed_matches_example(api: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.inject("provider_failure", provider="*", code="BSE4002")
    generation_id = created_id(create(api, "google/veo-2", generation_duration=8))
    sandbox.run_until_idle()
    data = check_envelope(api.get(f"/v1/content/{generation_id}"), "content_get_failed")
    assert data["generation_error_code"] == "BSE4003"
    assert data["generation_error"].startswith("All inference providers in the chain failed")
    assert data["generation_provider_used"] is None


def test_content_get_removed_matches_example(api: httpx.Client, sandbox: Sandbox) -> None:
    generation_id = created_id(
        create(
            api,
            "bytedance/seedance-1.5-pro",
            generation_duration=5,
            generation_input_file=["https://assets.example.com/refs/beach.jpg"],
        )
    )
    sandbox.run_until_idle()
    api.delete(f"/v1/content/{generation_id}")
    data = check_envelope(api.get(f"/v1/content/{generation_id}"), "content_get_removed")
    assert data["generation_removed"] is True
    assert data["generation_output_file"] is None
    assert data["generation_resolution"] == "720p"
    assert data["generation_audio_mode"] == "audio"


def test_content_list_paginates_newest_first(api: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.auto_advance = False
    ids = [created_id(create(api)) for _ in range(3)]
    response = api.get("/v1/content/list", params={"limit": 2})
    body = response.json()
    assert set(body) == set(example("content_list"))
    assert (body["total"], body["limit"], body["offset"]) == (3, 2, 0)
    assert [g["generation_id"] for g in body["data"]["generations"]] == ids[::-1][:2]
    assert_shape(body["data"]["generations"][0], example("content_list")["data"]["generations"][1])
    assert body["message"] == "Generations retrieved successfully"
    clamped = api.get("/v1/content/list", params={"limit": 500, "offset": 2}).json()
    assert (clamped["limit"], clamped["offset"], len(clamped["data"]["generations"])) == (100, 2, 1)


def test_delete_and_cancel_match_examples(api: httpx.Client, sandbox: Sandbox) -> None:
    done = created_id(create(api))
    sandbox.run_until_idle()
    deleted = check_envelope(api.delete(f"/v1/content/{done}"), "content_delete")
    assert deleted == {"generation_id": done, "files_deleted": 1}
    sandbox.auto_advance = False
    pending = created_id(create(api, "google/veo-2", generation_duration=5))
    canceled = check_envelope(
        api.post(f"/v1/content/generation/cancel/{pending}"), "content_cancel"
    )
    assert canceled["generation_status"] == "canceled"
    assert canceled["provider_cancel_sent"] is True  # replicate has a cancel API
    assert canceled["credits_refunded"] is True


def test_library_matches_packaged_catalog(api: httpx.Client) -> None:
    models = check_envelope(api.get("/v1/library/models"), "library_models")
    assert models == example("library_models")["data"]
    assert models["models_total"] == 25
    providers = check_envelope(api.get("/v1/library/providers"), "library_providers")
    assert providers == example("library_providers")["data"]


def test_health_inference_shapes(api: httpx.Client, sandbox: Sandbox) -> None:
    created_id(create(api))
    sandbox.run_until_idle()
    providers = check_envelope(
        api.get("/v1/health/inference/providers"), "health_inference_providers"
    )
    by_id = {p["provider"]: p for p in providers["providers"]}
    assert by_id["bfl"]["status"] == "healthy"
    assert by_id["runway"]["status"] == "unknown"
    models = api.get("/v1/health/inference/models").json()["data"]
    expected = example("health_inference_models")["data"]
    assert models["service"] == "models"
    assert models["models_total"] == 25
    first = models["models"][0]
    assert_shape(first, expected["models"][0])
    seedance = next(
        m for m in models["models"] if m["model_identifier"] == "bytedance/seedance-1-pro"
    )
    assert "model_pricing" not in seedance  # map-priced models carry no number
    assert_shape(seedance, expected["models"][2])


def test_model_identifier_with_slash_and_encoded_slash(api: httpx.Client) -> None:
    assert api.get("/v1/estimate/bfl/flux-schnell").status_code == 200
    assert api.get("/v1/estimate/bfl%2Fflux-schnell").status_code == 200
