"""The ``/_sandbox/`` driving API used by other processes (demo site, worker tests)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest

from django_babysea.sandbox import Sandbox
from django_babysea.sandbox.http.control_routes import handle_control
from django_babysea.sandbox.http.envelopes import Request

from .conftest import Receiver, client, create, created_id


@pytest.fixture
def control(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{sandbox.url}/_sandbox") as c:
        yield c


def test_info_and_balance(control: httpx.Client, sandbox: Sandbox) -> None:
    info = control.get("/").json()
    assert info["url"] == sandbox.url
    assert info["region"] == "us"
    assert info["keys"][0]["prefix"] == sandbox.api_key[:9]
    assert "flaky" in info["fault_profiles"]
    assert sandbox.api_key not in str(info)
    assert control.post("/balance", json={"balance": "0.25"}).json()["balance"] == 0.25
    assert sandbox.balance() == Decimal("0.250")
    assert control.post("/balance", json={"balance": "-1"}).status_code == 400


def test_advance_generation_and_requests(control: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.auto_advance = False
    with client(sandbox) as api:
        generation_id = created_id(create(api))
    response = control.post("/advance", json={"generation_id": generation_id, "to": "processing"})
    assert response.json()["generation"]["generation_status"] == "processing"
    response = control.post(
        "/advance", json={"generation_id": generation_id, "to": "failed", "error_code": "BSE4007"}
    )
    raw = response.json()["generation"]
    assert raw["generation_error_code"] == "BSE4007"
    assert raw["_sandbox"]["settlement"] == "refunded"
    assert control.get(f"/generations/{generation_id}").json()["generation"] == raw
    assert control.get("/generations/unknown").status_code == 404
    conflict = control.post("/advance", json={"generation_id": generation_id, "to": "succeeded"})
    assert conflict.status_code == 400
    assert control.post("/advance", json={"to": "failed"}).status_code == 400
    requests = control.get("/requests").json()["requests"]
    assert requests[0]["method"] == "POST"
    assert requests[0]["status"] == 200
    assert "Authorization" not in requests[0]["headers"]
    assert "authorization" not in {k.lower() for k in requests[0]["headers"]}
    assert requests[0]["body"].startswith("{")


def test_faults_over_http(control: httpx.Client, sandbox: Sandbox) -> None:
    added = control.post("/faults", json={"kind": "server_error", "path": "/v1/status"})
    assert added.status_code == 201
    assert added.json()["faults"][0]["kind"] == "server_error"
    assert control.post("/faults", json={"profile": "slow"}).status_code == 201
    assert len(control.get("/faults").json()["faults"]) == 2
    assert control.post("/faults", json={"kind": "nope"}).status_code == 400
    assert control.delete("/faults").json() == {"faults": []}
    with client(sandbox) as api:
        assert api.get("/v1/status").status_code == 200


def test_webhooks_deliveries_and_replay(control: httpx.Client, sandbox: Sandbox) -> None:
    receiver = Receiver()
    try:
        hook = control.post(
            "/webhooks", json={"url": receiver.url, "events": ["generation.completed"]}
        )
        assert hook.status_code == 201
        assert "secret" not in hook.json()["webhook"]
        assert control.post("/webhooks", json={"url": "ftp://x"}).status_code == 400
        assert control.post("/webhooks/test", json={}).json() == {"sent": 1}
        receiver.wait(1)
        sandbox.run_until_idle()
        deliveries = control.get("/deliveries").json()["deliveries"]
        assert deliveries[0]["event"] == "webhook.test"
        assert deliveries[0]["ok"] is True
        replay = control.post(f"/deliveries/{deliveries[0]['delivery_id']}/replay")
        assert replay.status_code == 202
        receiver.wait(2)
        assert receiver.calls[1]["headers"]["X-BabySea-Delivery-Id"] == replay.json()["delivery_id"]
        assert len(control.get("/webhooks").json()["webhooks"]) == 1
    finally:
        receiver.close()


def test_keys_travel_tick_and_reset(control: httpx.Client, sandbox: Sandbox) -> None:
    added = control.post("/keys", json={"key": "bye_added", "preset": "monitor_only"})
    assert added.status_code == 201
    assert added.json()["key"]["prefix"] == "bye_added"
    assert control.post("/keys", json={"key": "not_a_key"}).status_code == 400
    with client(sandbox, key="bye_added") as monitor:
        assert monitor.get("/v1/health/cache").status_code == 200
    sandbox.auto_advance = False
    with client(sandbox) as api:
        generation_id = created_id(create(api))
        assert control.post("/tick").json() == {"transitions": 2}
        assert control.post("/travel", json={"seconds": 40 * 86400}).status_code == 200
        assert api.get(f"/v1/content/{generation_id}").status_code == 404
        assert control.post("/run-until-idle", json={"timeout": 2}).json() == {"idle": True}
        assert control.post("/reset").json() == {"reset": True}
        assert api.get("/v1/content/list").json()["total"] == 0
        assert api.get("/v1/status").status_code == 200
    with client(sandbox, key="bye_added") as monitor:  # runtime keys survive a reset
        assert monitor.get("/v1/health/cache").status_code == 200
    assert control.get("/unknown").status_code == 404


def test_control_is_loopback_only(sandbox: Sandbox) -> None:
    headers = {"Host": f"127.0.0.1:{sandbox.port}"}
    address = ("127.0.0.1", sandbox.port)
    request = Request(
        "GET", "/_sandbox/", "/_sandbox/", {}, headers, None, False, "10.1.2.3", 0.0, address
    )
    refused = handle_control(sandbox.driver, request)
    assert (refused.status, refused.content_type) == (403, "application/json")
    assert b"loopback clients only" in refused.body
    local = Request(
        "GET", "/_sandbox/", "/_sandbox/", {}, headers, None, False, "::1", 0.0, address
    )
    assert handle_control(sandbox.driver, local).status == 200
