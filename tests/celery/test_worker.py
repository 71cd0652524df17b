"""End to end through a real worker process on Redis (see conftest.py for how it is started)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from django.core.files.storage import storages
from django.test import override_settings

from django_babysea.models import (
    CreditEventKind,
    DeliveryState,
    Generation,
    GenerationKind,
    GenerationOutput,
    OutputState,
    WebhookDelivery,
)
from django_babysea.services import dispatch, store_delivery
from tests.celery import jobs
from tests.celery.app import app
from tests.core.helpers import encode, webhook_payload
from tests.settings import BABYSEA

from .conftest import Worker

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]

WAIT = 20.0


@pytest.fixture(autouse=True)
def _queue_on_celery(celery_worker: Worker) -> Iterator[None]:
    with override_settings(BABYSEA={**BABYSEA, "USE_CELERY": True}):
        yield
    # Work a test queued as a side effect (the output copy a completed delivery starts) may
    # still be running: the flush after the test must not meet it (a TRUNCATE against the
    # worker's row locks is a deadlock).
    _wait_until_idle(celery_worker)


def _wait_until_idle(worker: Worker, timeout: float = WAIT) -> None:
    inspect = app.control.inspect(destination=[worker.hostname], timeout=0.5)
    deadline = time.monotonic() + timeout
    idle = 0
    while idle < 2 and time.monotonic() < deadline:
        time.sleep(0.2)  # a task just sent may not be reserved by the worker yet
        busy = [*(inspect.active() or {}).values(), *(inspect.reserved() or {}).values()]
        idle = 0 if any(busy) else idle + 1


@pytest.fixture
def process_delivery_job(monkeypatch: pytest.MonkeyPatch) -> None:
    # The services register the pk-taking job; run_later refuses unknown names.
    assert dispatch.JOBS["process_delivery"].endswith("webhooks.process_delivery_by_pk")


def wait_for(check: Callable[[], Any], timeout: float = WAIT) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {check}")
        time.sleep(0.05)


def completed_delivery(generation_id: uuid.UUID) -> WebhookDelivery:
    """A verified generation.completed delivery, stored as the webhook view stores it."""
    payload = webhook_payload("generation.completed", generation_id)
    return store_delivery(
        delivery_id=uuid.UUID(payload["webhook_delivery_id"]),
        event_type=payload["webhook_event"],
        body=encode(payload).decode(),
        generation_id=generation_id,
    )


def remote_generation() -> Generation:
    return Generation.objects.create(
        generation_id=uuid.uuid4(),
        kind=GenerationKind.IMAGE,
        model_identifier="bfl/flux-schnell",
        prompt="A harbor seal pup asleep on a snowy ice floe",
        cost_reserved="0.005",
    )


def remote_id(generation: Generation) -> uuid.UUID:
    assert generation.generation_id is not None
    return generation.generation_id


def settled(generation: Generation) -> list[str]:
    return sorted(generation.credit_events.values_list("kind", flat=True))


@pytest.mark.usefixtures("process_delivery_job")
def test_run_later_processes_a_delivery_on_the_worker() -> None:
    generation = remote_generation()
    delivery = completed_delivery(remote_id(generation))
    assert delivery.state == DeliveryState.RECEIVED

    dispatch.run_later("process_delivery", delivery.pk)  # outside a transaction: sent at once

    wait_for(lambda: WebhookDelivery.objects.get(pk=delivery.pk).state == DeliveryState.PROCESSED)
    generation.refresh_from_db()
    assert generation.status == "succeeded"
    assert settled(generation) == [CreditEventKind.CHARGE, CreditEventKind.RESERVE]


@pytest.mark.usefixtures("process_delivery_job")
def test_nothing_is_queued_when_the_transaction_rolls_back() -> None:
    from django.db import transaction

    generation = remote_generation()
    delivery = completed_delivery(remote_id(generation))

    def queue_then_roll_back() -> None:
        with transaction.atomic():
            dispatch.run_later("process_delivery", delivery.pk)
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        queue_then_roll_back()
    # A marker task queued after it: once it ran, the worker would have seen the other one.
    app.send_task("django_babysea.process_delivery", args=[-1]).get(timeout=WAIT)
    assert WebhookDelivery.objects.get(pk=delivery.pk).state == DeliveryState.RECEIVED


def test_a_task_for_a_missing_row_completes() -> None:
    result = app.send_task("django_babysea.process_delivery", args=[2_000_000_000])
    assert result.get(timeout=WAIT) is None
    assert result.successful()


def test_the_same_delivery_twice_settles_once() -> None:
    generation = remote_generation()
    delivery = completed_delivery(remote_id(generation))
    # Twice at once (the worker runs 4 threads) and once more after: acks_late redelivery,
    # a replay or a duplicate send all look like this to the worker.
    first = [app.send_task("django_babysea.process_delivery", args=[delivery.pk]) for _ in "ab"]
    for result in first:
        result.get(timeout=WAIT)
    app.send_task("django_babysea.process_delivery", args=[delivery.pk]).get(timeout=WAIT)

    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.PROCESSED
    assert settled(generation) == [CreditEventKind.CHARGE, CreditEventKind.RESERVE]


def test_a_retryable_failure_is_retried_until_it_succeeds() -> None:
    key = f"babysea-tests:{uuid.uuid4()}"
    result = app.send_task(jobs.task_name(jobs.FLAKY), args=[key])
    assert result.get(timeout=WAIT) is None
    assert int(jobs.counter().get(key) or 0) == 3  # network error, database error, success


def test_retries_give_up_with_the_original_error() -> None:
    key = f"babysea-tests:{uuid.uuid4()}"
    result = app.send_task(jobs.task_name(jobs.ALWAYS_FAILING), args=[key])
    result.get(timeout=WAIT, propagate=False)
    assert result.failed()
    # APIError's keyword-only constructor does not survive the JSON result backend; the
    # backend still says which error it was.
    assert "APIError" in repr(result.result)
    assert "simulated" in repr(result.result)
    assert int(jobs.counter().get(key) or 0) == 3  # max_retries=2 for this task: 1 + 2 runs


def test_submit_is_sent_by_the_worker_to_the_sandbox(babysea_sandbox_session: Any) -> None:
    from django_babysea.services import submit_generation

    sandbox = babysea_sandbox_session
    settings = {**BABYSEA, "USE_CELERY": True, "API_KEY": sandbox.api_key}
    with override_settings(BABYSEA={**settings, "BASE_URL": sandbox.url}):
        generation = submit_generation(
            "bfl/flux-schnell", generation_prompt="A harbor seal pup on an ice floe"
        )
    assert generation.generation_id is None  # queued: the worker sends it

    sent = wait_for(
        lambda: Generation.objects.filter(pk=generation.pk, generation_id__isnull=False).first()
    )
    assert sandbox.generation(str(sent.generation_id)) is not None
    assert sent.status in ("pending", "processing", "succeeded")
    assert CreditEventKind.RESERVE in settled(sent)


def test_outputs_of_a_succeeded_generation_are_copied_by_the_worker(
    babysea_sandbox_session: Any,
) -> None:
    from django_babysea.services import refresh_generation, submit_generation

    sandbox = babysea_sandbox_session
    settings = {**BABYSEA, "USE_CELERY": True, "API_KEY": sandbox.api_key}
    with override_settings(BABYSEA={**settings, "BASE_URL": sandbox.url}):
        generation = submit_generation(
            "bfl/flux-schnell", generation_prompt="A harbor seal pup on an ice floe"
        )
        sent = wait_for(
            lambda: Generation.objects.filter(pk=generation.pk, generation_id__isnull=False).first()
        )
        remote = str(sent.generation_id)
        wait_for(lambda: sandbox.generation(remote)["generation_status"] == "succeeded")
        # Whichever process applies the success first (the worker's send, or this refresh)
        # queues the copy job: with USE_CELERY on it runs on the worker, never here.
        assert refresh_generation(sent).status == "succeeded"

    output = wait_for(
        lambda: GenerationOutput.objects.filter(
            generation_id=generation.pk, state=OutputState.STORED
        ).first()
    )
    assert output.attempts == 1
    with storages[output.storage].open(output.name) as stored:
        copied = stored.read()
    assert copied == httpx.get(output.source_url).raise_for_status().content
    assert len(copied) == output.size
