"""Races forced into their worst interleaving, on PostgreSQL (real concurrent transactions)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.db import connections

from django_babysea.models import DeliveryState, Generation, WebhookDelivery
from django_babysea.services import attach_generation_id, ledger, store_delivery
from django_babysea.services import events as event_services
from django_babysea.services import webhooks as webhook_services

from .conftest import SignalLog
from .helpers import encode, webhook_payload

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgres,
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="concurrent transactions need PostgreSQL (set BABYSEA_TEST_DATABASE_URL)",
    ),
]
WAIT = 10


def in_thread(target: Callable[[], Any]) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            target()
        except BaseException as exc:  # handed to the test thread
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, errors


def test_id_attached_between_lookup_and_deferral(
    make_generation: Callable[..., Generation], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The webhook finds no generation; before it commits 'deferred', the create response
    records the id and lists deferred deliveries (not seeing this one). The webhook must
    notice after its commit and apply itself."""
    remote_id = uuid.uuid4()
    generation = make_generation()
    payload = webhook_payload("generation.completed", remote_id)
    delivery = store_delivery(
        delivery_id=uuid.UUID(payload["webhook_delivery_id"]),
        event_type=payload["webhook_event"],
        body=encode(payload).decode(),
        generation_id=remote_id,
    )
    looked_up, attached = threading.Event(), threading.Event()
    real_apply = event_services.apply_event

    def apply_then_pause(remote: Any, *, source: str) -> Any:
        result = real_apply(remote, source=source)
        if result is None and not looked_up.is_set():
            looked_up.set()
            assert attached.wait(WAIT)
        return result

    monkeypatch.setattr(webhook_services, "apply_event", apply_then_pause)
    thread, errors = in_thread(lambda: webhook_services.process_delivery(delivery))
    assert looked_up.wait(WAIT)
    attach_generation_id(generation, remote_id)
    assert WebhookDelivery.objects.get().state == DeliveryState.RECEIVED  # not seen as deferred
    attached.set()
    thread.join(WAIT)
    assert not errors
    assert WebhookDelivery.objects.get().state == DeliveryState.PROCESSED
    generation.refresh_from_db()
    assert generation.status == "succeeded"
    assert sorted(generation.credit_events.values_list("kind", flat=True)) == ["charge", "reserve"]


def test_second_writer_waits_for_the_generation_lock(
    make_generation: Callable[..., Generation],
    monkeypatch: pytest.MonkeyPatch,
    signal_log: SignalLog,
) -> None:
    """Two deliveries reporting the same failure: the second one blocks on the row lock
    until the first commits, then sees the terminal state and announces nothing."""
    remote_id = uuid.uuid4()
    generation = make_generation(remote_id)
    inside, release = threading.Event(), threading.Event()
    real_reserve = ledger.record_reserve

    def reserve_then_pause(generation: Generation, *, source: str) -> Any:
        result = real_reserve(generation, source=source)
        if source == "webhook:first":
            inside.set()
            assert release.wait(WAIT)
        return result

    monkeypatch.setattr(ledger, "record_reserve", reserve_then_pause)
    data = webhook_payload("generation.failed", remote_id)["webhook_data"]
    first, first_errors = in_thread(
        lambda: event_services.apply_event(data, source="webhook:first")
    )
    assert inside.wait(WAIT)
    second_done = threading.Event()

    def second_apply() -> None:
        event_services.apply_event(data, source="webhook:second")
        second_done.set()

    second, second_errors = in_thread(second_apply)
    assert not second_done.wait(0.5), "the second writer did not wait for the row lock"
    release.set()
    first.join(WAIT)
    second.join(WAIT)
    assert first_errors == []
    assert second_errors == []
    generation.refresh_from_db()
    assert generation.status == "failed"
    events = generation.credit_events.values_list("kind", "source")
    assert sorted(events) == [("refund", "webhook:first"), ("reserve", "webhook:first")]
    assert signal_log.count("generation_failed") == 1
    assert signal_log.count("generation_status_changed") == 1
