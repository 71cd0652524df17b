"""Idempotency (contract section 5) as the client sees it."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest

from django_babysea import client as bs
from django_babysea.client import BabySea
from django_babysea.sandbox import Sandbox

from .conftest import assert_same_shape, example

FLUX = "bfl/flux-schnell"


def test_same_key_same_body_replays(client: BabySea, sandbox: Sandbox) -> None:
    before = sandbox.balance()
    first = client.generate(FLUX, generation_prompt="Seal", idempotency_key="job:1")
    again = client.generate(FLUX, generation_prompt="Seal", idempotency_key="job:1")
    assert (first.idempotency_replayed, again.idempotency_replayed) == (False, True)
    assert again.raw == first.raw
    assert again.request_id == first.request_id
    assert sandbox.balance() == before - Decimal("0.005")
    assert client.list_generations().total == 1


def test_same_key_other_body_is_bse2015(client: BabySea) -> None:
    client.generate(FLUX, generation_prompt="Seal", idempotency_key="job:2")
    with pytest.raises(bs.IdempotencyConflictError) as info:
        client.generate(FLUX, generation_prompt="Walrus", idempotency_key="job:2")
    assert (info.value.code, info.value.status) == ("BSE2015", 409)


def test_same_key_while_in_flight_is_bse2016(client: BabySea, sandbox: Sandbox) -> None:
    # The first create is held until its webhooks are delivered to an endpoint that is slow.
    sandbox.inject("slow", method="POST", path="/v1/generate/*", seconds=1.0)
    results: list[object] = []
    first = threading.Thread(
        target=lambda: results.append(
            client.generate(FLUX, generation_prompt="Seal", idempotency_key="job:3")
        )
    )
    first.start()
    try:
        with BabySea(api_key=sandbox.api_key, base_url=sandbox.url, max_retries=0) as other:
            conflict = None
            for _ in range(50):
                try:
                    other.generate(FLUX, generation_prompt="Seal", idempotency_key="job:3")
                except bs.IdempotencyConflictError as exc:
                    conflict = exc
                    break
                time.sleep(0.02)
    finally:
        first.join()
    assert conflict is not None, "no BSE2016 while the first request was in flight"
    assert (conflict.code, conflict.status, conflict.retryable) == ("BSE2016", 409, True)
    assert isinstance(results[0], bs.GenerationCreated)


def test_replay_after_cancel_has_the_canceled_shape(client: BabySea, sandbox: Sandbox) -> None:
    sandbox.auto_advance = False
    created = client.generate(FLUX, generation_prompt="Seal", idempotency_key="job:4")
    client.cancel_generation(created.generation_id)
    replay = client.generate(FLUX, generation_prompt="Seal", idempotency_key="job:4")
    assert replay.idempotency_replayed is True
    assert replay.canceled is True
    assert_same_shape(replay.raw, example("generate_replay_canceled"), "replay")
    assert replay.generation_id == created.generation_id


def test_bad_key_format_is_bse2001(sandbox: Sandbox) -> None:
    import httpx

    response = httpx.post(
        f"{sandbox.url}/v1/generate/image/{FLUX}",
        json={"generation_prompt": "x"},
        headers={"Authorization": f"Bearer {sandbox.api_key}", "Idempotency-Key": "bad key!"},
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["details"]["field"]) == ("BSE2001", "Idempotency-Key")


def test_key_is_forgotten_after_24_hours(client: BabySea, sandbox: Sandbox) -> None:
    first = client.generate(FLUX, generation_prompt="Seal", idempotency_key="job:5")
    sandbox.travel(24 * 3600 + 1)
    later = client.generate(FLUX, generation_prompt="Seal", idempotency_key="job:5")
    assert later.idempotency_replayed is False
    assert later.generation_id != first.generation_id
