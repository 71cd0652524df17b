"""Fault injection: transport faults, crash-after-commit, webhook chaos, profiles."""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest

from django_babysea.sandbox import Fault, Sandbox
from django_babysea.sandbox.faults.injection import PROFILES

from .conftest import Receiver, assert_error, client, create, created_id

FLUX = "/v1/generate/image/bfl/flux-schnell"


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [("server_error", 500, "BSE5001"), ("service_unavailable", 503, "BSE5002")],
)
def test_json_server_errors(
    api: httpx.Client, sandbox: Sandbox, kind: str, status: int, code: str
) -> None:
    sandbox.inject(kind, path="/v1/status", times=2)
    for _ in range(2):
        error = assert_error(api.get("/v1/status"), code, status)
        assert error["retryable"] is True
    assert api.get("/v1/status").status_code == 200
    assert sandbox.region.faults.list() == []


def test_html_502_and_custom_status(api: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.inject("bad_gateway_html")
    response = api.get("/v1/status")
    assert response.status_code == 502
    assert response.headers["content-type"] == "text/html"
    assert "<h1>502 Bad Gateway</h1>" in response.text
    sandbox.inject("http_error", status=504, code="BSE4002", method="GET")
    assert_error(api.get("/v1/library/models"), "BSE4002", 504)


def test_injected_rate_limit(api: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.inject("rate_limited", retry_after=3)
    response = api.get("/v1/status")
    assert_error(response, "BSE1005", 429)
    assert response.headers["Retry-After"] == "3"


def test_faults_match_method_and_path(api: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.inject(Fault("server_error", method="POST", path="/v1/generate/*"))
    assert api.get("/v1/status").status_code == 200
    assert api.get("/v1/library/models").status_code == 200
    assert_error(create(api), "BSE5001", 500)
    assert create(api).status_code == 200


def test_dropped_connection(api: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.inject("drop", path="/v1/status")
    with pytest.raises(httpx.RemoteProtocolError):
        api.get("/v1/status")
    assert api.get("/v1/status").status_code == 200
    assert sandbox.received()[0]["dropped"] is True


def test_timeout_fault_outlasts_the_client(sandbox: Sandbox) -> None:
    sandbox.inject("timeout", seconds=1.0)
    with client(sandbox) as api, pytest.raises(httpx.ReadTimeout):
        api.get("/v1/status", timeout=0.2)


def test_slow_response_and_slow_body(api: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.inject("slow", seconds=0.3)
    start = time.monotonic()
    assert api.get("/v1/status").status_code == 200
    assert time.monotonic() - start >= 0.3
    sandbox.inject("slow_body", seconds=0.3)
    start = time.monotonic()
    response = api.get("/v1/library/models")
    assert response.status_code == 200
    assert response.json()["data"]["models_total"] == 25
    assert time.monotonic() - start >= 0.25
    sandbox.inject("slow_body", seconds=2.0)
    with pytest.raises(httpx.ReadTimeout):
        api.get("/v1/library/models", timeout=httpx.Timeout(5, read=0.1))


def test_crash_after_commit_is_healed_by_idempotent_retry(
    api: httpx.Client, sandbox: Sandbox
) -> None:
    sandbox.inject("crash_after_commit", path=FLUX)
    headers = {"Idempotency-Key": "order-42-hero"}
    body = {"generation_prompt": "Hero image"}
    with pytest.raises(httpx.RemoteProtocolError):
        api.post(FLUX, json=body, headers=headers)
    assert api.get("/v1/content/list").json()["total"] == 1  # it was created
    retry = api.post(FLUX, json=body, headers=headers)
    assert retry.status_code == 200
    assert retry.headers["Idempotency-Replayed"] == "true"
    assert api.get("/v1/content/list").json()["total"] == 1
    listed = api.get("/v1/content/list").json()["data"]["generations"][0]
    assert listed["generation_id"] == retry.json()["data"]["generation_id"]


def test_input_file_errors(api: httpx.Client, sandbox: Sandbox) -> None:
    for code in ("BSE2002", "BSE2003", "BSE2005", "BSE2006", "BSE2007"):
        sandbox.inject("input_file_error", code=code)
        response = create(
            api, "google/nano-banana", generation_input_file=["https://a.example/x.png"]
        )
        assert_error(response, code, 422)


def test_duplicate_and_out_of_order_webhooks(receiver: Receiver) -> None:
    with Sandbox(speed=0, webhook_speed=0, webhooks=[receiver.url]) as sb, client(sb) as api:
        sb.inject("webhook_duplicate", event="generation.completed")
        sb.inject("webhook_out_of_order")
        created_id(create(api))
        sb.run_until_idle()
    calls = receiver.wait(3)
    events = [c["headers"]["X-BabySea-Event"] for c in calls]
    assert events == ["generation.completed", "generation.completed", "generation.started"]
    ids = [c["headers"]["X-BabySea-Delivery-Id"] for c in calls[:2]]
    assert ids[0] == ids[1]
    assert calls[0]["body"] == calls[1]["body"]


def test_concurrent_duplicate_deliveries(receiver: Receiver) -> None:
    receiver.delay = 0.3
    with Sandbox(speed=0, webhook_speed=0, webhooks=[receiver.url]) as sb:
        sb.inject("webhook_duplicate", concurrent=True, event="webhook.test")
        sb.send_test_webhook()
        sb.run_until_idle()
    first, second = receiver.calls
    assert abs(first["at"] - second["at"]) < 0.25  # both were in flight at once
    assert len({c["headers"]["X-BabySea-Delivery-Id"] for c in receiver.calls}) == 1


def test_webhooks_arrive_before_the_create_response(receiver: Receiver) -> None:
    with Sandbox(speed=0, webhooks=[receiver.url], auto_advance=False) as sb, client(sb) as api:
        sb.inject("webhooks_before_response")
        response = create(api)
        # Both events were delivered before the create answered.
        assert receiver.events() == ["generation.started", "generation.completed"]
        generation_id = response.json()["data"]["generation_id"]
        completed = json.loads(receiver.calls[1]["body"])
        assert completed["webhook_data"]["generation_id"] == generation_id


def test_profiles(sandbox: Sandbox) -> None:
    assert set(PROFILES) >= {"flaky", "slow", "provider-outage", "webhook-chaos"}
    added = sandbox.inject("provider-outage")
    assert [f.kind for f in added] == ["provider_failure"]
    with client(sandbox) as api:
        generation_id = created_id(create(api))
        sandbox.run_until_idle()
        data = api.get(f"/v1/content/{generation_id}").json()["data"]
    assert data["generation_provider_used"] == "replicate"
    with pytest.raises(ValueError, match="unknown fault"):
        sandbox.inject("no-such-profile")


def test_flaky_profile_never_500s_unexpectedly() -> None:
    with Sandbox(speed=0, seed=7, rate_limit=10_000) as sb, client(sb) as api:
        sb.inject("flaky")
        outcomes = set()
        for _ in range(120):
            try:
                outcomes.add(api.get("/v1/status").status_code)
            except httpx.TransportError:
                outcomes.add(0)
        assert 200 in outcomes
        assert outcomes <= {0, 200, 500, 502}


def test_health_faults(api: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.inject("storage_down")
    sandbox.inject("cache_down")
    storage = api.get("/v1/health/storage").json()["data"]
    cache = api.get("/v1/health/cache").json()["data"]
    assert storage["healthy"] is False
    assert storage["error"]
    assert cache["healthy"] is False
    assert cache["error"]
    assert api.get("/v1/health/storage").json()["data"]["healthy"] is True


def test_provider_health_reflects_failures(api: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.inject("provider_failure", provider="bfl", stage="submit", times=None)
    for _ in range(3):
        created_id(create(api))
    providers = api.get("/v1/health/inference/providers").json()["data"]["providers"]
    bfl = next(p for p in providers if p["provider"] == "bfl")
    assert bfl["status"] == "degraded"
    assert bfl["failure_rate"] == 1.0
    models = api.get("/v1/health/inference/models").json()["data"]["models"]
    flux = next(m for m in models if m["model_identifier"] == "bfl/flux-schnell")
    assert flux["providers"]["bfl"]["available"] is False


def test_fault_validation(sandbox: Sandbox) -> None:
    for bad in [
        {"kind": "explode"},
        {"kind": "huge_output"},
        {"kind": "provider_failure", "stage": "later"},
        {"kind": "server_error", "times": 0},
        {"kind": "server_error", "colour": "red"},
    ]:
        with pytest.raises((ValueError, TypeError)):
            sandbox.inject(bad)


def test_faults_are_thread_safe_counts(sandbox: Sandbox) -> None:
    sandbox.inject("server_error", path="/v1/status", times=10)
    codes: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        with client(sandbox) as api:
            for _ in range(10):
                status = api.get("/v1/status").status_code
                with lock:
                    codes.append(status)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes.count(500) == 10
    assert codes.count(200) == 30
