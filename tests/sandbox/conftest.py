"""Helpers for the sandbox tests: HTTP clients, a webhook receiver and example-shape checks."""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from django_babysea.sandbox import Sandbox

#: One TLS context for every test client (building one per client costs ~20 ms).
SSL = ssl.create_default_context()
EXAMPLES = Path(__file__).resolve().parents[1] / "contract_examples"
VALID_UUID = "8e2c4a61-5f3b-4d9e-a1c7-3b6f0d2e9a18"


def example(name: str) -> Any:
    return json.loads((EXAMPLES / f"{name}.json").read_text())


def kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def assert_shape(actual: Any, expected: Any, path: str = "$", nullable: bool = True) -> None:
    """Same keys (recursively) and compatible types as the contract example (null allowed)."""
    if actual is None and nullable:
        return
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{path}: expected an object, got {actual!r}"
        assert set(actual) == set(expected), (
            f"{path}: keys differ: missing {set(expected) - set(actual)}, "
            f"extra {set(actual) - set(expected)}"
        )
        for key, value in expected.items():
            assert_shape(actual[key], value, f"{path}.{key}", nullable)
    elif isinstance(expected, list):
        assert isinstance(actual, list), f"{path}: expected an array, got {actual!r}"
        if expected and actual and not isinstance(expected[0], dict):
            for i, item in enumerate(actual):
                assert_shape(item, expected[0], f"{path}[{i}]", nullable)
    elif expected is not None:
        assert kind(actual) == kind(expected), f"{path}: {kind(actual)} != {kind(expected)}"


def assert_error(response: httpx.Response, code: str, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["status"] == "error"
    assert body["request_id"].startswith("req_")
    assert len(body["request_id"]) == 28
    error = body["error"]
    assert error["code"] == code, body
    assert set(error) <= {"code", "type", "message", "retryable", "details", "provider_errors"}
    assert isinstance(error["type"], str)
    assert isinstance(error["message"], str)
    assert isinstance(error["retryable"], bool)
    return dict(error)


def client(sandbox: Sandbox, key: str | None = None, **kw: Any) -> httpx.Client:
    headers = {"Authorization": f"Bearer {key or sandbox.api_key}"}
    return httpx.Client(base_url=sandbox.url, headers=headers, timeout=10, verify=SSL, **kw)


@pytest.fixture
def sandbox(babysea_sandbox: Sandbox) -> Sandbox:
    return babysea_sandbox


@pytest.fixture
def api(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with client(sandbox) as c:
        yield c


def create(
    api: httpx.Client, model: str = "bfl/flux-schnell", kind_: str | None = None, **fields: Any
) -> httpx.Response:
    route = kind_ or ("video" if "generation_duration" in fields else "image")
    body = {"generation_prompt": "A harbor seal pup asleep on an ice floe", **fields}
    return api.post(f"/v1/generate/{route}/{model}", json=body)


def created_id(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    return str(response.json()["data"]["generation_id"])


def wait_until(check: Callable[[], Any], timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.01)


class Receiver:
    """A local webhook endpoint: records every POST; answers ``statuses`` in order, then 200."""

    def __init__(self, statuses: list[int] | None = None, delay: float = 0.0) -> None:
        self.statuses = list(statuses or [])
        self.delay = delay
        self.calls: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if receiver.delay:
                    time.sleep(receiver.delay)
                with receiver.lock:
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    receiver.calls.append(
                        {
                            "headers": dict(self.headers),
                            "body": body,
                            "status": status,
                            "at": time.monotonic(),
                        }
                    )
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/babysea/webhook/"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()

    def events(self) -> list[str]:
        with self.lock:
            return [c["headers"]["X-BabySea-Event"] for c in self.calls]

    def wait(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        wait_until(lambda: len(self.calls) >= count, timeout)
        with self.lock:
            return list(self.calls)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()
