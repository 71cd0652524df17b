"""Credits (contract section 6): reserve, charge, refund, estimate math, low-balance alerts."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest

from django_babysea.sandbox import Sandbox
from django_babysea.sandbox.contract.catalog import load_catalog
from django_babysea.sandbox.contract.pricing import cost_of, estimate_data

from .conftest import Receiver, assert_error, assert_shape, client, create, created_id, example


@pytest.mark.parametrize(
    ("model", "balance", "price", "max_affordable"),
    [("bfl/flux-1.1-pro", "12.480", 0.052, 240), ("bfl/flux-schnell", "10.000", 0.005, 2000)],
)
def test_documented_estimate_examples(
    api: httpx.Client, sandbox: Sandbox, model: str, balance: str, price: float, max_affordable: int
) -> None:
    sandbox.set_balance(balance)
    data = api.get(f"/v1/estimate/{model}").json()["data"]
    assert data["cost_per_generation"] == price
    assert data["credit_balance_max_affordable"] == max_affordable
    assert data["credit_balance_can_afford"] is True


def test_estimate_math_for_every_pricing_shape() -> None:
    catalog = load_catalog()
    veo = catalog.models["google/veo-2"]
    assert cost_of(veo, duration=8, resolution=None, audio=None).per_generation == Decimal("4.000")
    seedance = catalog.models["bytedance/seedance-1.5-pro"]
    with_audio = cost_of(seedance, duration=5, resolution=None, audio=None)
    assert (with_audio.price_key, with_audio.per_generation) == ("720p_audio", Decimal("0.260"))
    silent = cost_of(seedance, duration=10, resolution="1080p", audio=False)
    assert (silent.price_key, silent.per_generation) == ("1080p_noaudio", Decimal("0.580"))
    data = estimate_data(seedance, silent, 3, Decimal("1.000"))
    assert data["cost_total_consumed"] == 1.74
    assert data["credit_balance_can_afford"] is False
    assert data["credit_balance_max_affordable"] == 1
    assert data["resolution"] == "1080p"
    assert estimate_data(seedance, silent, 1, None)["credit_balance"] is None


def test_estimate_audio_and_default_duration(api: httpx.Client) -> None:
    audio = api.get("/v1/estimate/bytedance/seedance-1.5-pro?duration=8").json()["data"]
    assert audio["cost_per_second"] == 0.052
    quiet = api.get("/v1/estimate/bytedance/seedance-1.5-pro?duration=8&audio=false").json()
    assert quiet["data"]["cost_per_second"] == 0.026
    veo = api.get("/v1/estimate/google/veo-2").json()["data"]
    assert (veo["duration_seconds"], veo["cost_per_generation"]) == (5, 2.5)
    assert "resolution" not in veo


def test_reserve_charge_refund(api: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.auto_advance = False
    sandbox.set_balance("1.000")
    ok = created_id(create(api, "bfl/flux-1.1-pro"))
    assert sandbox.balance() == Decimal("0.948")
    sandbox.advance(ok, "succeeded")
    assert sandbox.balance() == Decimal("0.948")
    assert sandbox.generation(ok)["_sandbox"]["settlement"] == "charged"  # type: ignore[index]
    failed = created_id(create(api, "bfl/flux-1.1-pro"))
    assert sandbox.balance() == Decimal("0.896")
    sandbox.advance(failed, "failed")
    assert sandbox.balance() == Decimal("0.948")
    billing = api.get("/v1/user/billing").json()["data"]
    assert billing["billing_credit_balance"] == 0.948


def test_insufficient_credits(api: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.set_balance("0.004")
    error = assert_error(create(api), "BSE1004", 402)
    assert error == example("error_insufficient_credits")["error"]
    assert sandbox.balance() == Decimal("0.004")
    sandbox.set_balance("0.005")
    assert create(api).status_code == 200
    assert sandbox.balance() == Decimal("0.000")


def test_low_balance_fires_once_and_rearms(sandbox: Sandbox, api: httpx.Client) -> None:
    receiver = Receiver()
    try:
        sandbox.add_webhook(receiver.url, events=["credits.low_balance"])
        sandbox.set_balance("0.600")
        created_id(create(api, "bfl/flux-1.1-pro"))  # 0.548: above the threshold
        created_id(create(api, "bfl/flux-1.1-pro"))  # 0.496: crosses $0.50
        created_id(create(api, "bfl/flux-1.1-pro"))  # 0.444: already fired
        sandbox.run_until_idle()
        calls = receiver.wait(1)
        assert [c["headers"]["X-BabySea-Event"] for c in calls] == ["credits.low_balance"]
        payload = json.loads(calls[0]["body"])
        assert_shape(payload, example("webhook_credits_low_balance"))
        assert payload["webhook_data"]["current_balance"] == 0.496
        assert payload["webhook_data"]["thresholds_crossed"] == [
            {"threshold": 0.5, "balance_at": 0.496}
        ]
        sandbox.set_balance("2")  # an add re-arms the threshold
        sandbox.set_balance("0.52")
        created_id(create(api, "bfl/flux-1.1-pro"))
        sandbox.run_until_idle()
        assert len(receiver.wait(2)) == 2
    finally:
        receiver.close()


def test_several_thresholds_in_one_event(receiver: Receiver) -> None:
    options = {"speed": 0, "webhook_speed": 0, "low_balance_thresholds": ["1", "0.5"]}
    with Sandbox(webhooks=[receiver.url], balance="1.050", **options) as sb, client(sb) as c:
        seedance = {"generation_duration": 5, "generation_resolution": "1080p"}
        created_id(create(c, "bytedance/seedance-1-pro", **seedance))  # 0.830 reserved
        sb.run_until_idle()
    low = [json.loads(c["body"]) for c in receiver.calls]
    low = [e for e in low if e["webhook_event"] == "credits.low_balance"]
    assert len(low) == 1
    assert low[0]["webhook_data"]["thresholds_crossed"] == [
        {"threshold": 1.0, "balance_at": 0.22},
        {"threshold": 0.5, "balance_at": 0.22},
    ]


def test_low_balance_webhook_channel_can_be_off(receiver: Receiver) -> None:
    options = {"speed": 0, "low_balance_webhook": False, "balance": "0.51"}
    with Sandbox(webhooks=[receiver.url], **options) as sb, client(sb) as c:
        created_id(create(c))
        sb.run_until_idle()
    assert "credits.low_balance" not in receiver.events()


def test_unpriced_models_are_refused() -> None:
    from dataclasses import replace

    from django_babysea.sandbox.contract.errors import ApiError

    unpriced = replace(load_catalog().models["bfl/flux-schnell"], pricing=None)
    with pytest.raises(ApiError) as caught:
        cost_of(unpriced, duration=None, resolution=None, audio=None)
    assert caught.value.code == "BSE2001"
    assert caught.value.details == {"reason": "model_not_priced"}
