"""The webhook URL over real HTTP (live server + httpx), including concurrent deliveries."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import httpx
import pytest
from django.conf import settings
from django.core.signals import request_finished
from pytest_django.live_server_helper import LiveServer

from django_babysea.models import DeliveryState, Generation, WebhookDelivery
from django_babysea.services import apply_event, attach_generation_id
from tests.live import in_parallel

from .conftest import SignalLog
from .helpers import (
    BAD_REQUESTS,
    WEBHOOK_PATH,
    bad_request,
    create_data,
    encode,
    row_counts,
    signed_headers,
    webhook_payload,
)

pytestmark = pytest.mark.django_db(transaction=True)

on_postgres = pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="concurrent writers need PostgreSQL (set BABYSEA_TEST_DATABASE_URL)",
)
THREADS = 8


class SettlingTransport(httpx.HTTPTransport):
    """Hands a response to the test only once the server has finished the request, including
    the work the webhook view defers until its response is sent (copying outputs).

    On in-memory SQLite the live server thread shares the test's connection: work still
    running there after the test has its response would interleave with the test's queries
    and the next test's teardown (lost savepoints, foreign key errors, a lost failure row).
    """

    def __init__(self) -> None:
        super().__init__()
        self.settled = threading.Condition()
        self.sent = self.finished = 0

    def request_finished(self, **kwargs: Any) -> None:
        # Connected after django_babysea's own receiver, so it runs after the deferred jobs.
        with self.settled:
            self.finished += 1
            self.settled.notify_all()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self.settled:
            self.sent += 1
        response = super().handle_request(request)
        response.read()
        with self.settled:
            assert self.settled.wait_for(lambda: self.finished >= self.sent, timeout=30)
        return response


@pytest.fixture
def http(live_server: LiveServer) -> Iterator[httpx.Client]:
    transport = SettlingTransport()
    request_finished.connect(transport.request_finished)
    try:
        with httpx.Client(base_url=live_server.url, timeout=30, transport=transport) as client:
            yield client
    finally:
        request_finished.disconnect(transport.request_finished)


def send(client: httpx.Client, payload: Any) -> httpx.Response:
    body = encode(payload)
    headers = {"Content-Type": "application/json", **signed_headers(body)}
    return client.post(WEBHOOK_PATH, content=body, headers=headers)


def charges(generation: Generation) -> list[str]:
    return sorted(generation.credit_events.values_list("kind", flat=True))


@pytest.mark.parametrize("name", list(BAD_REQUESTS))
def test_bad_requests_over_http(
    name: str, http: httpx.Client, make_generation: Callable[..., Generation]
) -> None:
    make_generation(uuid.uuid4())
    body, headers = bad_request(name)
    before = row_counts()
    response = http.post(
        WEBHOOK_PATH, content=body, headers={"Content-Type": "application/json", **headers}
    )
    assert response.status_code == 400
    assert BAD_REQUESTS[name] in response.text
    assert row_counts() == before


def test_get_over_http(http: httpx.Client) -> None:
    assert http.get(WEBHOOK_PATH).status_code == 405
    assert row_counts() == dict.fromkeys(row_counts(), 0)


def test_delivery_over_http_signals_after_commit(
    http: httpx.Client, make_generation: Callable[..., Generation], signal_log: SignalLog
) -> None:
    remote_id = uuid.uuid4()
    generation = make_generation(remote_id)
    response = send(http, webhook_payload("generation.completed", remote_id))
    assert response.status_code == 200
    assert response.json() == {"ok": True, "state": "processed"}
    generation.refresh_from_db()
    assert generation.status == "succeeded"
    assert signal_log.count("generation_succeeded") == 1
    assert signal_log.count("credit_event_recorded") == 2
    # Sent by on_commit: the server thread had no transaction open any more.
    assert all(not kwargs["in_atomic_block"] for _, kwargs in signal_log.calls)


@on_postgres
@pytest.mark.postgres
def test_concurrent_copies_of_one_delivery_apply_once(
    http: httpx.Client, make_generation: Callable[..., Generation], signal_log: SignalLog
) -> None:
    remote_id = uuid.uuid4()
    generation = make_generation(remote_id)
    payload = webhook_payload("generation.completed", remote_id)
    responses = in_parallel([partial(send, http, payload)] * THREADS)
    assert [r.status_code for r in responses] == [200] * THREADS
    assert {r.json()["state"] for r in responses} == {"processed"}
    delivery = WebhookDelivery.objects.get()
    assert (delivery.attempts, delivery.state) == (THREADS, DeliveryState.PROCESSED)
    assert charges(generation) == ["charge", "reserve"]
    assert signal_log.count("generation_succeeded") == 1
    assert signal_log.count("credit_event_recorded") == 2


@on_postgres
@pytest.mark.postgres
def test_concurrent_events_of_one_generation(
    http: httpx.Client, make_generation: Callable[..., Generation], signal_log: SignalLog
) -> None:
    remote_id = uuid.uuid4()
    generation = make_generation(remote_id)
    started = webhook_payload("generation.started", remote_id)
    failed = webhook_payload("generation.failed", remote_id)
    jobs = [partial(send, http, payload) for payload in [started, failed] * (THREADS // 2)]
    assert {r.status_code for r in in_parallel(jobs)} == {200}
    generation.refresh_from_db()
    assert generation.status == "failed"
    assert generation.error_code == "BSE4003"
    assert charges(generation) == ["refund", "reserve"]
    assert sorted(WebhookDelivery.objects.values_list("attempts", flat=True)) == [4, 4]
    assert signal_log.count("generation_failed") == 1


@on_postgres
@pytest.mark.postgres
def test_webhook_racing_the_create_response_is_applied_once(
    http: httpx.Client, make_generation: Callable[..., Generation], signal_log: SignalLog
) -> None:
    for _ in range(15):
        remote_id = uuid.uuid4()
        generation = make_generation()
        payload = webhook_payload("generation.completed", remote_id)
        signal_log.clear()

        def deliver(payload: dict[str, Any] = payload) -> httpx.Response:
            return send(http, payload)

        def create_response_arrives(
            generation: Generation = generation, remote_id: uuid.UUID = remote_id
        ) -> None:
            attach_generation_id(generation, remote_id)
            apply_event(create_data(remote_id), source="create")

        results = in_parallel([deliver, create_response_arrives])
        assert results[0].status_code == 200
        delivery = WebhookDelivery.objects.get(generation_id=remote_id)
        assert delivery.state == DeliveryState.PROCESSED  # never stuck as deferred
        generation.refresh_from_db()
        assert generation.status == "succeeded"
        assert charges(generation) == ["charge", "reserve"]
        assert signal_log.count("generation_succeeded") == 1
