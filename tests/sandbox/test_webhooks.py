"""Signed webhook deliveries (contract section 7) to a real local receiver."""

from __future__ import annotations

import itertools
import json
from typing import Any

import httpx
import pytest

from django_babysea.client.webhooks import WebhookSignatureError, verify
from django_babysea.sandbox import DEMO_WEBHOOK_SECRET, Sandbox

from .conftest import Receiver, assert_shape, client, create, created_id, example, wait_until

SECRET = "whsec_ReceiverTestSecret0123456789abcd"


def payload(call: dict[str, Any]) -> dict[str, Any]:
    return dict(json.loads(call["body"]))


def by_event(calls: list[dict[str, Any]], event: str) -> dict[str, Any]:
    return next(payload(c) for c in calls if c["headers"]["X-BabySea-Event"] == event)


@pytest.fixture
def hooked(receiver: Receiver) -> Any:
    with Sandbox(speed=0, webhook_speed=0, webhooks=[(receiver.url, SECRET)]) as sb:
        yield sb


def test_signed_generation_events(hooked: Sandbox, receiver: Receiver) -> None:
    with client(hooked) as api:
        generation_id = created_id(create(api))
    calls = receiver.wait(2)
    assert [c["headers"]["X-BabySea-Event"] for c in calls] == [
        "generation.started",
        "generation.completed",
    ]
    for call in calls:
        headers, body = call["headers"], call["body"]
        assert headers["Content-Type"] == "application/json"
        verify(SECRET, body, headers["X-BabySea-Signature"])
        data = json.loads(body)
        assert headers["X-BabySea-Delivery-Id"] == data["webhook_delivery_id"]
        assert headers["X-BabySea-Timestamp"] == data["webhook_timestamp"]
        assert data["webhook_data"]["generation_id"] == generation_id
        assert body == json.dumps(data, separators=(",", ":")).encode()
    started = by_event(calls, "generation.started")
    assert_shape(started, example("webhook_generation_started"), nullable=False)
    assert started["webhook_data"]["generation_provider_initialize"] == "bfl"
    completed = by_event(calls, "generation.completed")
    assert_shape(completed, example("webhook_generation_completed"), nullable=False)
    file_url = completed["webhook_data"]["generation_output_file"][0]
    assert httpx.get(file_url).status_code == 200


def test_failed_and_canceled_payloads(hooked: Sandbox, receiver: Receiver) -> None:
    hooked.inject("provider_failure", provider="*", code="BSE4002")
    with client(hooked) as api:
        created_id(create(api, "google/veo-2", generation_duration=5))
        hooked.run_until_idle()
        hooked.auto_advance = False
        canceled = created_id(create(api))
        api.post(f"/v1/content/generation/cancel/{canceled}")
    calls = receiver.wait(3)
    failed = by_event(calls, "generation.failed")
    assert_shape(failed, example("webhook_generation_failed"), nullable=False)
    assert failed["webhook_data"]["generation_error_code"] == "BSE4003"
    cancel = by_event(calls, "generation.canceled")
    assert_shape(cancel, example("webhook_generation_canceled"), nullable=False)
    assert cancel["webhook_data"]["credits_refunded"] is True


def test_webhook_test_event_is_a_single_attempt(receiver: Receiver) -> None:
    receiver.statuses = [500]
    with Sandbox(speed=0, webhook_speed=0, webhooks=[receiver.url]) as sb:
        assert sb.send_test_webhook() == 1
        sb.run_until_idle()
    calls = receiver.wait(1)
    assert len(calls) == 1
    body = payload(calls[0])
    assert_shape(body, example("webhook_webhook_test"), nullable=False)
    assert body["webhook_data"]["generation_id"] == "00000000-0000-0000-0000-000000000000"
    verify(DEMO_WEBHOOK_SECRET, calls[0]["body"], calls[0]["headers"]["X-BabySea-Signature"])


def test_retries_keep_the_delivery_id_and_body(receiver: Receiver) -> None:
    receiver.statuses = [500, 302]  # a redirect is a failure and is not followed
    with Sandbox(speed=0, webhook_speed=0, webhooks=[receiver.url]) as sb:
        sb.send_test_webhook()  # single attempt, consumes the first 500
        receiver.wait(1)
        receiver.statuses = [503, 302]
        sb.driver.region.dispatcher.publish("default", "generation.started", {"x": 1}, "g-1")
        sb.run_until_idle()
        attempts = [d for d in sb.deliveries() if d["event"] == "generation.started"]
    calls = [c for c in receiver.calls if c["headers"]["X-BabySea-Event"] == "generation.started"]
    assert [c["status"] for c in calls] == [503, 302, 200]
    assert len({c["headers"]["X-BabySea-Delivery-Id"] for c in calls}) == 1
    assert len({c["body"] for c in calls}) == 1
    for call in calls:
        verify(DEMO_WEBHOOK_SECRET, call["body"], call["headers"]["X-BabySea-Signature"])
    assert [(a["attempt"], a["status_code"], a["ok"]) for a in attempts] == [
        (1, 503, False),
        (2, 302, False),
        (3, 200, True),
    ]
    assert {"url", "event", "delivery_id", "signature", "body", "error"} <= set(attempts[0])


def test_retry_schedule_is_scaled(receiver: Receiver) -> None:
    receiver.statuses = [500] * 5
    with Sandbox(speed=0, webhook_speed=0.005, webhooks=[receiver.url]) as sb:
        sb.driver.region.dispatcher.publish("default", "credits.low_balance", {"x": 1})
        assert sb.region.dispatcher.wait_idle(10)
    times = [c["at"] for c in receiver.calls]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert len(times) == 5
    for gap, expected in zip(gaps, [1, 4, 16, 60], strict=True):
        assert gap >= expected * 0.005 * 0.8


def test_timeouts_and_unreachable_endpoints_are_failures(receiver: Receiver) -> None:
    receiver.delay = 0.5
    with Sandbox(speed=0, webhook_speed=0, webhook_timeout=0.1) as sb:
        sb.add_webhook(receiver.url)
        sb.add_webhook("http://127.0.0.1:9/unreachable")
        sb.send_test_webhook()
        sb.run_until_idle()
        attempts = sb.deliveries()
    assert len(attempts) == 2
    assert all(a["ok"] is False and a["status_code"] is None and a["error"] for a in attempts)


def test_event_filters_and_several_endpoints(receiver: Receiver) -> None:
    other = Receiver()
    try:
        with Sandbox(speed=0, webhook_speed=0) as sb:
            sb.add_webhook(receiver.url, events=["generation.completed"])
            sb.add_webhook(other.url, secret=SECRET)
            with client(sb) as api:
                created_id(create(api))
            sb.run_until_idle()
        assert receiver.events() == ["generation.completed"]
        assert sorted(other.events()) == ["generation.completed", "generation.started"]
        for call in other.calls:
            verify(SECRET, call["body"], call["headers"]["X-BabySea-Signature"])
    finally:
        other.close()


def test_auto_disable_queue_and_drain(receiver: Receiver) -> None:
    receiver.statuses = [500] * 75  # 15 deliveries x 5 attempts
    with Sandbox(speed=0, webhook_speed=0, rate_limit=1000) as sb, client(sb) as api:
        endpoint = sb.add_webhook(receiver.url, events=["generation.completed"])
        for _ in range(15):
            created_id(create(api))
            sb.run_until_idle()
        state = sb.driver.region.dispatcher.endpoints[endpoint["id"]].describe()
        assert state["enabled"] is False
        assert state["consecutive_failures"] == 15
        assert len(receiver.calls) == 75
        for _ in range(2):
            created_id(create(api))
        sb.run_until_idle()
        assert len(receiver.calls) == 75
        assert sb.driver.region.dispatcher.endpoints[endpoint["id"]].describe()["queued"] == 2
        with httpx.Client(base_url=sb.url) as control:
            assert control.post(f"/_sandbox/webhooks/{endpoint['id']}/enable").status_code == 200
            assert control.post(f"/_sandbox/webhooks/{endpoint['id']}/drain").json()["sent"] == 2
        sb.run_until_idle()
    drained = receiver.calls[75:]
    assert [c["status"] for c in drained] == [200, 200]
    ids = {c["headers"]["X-BabySea-Delivery-Id"] for c in drained}
    assert len(ids) == 2


def test_deliveries_do_not_block_the_api(receiver: Receiver) -> None:
    receiver.delay = 0.5
    with Sandbox(speed=0, webhooks=[receiver.url]) as sb, client(sb) as api:
        response = create(api)
        assert response.elapsed.total_seconds() < 0.4
        assert wait_until(lambda: len(receiver.calls) == 2, 5)


def test_secret_rotation_has_no_overlap(receiver: Receiver) -> None:
    with Sandbox(speed=0, webhook_speed=0) as sb:
        endpoint = sb.add_webhook(receiver.url, secret=SECRET)
        sb.send_test_webhook()
        receiver.wait(1)
        rotated = "whsec_RotatedSecret0123456789abcdef"
        sb.rotate_webhook_secret(endpoint["id"], rotated)
        sb.send_test_webhook()
        first, second = receiver.wait(2)
    verify(SECRET, first["body"], first["headers"]["X-BabySea-Signature"])
    verify(rotated, second["body"], second["headers"]["X-BabySea-Signature"])
    with pytest.raises(WebhookSignatureError):
        verify(SECRET, second["body"], second["headers"]["X-BabySea-Signature"])
