"""Service tests run against a real sandbox, with ``BABYSEA`` pointing at it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from django.db import connection
from django.test import override_settings

from django_babysea.client import BabySea
from django_babysea.sandbox import Sandbox
from django_babysea.services.connection import clear_clients

MODEL = "bfl/flux-schnell"
PROMPT = "A harbor seal pup asleep on a snowy ice floe"


def sandbox_settings(sandbox: Sandbox, **overrides: Any) -> dict[str, Any]:
    """``BABYSEA`` pointing at ``sandbox``, with no client retries (tests decide what fails)."""
    return {
        "API_KEY": sandbox.api_key,
        "BASE_URL": sandbox.url,
        "WEBHOOK_SECRETS": [sandbox.webhook_secret],
        "MAX_RETRIES": 0,
        "TIMEOUT": 10,
        **overrides,
    }


@pytest.fixture
def sandbox(babysea_sandbox: Sandbox) -> Iterator[Sandbox]:
    """The sandbox, with the site's settings pointing at it (no client retries by default:
    tests decide what fails)."""
    with override_settings(BABYSEA=sandbox_settings(babysea_sandbox)):
        yield babysea_sandbox
    clear_clients()


@pytest.fixture
def remote(sandbox: Sandbox) -> Iterator[BabySea]:
    """A client of the same account, to see BabySea's side or make generations elsewhere."""
    with BabySea(sandbox.api_key, base_url=sandbox.url, max_retries=0) as client:
        yield client


class AtomicCalls:
    """Every HTTP request made while the calling thread was inside ``transaction.atomic()``."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def record(self, request: httpx.Request) -> None:
        if connection.in_atomic_block:
            self.calls.append(f"{request.method} {request.url.path}")


@pytest.fixture(autouse=True)
def no_remote_call_in_a_transaction(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[AtomicCalls]:
    """Fail a test whose code called BabySea inside a database transaction.

    Only meaningful for ``transaction=True`` tests: the others run inside pytest-django's own
    transaction, where every call is "inside".
    """
    recorder = AtomicCalls()
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not marker.kwargs.get("transaction"):
        yield recorder
        return
    real = httpx.HTTPTransport.handle_request

    def handle_request(self: httpx.HTTPTransport, sent: httpx.Request) -> httpx.Response:
        recorder.record(sent)
        return real(self, sent)

    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", handle_request)
    yield recorder
    assert recorder.calls == [], f"BabySea called inside a transaction: {recorder.calls}"
