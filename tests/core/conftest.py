"""Fixtures of the core tests: generations, a signal recorder and a signed webhook poster."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.dispatch import Signal
from django.test import Client

from django_babysea import signals
from django_babysea.models import Generation, GenerationKind

from .helpers import WEBHOOK_PATH, encode, signed_headers

SIGNAL_NAMES = (
    "generation_submitted",
    "generation_status_changed",
    "generation_succeeded",
    "generation_failed",
    "generation_canceled",
    "outputs_stored",
    "credit_event_recorded",
    "low_balance",
)


@dataclass
class SignalLog:
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    def count(self, name: str) -> int:
        return self.names().count(name)

    def of(self, name: str) -> list[dict[str, Any]]:
        return [kwargs for called, kwargs in self.calls if called == name]

    def clear(self) -> None:
        self.calls.clear()


@pytest.fixture
def signal_log() -> Iterator[SignalLog]:
    """Every django-babysea signal sent, with its kwargs and whether a transaction was open."""
    log = SignalLog()
    receivers: list[tuple[Signal, Callable[..., None]]] = []
    for name in SIGNAL_NAMES:
        signal: Signal = getattr(signals, name)

        def receiver(sender: type, *, _name: str = name, **kwargs: Any) -> None:
            kwargs.pop("signal", None)
            kwargs["in_atomic_block"] = connection.in_atomic_block
            with log.lock:
                log.calls.append((_name, kwargs))

        signal.connect(receiver, weak=False)
        receivers.append((signal, receiver))
    yield log
    for signal, receiver in receivers:
        signal.disconnect(receiver)


@pytest.fixture
def make_generation() -> Callable[..., Generation]:
    def make(
        generation_id: uuid.UUID | None = None, cost: Decimal | None = Decimal("0.005"), **kw: Any
    ) -> Generation:
        kw.setdefault("kind", GenerationKind.IMAGE)
        kw.setdefault("model_identifier", "bfl/flux-schnell")
        kw.setdefault("prompt", "A harbor seal pup asleep on a snowy ice floe")
        return Generation.objects.create(generation_id=generation_id, cost_reserved=cost, **kw)

    return make


@pytest.fixture
def post_webhook(client: Client) -> Callable[..., Any]:
    """POST a payload (or raw bytes) to the webhook URL through the test client, signed."""

    def post(
        payload: Any,
        *,
        key: str | None = None,
        timestamp: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        body = payload if isinstance(payload, bytes) else encode(payload)
        sent = signed_headers(body, key=key, timestamp=timestamp)
        sent.update(headers or {})
        return client.post(WEBHOOK_PATH, data=body, content_type="application/json", headers=sent)

    return post
