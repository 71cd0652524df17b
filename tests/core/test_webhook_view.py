"""The webhook view through Django's test client: refuse before writing, store, apply, answer."""

from __future__ import annotations

import io
import json
import logging
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from django.core.handlers.asgi import ASGIRequest
from django.db import connection
from django.test import Client, override_settings
from django.urls import resolve, reverse

from django_babysea.client.webhooks import sign
from django_babysea.models import CreditEvent, DeliveryState, Generation, WebhookDelivery
from django_babysea.services import events as event_services
from django_babysea.services import webhooks as webhook_services
from django_babysea.views import MAX_BODY_BYTES, WebhookView

from .helpers import (
    BAD_REQUESTS,
    WEBHOOK_PATH,
    bad_request,
    encode,
    row_counts,
    secret,
    signed_headers,
    webhook_payload,
)

pytestmark = pytest.mark.django_db

Post = Callable[..., Any]
OTHER_SECRET = "whsec_rotated_in_secret_0000000001"


@pytest.fixture
def existing_rows(make_generation: Callable[..., Generation], post_webhook: Post) -> uuid.UUID:
    """Rows in every table, so that 'nothing written' also means 'nothing changed'."""
    remote_id = uuid.uuid4()
    make_generation(remote_id)
    assert post_webhook(webhook_payload("generation.completed", remote_id)).status_code == 200
    assert post_webhook(webhook_payload("credits.low_balance")).status_code == 200
    return remote_id


@pytest.mark.parametrize("name", list(BAD_REQUESTS))
def test_bad_requests_are_refused_without_writing(
    name: str, client: Client, existing_rows: uuid.UUID, caplog: pytest.LogCaptureFixture
) -> None:
    body, headers = bad_request(name)
    before = row_counts()
    with caplog.at_level(logging.DEBUG):
        response = client.post(
            WEBHOOK_PATH, data=body, content_type="application/json", headers=headers
        )
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("text/plain")
    assert BAD_REQUESTS[name] in response.content.decode()
    assert row_counts() == before
    assert not Generation.objects.exclude(status="succeeded").exists()
    assert secret() not in caplog.text + response.content.decode()


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete", "head", "options"])
def test_only_post_is_allowed(method: str, client: Client, existing_rows: uuid.UUID) -> None:
    before = row_counts()
    response = getattr(client, method)(WEBHOOK_PATH)
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert row_counts() == before


def test_declared_length_over_the_cap_is_refused_before_reading(
    client: Client, existing_rows: uuid.UUID
) -> None:
    body = encode(webhook_payload("webhook.test"))
    headers = signed_headers(body)
    before = row_counts()
    response = client.generic(
        "POST",
        WEBHOOK_PATH,
        data=body,
        content_type="application/json",
        headers=headers,
        CONTENT_LENGTH=str(MAX_BODY_BYTES + 1),
    )
    assert response.status_code == 400
    assert response.content == b"Request body is too large.\n"
    assert row_counts() == before


def test_body_over_the_cap_without_length_is_refused(existing_rows: uuid.UUID) -> None:
    """ASGI servers may pass a chunked body with no Content-Length: checked after reading."""
    body = encode({**webhook_payload("webhook.test"), "padding": "x" * MAX_BODY_BYTES})
    headers = [(b"x-babysea-signature", sign(secret(), body).encode())]
    scope = {"type": "http", "method": "POST", "path": WEBHOOK_PATH, "headers": headers}
    request = ASGIRequest(scope, io.BytesIO(body))
    before = row_counts()
    response = WebhookView.as_view()(request)
    assert response.status_code == 400
    assert row_counts() == before


@override_settings(BABYSEA={"WEBHOOK_SECRETS": []})
def test_no_configured_secret_refuses_everything(
    post_webhook: Post, caplog: pytest.LogCaptureFixture
) -> None:
    response = post_webhook(webhook_payload("webhook.test"))
    assert response.status_code == 400
    assert row_counts() == dict.fromkeys(row_counts(), 0)
    assert "WEBHOOK_SECRETS" in caplog.text


def test_url_and_view_flags() -> None:
    assert reverse("django_babysea:webhook") == WEBHOOK_PATH
    view = resolve(WEBHOOK_PATH).func
    assert view.csrf_exempt is True  # type: ignore[attr-defined]
    assert view._non_atomic_requests == {"default"}  # type: ignore[attr-defined]


def test_delivery_is_stored_exactly_and_applied(
    make_generation: Callable[..., Generation],
) -> None:
    remote_id = uuid.uuid4()
    generation = make_generation(remote_id)
    payload = webhook_payload("generation.completed", remote_id)
    body = json.dumps(payload, indent=2).encode()  # whitespace must survive byte for byte
    signed_at = int(time.time()) - 10
    headers = signed_headers(body, timestamp=signed_at)
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        WEBHOOK_PATH, data=body, content_type="application/json", headers=headers
    )
    assert response.status_code == 200
    assert response.json() == {"ok": True, "state": "processed"}
    delivery = WebhookDelivery.objects.get()
    assert delivery.body.encode() == body
    assert str(delivery.delivery_id) == payload["webhook_delivery_id"]
    assert delivery.event_type == "generation.completed"
    assert delivery.generation_id == remote_id
    assert delivery.attempts == 1
    assert delivery.processed_at is not None
    assert delivery.error == ""
    assert delivery.signature_timestamp == datetime.fromtimestamp(signed_at, tz=UTC)
    generation.refresh_from_db()
    assert generation.status == "succeeded"
    assert sorted(generation.credit_events.values_list("kind", "source")) == [
        ("charge", f"webhook:{delivery.delivery_id}"),
        ("reserve", f"webhook:{delivery.delivery_id}"),
    ]


def test_rotation_accepts_any_configured_secret(
    post_webhook: Post, make_generation: Callable[..., Generation]
) -> None:
    remote_id = uuid.uuid4()
    make_generation(remote_id)
    payload = webhook_payload("generation.started", remote_id)
    with override_settings(BABYSEA={"WEBHOOK_SECRETS": [secret(), OTHER_SECRET]}):
        assert post_webhook(payload, key=OTHER_SECRET).status_code == 200
    assert WebhookDelivery.objects.get().state == DeliveryState.PROCESSED
    # Once the old secret is removed, deliveries signed with it are refused.
    with override_settings(BABYSEA={"WEBHOOK_SECRETS": [OTHER_SECRET]}):
        response = post_webhook(webhook_payload("generation.started", remote_id))
    assert response.status_code == 400
    assert WebhookDelivery.objects.count() == 1


def test_duplicate_delivery_is_counted_not_reapplied(
    post_webhook: Post, make_generation: Callable[..., Generation]
) -> None:
    remote_id = uuid.uuid4()
    generation = make_generation(remote_id)
    payload = webhook_payload("generation.completed", remote_id)
    for _ in range(3):
        response = post_webhook(payload)
        assert response.status_code == 200
        assert response.json() == {"ok": True, "state": "processed"}
    delivery = WebhookDelivery.objects.get()
    assert delivery.attempts == 3
    assert sorted(generation.credit_events.values_list("kind", flat=True)) == ["charge", "reserve"]


@pytest.mark.parametrize(
    ("event", "state"),
    [
        ("webhook.test", "processed"),
        ("account.renamed", "ignored"),
        ("generation.queued", "ignored"),
    ],
)
def test_test_and_unknown_events_are_stored_and_acknowledged(
    event: str, state: str, post_webhook: Post
) -> None:
    response = post_webhook(webhook_payload(event))
    assert response.status_code == 200
    assert response.json() == {"ok": True, "state": state}
    delivery = WebhookDelivery.objects.get()
    assert (delivery.event_type, delivery.state) == (event, state)
    assert delivery.processed_at is not None
    assert not CreditEvent.objects.exists()
    assert not Generation.objects.exists()


def test_low_balance_delivery(post_webhook: Post) -> None:
    payload = webhook_payload("credits.low_balance")
    assert post_webhook(payload).status_code == 200
    assert post_webhook(payload).status_code == 200
    alert = CreditEvent.objects.get()
    assert alert.kind == "low_balance"
    assert alert.dedupe_key == f"low_balance:{payload['webhook_delivery_id']}"
    assert WebhookDelivery.objects.get().attempts == 2


def test_processing_bug_is_kept_as_failed_and_acknowledged(
    post_webhook: Post,
    make_generation: Callable[..., Generation],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Not a transient fault: a retry would fail the same way, and 15 failed deliveries in a
    row switch the endpoint off. The row keeps the error for a replay after the fix."""
    remote_id = uuid.uuid4()
    generation = make_generation(remote_id)
    payload = webhook_payload("generation.completed", remote_id)
    real_apply = event_services.apply_event

    def apply_then_fail(remote: Any, *, source: str) -> Any:
        real_apply(remote, source=source)  # its writes must be rolled back
        raise RuntimeError("a bug in a signal receiver")

    monkeypatch.setattr(webhook_services, "apply_event", apply_then_fail)
    with caplog.at_level(logging.ERROR):
        response = post_webhook(payload)
    assert response.status_code == 200
    assert response.json() == {"ok": False, "state": "failed"}
    assert b"signal receiver" not in response.content
    assert "stored as failed" in caplog.text
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == DeliveryState.FAILED
    assert "RuntimeError: a bug in a signal receiver" in delivery.error
    assert delivery.processed_at is None
    generation.refresh_from_db()
    assert generation.status == "created"
    assert not CreditEvent.objects.exists()

    monkeypatch.undo()  # the fix is deployed; BabySea delivers the same delivery again
    response = post_webhook(payload)
    assert response.json() == {"ok": True, "state": "processed"}
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.error) == ("processed", 2, "")
    assert CreditEvent.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_atomic_requests_do_not_swallow_the_failure_row(
    post_webhook: Post,
    make_generation: Callable[..., Generation],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(connection.settings_dict, "ATOMIC_REQUESTS", True)

    def fail(remote: Any, *, source: str) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(webhook_services, "apply_event", fail)
    remote_id = uuid.uuid4()
    make_generation(remote_id)
    response = post_webhook(webhook_payload("generation.started", remote_id))
    assert (response.status_code, response.json()) == (200, {"ok": False, "state": "failed"})
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == DeliveryState.FAILED
    assert "RuntimeError: boom" in delivery.error
