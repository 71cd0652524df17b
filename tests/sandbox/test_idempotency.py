"""Idempotency keys (contract section 5)."""

from __future__ import annotations

import json
import threading
from decimal import Decimal
from typing import Any

import httpx

from django_babysea.sandbox import Sandbox

from .conftest import assert_error, assert_shape, client, example, wait_until

FLUX = "/v1/generate/image/bfl/flux-schnell"
BODY = {"generation_prompt": "A lighthouse in fog", "generation_ratio": "16:9"}


def send(api: httpx.Client, key: str, body: Any = BODY, path: str = FLUX) -> httpx.Response:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Idempotency-Key": key, "Content-Type": "application/json"}
    return api.post(path, content=raw, headers=headers)


def test_replay_is_byte_for_byte(api: httpx.Client, sandbox: Sandbox) -> None:
    first = send(api, "job:unit-test-1")
    assert first.status_code == 200
    assert "Idempotency-Replayed" not in first.headers
    balance = sandbox.balance()
    reordered = b'{ "generation_ratio": "16:9",\n "generation_prompt": "A lighthouse in fog" }'
    again = send(api, "job:unit-test-1", reordered)
    assert again.status_code == 200
    assert again.headers["Idempotency-Replayed"] == "true"
    assert again.content == first.content
    assert again.headers["X-RateLimit-Limit"]
    assert sandbox.balance() == balance
    assert api.get("/v1/content/list").json()["total"] == 1
    assert [r["replayed"] for r in sandbox.received()] == [False, True, False]


def test_different_body_route_or_model_conflicts(api: httpx.Client) -> None:
    assert send(api, "k1").status_code == 200
    error = assert_error(send(api, "k1", {**BODY, "generation_ratio": "1:1"}), "BSE2015", 409)
    assert error == {
        **example("error_idempotency_conflict")["error"],
        "details": {"idempotency_key": "k1"},
    }
    assert_error(send(api, "k1", path="/v1/generate/image/bfl/flux-1.1-pro"), "BSE2015", 409)


def test_rejected_requests_do_not_consume_the_key(api: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.set_balance("0")
    assert_error(send(api, "retry-me"), "BSE1004", 402)
    sandbox.set_balance("1")
    assert send(api, "retry-me").status_code == 200
    assert_error(send(api, "bad-input", {"generation_prompt": ""}), "BSE2001", 400)
    assert send(api, "bad-input").status_code == 200


def test_keys_are_per_account(api: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.add_key("bye_second_account", account="second")
    first = send(api, "shared-key")
    with client(sandbox, key="bye_second_account") as other:
        second = send(other, "shared-key")
    assert "Idempotency-Replayed" not in second.headers
    assert first.json()["data"]["generation_id"] != second.json()["data"]["generation_id"]


def test_replay_after_cancel_has_the_alternate_shape(api: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.auto_advance = False
    generation_id = send(api, "cancel-me").json()["data"]["generation_id"]
    api.post(f"/v1/content/generation/cancel/{generation_id}")
    replay = send(api, "cancel-me")
    assert replay.headers["Idempotency-Replayed"] == "true"
    body = replay.json()
    assert_shape(body, example("generate_replay_canceled"))
    assert body["data"] == {"generation_id": generation_id, "generation_status": "canceled"}


def test_key_expires_after_24_hours(api: httpx.Client, sandbox: Sandbox) -> None:
    first = send(api, "daily").json()["data"]["generation_id"]
    sandbox.travel(24 * 3600 + 1)
    second = send(api, "daily")
    assert "Idempotency-Replayed" not in second.headers
    assert second.json()["data"]["generation_id"] != first


def test_in_flight_request_gets_2016(api: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.inject("slow", path=FLUX, seconds=0.6)
    results: list[httpx.Response] = []

    def first() -> None:
        with client(sandbox) as own:
            results.append(send(own, "slow-key"))

    thread = threading.Thread(target=first)
    thread.start()
    assert wait_until(lambda: sandbox.region.idempotency._entries, 5)
    error = assert_error(send(api, "slow-key"), "BSE2016", 409)
    assert error["retryable"] is True
    thread.join()
    assert results[0].status_code == 200
    assert send(api, "slow-key").headers["Idempotency-Replayed"] == "true"


def test_concurrent_same_key_creates_one_generation(sandbox: Sandbox) -> None:
    barrier = threading.Barrier(12)
    responses: list[httpx.Response] = []
    lock = threading.Lock()

    def worker() -> None:
        with client(sandbox) as own:
            barrier.wait()
            response = send(own, "stampede")
        with lock:
            responses.append(response)

    threads = [threading.Thread(target=worker) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) <= {200, 409}
    ok = [r for r in responses if r.status_code == 200]
    assert len({r.json()["data"]["generation_id"] for r in ok}) == 1
    for conflict in (r for r in responses if r.status_code == 409):
        error = assert_error(conflict, "BSE2016", 409)
        assert error["retryable"] is True
    with client(sandbox) as own:
        assert own.get("/v1/content/list").json()["total"] == 1
    assert sandbox.balance() == Decimal("99.995")
