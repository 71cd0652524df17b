"""Signed webhooks from the sandbox verify with the client's helpers and match the examples."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from django_babysea.client import BabySea, verify
from django_babysea.sandbox import Sandbox

from .conftest import assert_same_shape, example


class Receiver(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), ReceiverHandler)
        self.received: list[tuple[dict[str, str], bytes]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"


class ReceiverHandler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((dict(self.headers.items()), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    ("outcome", "events"),
    [
        ("succeeded", ["generation.started", "generation.completed"]),
        ("failed", ["generation.started", "generation.failed"]),
        ("canceled", ["generation.started", "generation.canceled"]),
    ],
)
def test_lifecycle_deliveries_are_signed_and_shaped(
    client: BabySea, sandbox: Sandbox, receiver: Receiver, outcome: str, events: list[str]
) -> None:
    sandbox.add_webhook(receiver.url, "whsec_conformance_secret_1")
    sandbox.auto_advance = False
    generation_id = client.generate("bfl/flux-schnell", generation_prompt="x").generation_id
    sandbox.advance(generation_id, to="processing")
    if outcome == "canceled":
        client.cancel_generation(generation_id)
    else:
        sandbox.advance(generation_id, to=outcome, error_code="BSE4003")
    sandbox.wait_for_deliveries(len(events))
    assert len(receiver.received) == len(events)
    seen = []
    for headers, body in receiver.received:
        verify(["whsec_conformance_secret_1"], body, headers["X-BabySea-Signature"])
        payload = json.loads(body)
        event = payload["webhook_event"]
        seen.append(event)
        assert headers["X-BabySea-Event"] == event
        assert headers["X-BabySea-Delivery-Id"] == payload["webhook_delivery_id"]
        assert headers["X-BabySea-Timestamp"] == payload["webhook_timestamp"]
        assert headers["Content-Type"] == "application/json"
        expected = example(f"webhook_{event.replace('.', '_')}")
        assert_same_shape(payload, expected, event)
        assert set(payload["webhook_data"]) == set(expected["webhook_data"]), event
        assert payload["webhook_data"]["generation_id"] == generation_id
    assert sorted(seen) == sorted(events)


def test_low_balance_and_test_event(client: BabySea, sandbox: Sandbox, receiver: Receiver) -> None:
    sandbox.add_webhook(receiver.url, "whsec_conformance_secret_2")
    sandbox.set_balance("0.503")
    client.generate("bfl/flux-schnell", generation_prompt="x")
    sandbox.send_test_webhook()
    sandbox.run_until_idle()
    sandbox.wait_for_deliveries(1, event="credits.low_balance")
    sandbox.wait_for_deliveries(1, event="webhook.test")
    payloads = {}
    for headers, body in receiver.received:
        verify("whsec_conformance_secret_2", body, headers["X-BabySea-Signature"])
        payload = json.loads(body)
        payloads[payload["webhook_event"]] = payload
    assert_same_shape(
        payloads["credits.low_balance"], example("webhook_credits_low_balance"), "low"
    )
    assert payloads["credits.low_balance"]["webhook_data"]["thresholds_crossed"] == [
        {"threshold": 0.5, "balance_at": 0.498}
    ]
    assert_same_shape(payloads["webhook.test"], example("webhook_webhook_test"), "test")
    assert (
        payloads["webhook.test"]["webhook_data"]["generation_id"]
        == "00000000-0000-0000-0000-000000000000"
    )
