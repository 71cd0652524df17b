"""A webhook that beats the create response waits, then is applied exactly once."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from itertools import permutations
from typing import Any

import pytest

from django_babysea.models import DeliveryState, Generation, WebhookDelivery
from django_babysea.services import apply_event, attach_generation_id, process_delivery
from django_babysea.services import events as event_services
from django_babysea.services import webhooks as webhook_services

from .conftest import SignalLog
from .helpers import TERMINAL_EVENTS, create_data, webhook_payload

pytestmark = pytest.mark.django_db

Post = Callable[..., Any]
Capture = Callable[..., Any]


def kinds(generation: Generation) -> list[str]:
    return sorted(generation.credit_events.values_list("kind", flat=True))


def test_early_webhook_is_deferred_then_applied_once(
    post_webhook: Post,
    make_generation: Callable[..., Generation],
    signal_log: SignalLog,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    remote_id = uuid.uuid4()
    generation = make_generation()  # submitted, create response not back yet
    started = webhook_payload("generation.started", remote_id)
    completed = webhook_payload("generation.completed", remote_id)
    with django_capture_on_commit_callbacks(execute=True):
        for payload in (completed, started):
            response = post_webhook(payload)
            assert response.status_code == 200
            assert response.json() == {"ok": True, "state": "deferred"}
        assert post_webhook(completed).json()["state"] == "deferred"  # BabySea's retry
        assert signal_log.calls == []
        generation.refresh_from_db()
        assert generation.status == "created"

        attached = attach_generation_id(generation, str(remote_id))
        assert attached.status == "succeeded"
        apply_event(create_data(remote_id), source="create")
        attach_generation_id(generation, remote_id)  # a second call changes nothing
        assert post_webhook(completed).json() == {"ok": True, "state": "processed"}

    generation.refresh_from_db()
    assert generation.generation_id == remote_id
    assert generation.status == "succeeded"
    assert generation.provider_order == ["bfl", "replicate", "cloudflare"]
    assert kinds(generation) == ["charge", "reserve"]
    deliveries = {str(d.delivery_id): d for d in WebhookDelivery.objects.all()}
    assert {d.state for d in deliveries.values()} == {DeliveryState.PROCESSED}
    assert deliveries[completed["webhook_delivery_id"]].attempts == 3
    assert signal_log.count("generation_succeeded") == 1
    assert signal_log.count("generation_submitted") == 1


def test_deferred_deliveries_are_applied_in_received_order(
    post_webhook: Post, make_generation: Callable[..., Generation], monkeypatch: pytest.MonkeyPatch
) -> None:
    remote_id = uuid.uuid4()
    generation = make_generation()
    sent = [
        webhook_payload("generation.completed", remote_id),
        webhook_payload("generation.started", remote_id),
    ]
    for payload in sent:
        post_webhook(payload)
    seen: list[str] = []
    real = webhook_services._process_once

    def spy(pk: int) -> WebhookDelivery:
        seen.append(str(WebhookDelivery.objects.get(pk=pk).delivery_id))
        return real(pk)

    monkeypatch.setattr(webhook_services, "_process_once", spy)
    attach_generation_id(generation, remote_id)
    assert seen == [p["webhook_delivery_id"] for p in sent]


def test_failing_deferred_delivery_does_not_block_the_others(
    post_webhook: Post, make_generation: Callable[..., Generation], monkeypatch: pytest.MonkeyPatch
) -> None:
    remote_id = uuid.uuid4()
    generation = make_generation()
    post_webhook(webhook_payload("generation.started", remote_id))
    post_webhook(webhook_payload("generation.completed", remote_id))
    real_apply = event_services.apply_event

    def fail_started(remote: Any, *, source: str) -> Any:
        if remote["generation_status"] == "processing":
            raise RuntimeError("started is broken")
        return real_apply(remote, source=source)

    monkeypatch.setattr(webhook_services, "apply_event", fail_started)
    attach_generation_id(generation, remote_id)
    states = dict(WebhookDelivery.objects.values_list("event_type", "state"))
    assert states == {"generation.started": "failed", "generation.completed": "processed"}
    generation.refresh_from_db()
    assert generation.status == "succeeded"


def test_attach_refuses_a_different_id(make_generation: Callable[..., Generation]) -> None:
    generation = make_generation(uuid.uuid4())
    with pytest.raises(ValueError, match="already has"):
        attach_generation_id(generation, uuid.uuid4())
    with pytest.raises(ValueError, match="not a BabySea generation id"):
        attach_generation_id(make_generation(), "nope")


def test_process_delivery_leaves_finished_deliveries_alone(post_webhook: Post) -> None:
    post_webhook(webhook_payload("account.renamed"))
    delivery = WebhookDelivery.objects.get()
    assert process_delivery(delivery).state == DeliveryState.IGNORED


@pytest.mark.parametrize("kind", ["succeeded", "failed", "canceled"])
def test_every_arrival_order_through_the_view(
    kind: str,
    post_webhook: Post,
    make_generation: Callable[..., Generation],
    signal_log: SignalLog,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    """The create response in every position among started/terminal deliveries and repeats."""
    items = ("create", "started", "started", "terminal", "terminal")
    orders = sorted(set(permutations(items)))
    assert len(orders) == 30
    for order in orders:
        remote_id = uuid.uuid4()
        generation = make_generation()
        payloads = {
            "started": webhook_payload("generation.started", remote_id),
            "terminal": webhook_payload(TERMINAL_EVENTS[kind][0], remote_id),
        }
        signal_log.clear()
        with django_capture_on_commit_callbacks(execute=True):
            for name in order:
                if name == "create":
                    attach_generation_id(generation, remote_id)
                    apply_event(create_data(remote_id), source="create")
                else:
                    assert post_webhook(payloads[name]).status_code == 200, order
        generation.refresh_from_db()
        assert generation.status == kind, order
        settlement = "charge" if kind == "succeeded" else "refund"
        assert kinds(generation) == sorted(["reserve", settlement]), order
        deliveries = WebhookDelivery.objects.filter(generation_id=remote_id)
        assert sorted(d.attempts for d in deliveries) == [2, 2], order
        assert {d.state for d in deliveries} == {DeliveryState.PROCESSED}, order
        assert signal_log.count(f"generation_{kind}") == 1, order
        assert signal_log.count("credit_event_recorded") == 2, order
