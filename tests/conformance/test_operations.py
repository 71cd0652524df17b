"""Every operation of contract section 2, through the client, against the sandbox."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from django_babysea.client import BabySea
from django_babysea.sandbox import Sandbox

from .conftest import assert_same_shape, example

FLUX = "bfl/flux-schnell"
SEEDANCE = "bytedance/seedance-1-pro"


def make_image(client: BabySea, prompt: str = "A harbor seal pup", **fields: Any) -> str:
    created = client.generate(FLUX, generation_prompt=prompt, **fields)
    return created.generation_id


def test_status(client: BabySea, sandbox: Sandbox) -> None:
    status = client.status()
    assert_same_shape(status.raw, example("status"), "status")
    assert status.apikey_prefix == sandbox.api_key[:9]
    assert status.request_id
    assert status.request_id.startswith("req_")


def test_usage(client: BabySea) -> None:
    make_image(client)
    usage = client.usage(days=7)
    assert_same_shape(usage.raw, example("usage"), "usage")
    assert usage.usage_period_days == 7
    assert usage.usage_total_generations >= 1


def test_account_and_billing(client: BabySea, sandbox: Sandbox) -> None:
    assert_same_shape(client.account().raw, example("user_account"), "account")
    billing = client.billing()
    assert_same_shape(billing.raw, example("user_billing"), "billing")
    assert Decimal(str(billing.billing_credit_balance)) == sandbox.balance()


@pytest.mark.parametrize(
    ("balance", "model", "max_affordable"),
    [("12.480", "bfl/flux-1.1-pro", 240), ("10.000", FLUX, 2000)],
)
def test_estimate_documented_examples(
    client: BabySea, sandbox: Sandbox, balance: str, model: str, max_affordable: int
) -> None:
    sandbox.set_balance(balance)
    estimate = client.estimate(model)
    assert_same_shape(estimate.raw, example("estimate_image"), "estimate")
    assert estimate.credit_balance_max_affordable == max_affordable
    assert estimate.credit_balance_can_afford is True


def test_estimate_video_resolution_priced(client: BabySea) -> None:
    estimate = client.estimate(SEEDANCE, duration=5, resolution="1080p", count=2)
    assert_same_shape(estimate.raw, example("estimate_video"), "estimate")
    assert estimate.cost_per_second == pytest.approx(0.166)
    assert estimate.cost_per_generation == pytest.approx(0.83)
    assert estimate.cost_total_consumed == pytest.approx(1.66)
    assert estimate.assets_count == 2


def test_generate_image_then_get(client: BabySea, sandbox: Sandbox) -> None:
    created = client.generate(
        FLUX, generation_prompt="Seal", generation_ratio="16:9", idempotency_key="conf-1"
    )
    assert_same_shape(created.raw, example("generate_image"), "generate")
    assert created.idempotency_replayed is False
    sandbox.run_until_idle()
    generation = client.get_generation(created.generation_id)
    assert_same_shape(generation.raw, example("content_get"), "content")
    assert generation.generation_status == "succeeded"
    assert generation.generation_provider_used in generation.generation_provider_order


def test_generate_video(client: BabySea, sandbox: Sandbox) -> None:
    created = client.generate(
        SEEDANCE, generation_prompt="Fjord", generation_duration=5, generation_resolution="720p"
    )
    assert_same_shape(created.raw, example("generate_video"), "generate video")
    assert sandbox.received()[-1]["path"] == f"/v1/generate/video/{SEEDANCE}"


def test_failed_generation_record(client: BabySea, sandbox: Sandbox) -> None:
    sandbox.auto_advance = False
    created = client.generate("google/veo-2", generation_prompt="Sea ice", generation_duration=8)
    generation_id = created.generation_id
    sandbox.advance(generation_id, to="processing")
    sandbox.advance(generation_id, to="failed", error_code="BSE4003")
    failed = client.get_generation(generation_id)
    assert_same_shape(failed.raw, example("content_get_failed"), "failed")
    assert failed.generation_error_code == "BSE4003"


def test_list_and_iterate(client: BabySea, sandbox: Sandbox) -> None:
    ids = [make_image(client, f"seal {n}") for n in range(5)]
    sandbox.run_until_idle()
    page = client.list_generations(limit=2, offset=0)
    assert (page.total, page.limit, page.offset) == (5, 2, 0)
    assert_same_shape(page.generations[0].raw, example("content_list")["generations"][1], "list")
    assert [g.generation_id for g in client.iter_generations(page_size=2)] == ids[::-1]


def test_delete_keeps_the_record(client: BabySea, sandbox: Sandbox) -> None:
    created = client.generate(
        "bytedance/seedance-1.5-pro", generation_prompt="Seals", generation_duration=5
    )
    generation_id = created.generation_id
    sandbox.run_until_idle()
    deleted = client.delete_generation(generation_id)
    assert_same_shape(deleted.raw, example("content_delete"), "delete")
    assert deleted.files_deleted == 1
    removed = client.get_generation(generation_id)
    assert_same_shape(removed.raw, example("content_get_removed"), "removed")
    assert removed.generation_removed is True
    assert removed.generation_output_file is None
    assert client.delete_generation(generation_id).files_deleted == 0


def test_cancel_refunds(client: BabySea, sandbox: Sandbox) -> None:
    sandbox.auto_advance = False
    before = sandbox.balance()
    generation_id = make_image(client)
    assert sandbox.balance() == before - Decimal("0.005")
    canceled = client.cancel_generation(generation_id)
    assert_same_shape(canceled.raw, example("content_cancel"), "cancel")
    assert (canceled.generation_status, canceled.credits_refunded) == ("canceled", True)
    assert sandbox.balance() == before


def test_library(client: BabySea) -> None:
    models = client.library.models()
    catalog = example("library_models")
    assert [m.model_identifier for m in models] == [
        m["model_identifier"] for m in catalog["models"]
    ]
    assert len(models) == 25
    for model, expected in zip(models, catalog["models"], strict=True):
        assert model.raw == expected
    providers = client.library.providers()
    expected = example("library_providers")
    assert len(providers) == expected["providers_total"]
    assert_same_shape(
        {"providers": [p.raw for p in providers]}, {"providers": expected["providers"]}, "providers"
    )


def test_health(client: BabySea) -> None:
    assert_same_shape(client.health.providers().raw, example("health_inference_providers"), "hp")
    assert_same_shape(client.health.models().raw, example("health_inference_models"), "hm")
    assert_same_shape(client.health.storage().raw, example("health_storage"), "storage")
    assert_same_shape(client.health.cache().raw, example("health_cache"), "cache")


def test_output_file_is_served(client: BabySea, sandbox: Sandbox) -> None:
    import httpx

    generation_id = make_image(client, generation_output_format="webp")
    generation = client.wait_for_generation(generation_id, interval=0.5)
    (url,) = generation.generation_output_file or ()
    response = httpx.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/webp"
    assert response.content[:4] == b"RIFF"
    assert response.content[8:12] == b"WEBP"
