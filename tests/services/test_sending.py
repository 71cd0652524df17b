"""The send claim: BabySea is called with no transaction open, a claim is exclusive and expires,
a cancel never waits for the call, and a sync racing a lost create never leaves two rows."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections
from django.test import override_settings
from django.utils import timezone

from django_babysea.client import BabySea, NetworkError, RateLimitError
from django_babysea.models import (
    CreditEvent,
    CreditEventKind,
    DeliveryState,
    Generation,
    GenerationOutput,
    WebhookDelivery,
)
from django_babysea.sandbox import Sandbox
from django_babysea.services import (
    cancel_generation,
    create_generation,
    poll_generations,
    resend_generations,
    send_generation,
    store_delivery,
    submit_generation,
    sync_generations,
)
from django_babysea.services.sending import claim_ttl
from tests.core.helpers import encode, webhook_payload

from .conftest import MODEL, PROMPT, sandbox_settings

pytestmark = pytest.mark.django_db(transaction=True)

CREATE = {"method": "POST", "path": "/v1/generate/*"}
on_postgres = pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="concurrent transactions need PostgreSQL (set BABYSEA_TEST_DATABASE_URL)",
)
WAIT = 10


def kinds(generation: Generation) -> list[str]:
    return sorted(CreditEvent.objects.filter(generation=generation).values_list("kind", flat=True))


def creates(sandbox: Sandbox) -> list[dict[str, Any]]:
    return [r for r in sandbox.received() if r.get("method") == "POST" and "generate" in r["path"]]


def in_thread(target: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    results: list[Any] = []

    def run() -> None:
        try:
            results.append(target())
        except BaseException as exc:  # handed to the test thread
            results.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, results


# -- the claim --------------------------------------------------------------------------------


def test_a_live_claim_keeps_other_senders_off_and_an_expired_one_does_not(
    sandbox: Sandbox,
) -> None:
    sandbox.auto_advance = False
    generation = create_generation(MODEL, {"generation_prompt": PROMPT})
    now = timezone.now()
    Generation.objects.filter(pk=generation.pk).update(send_attempts=1, send_claimed_at=now)
    untouched = send_generation(generation.pk)
    assert (untouched.status, untouched.generation_id, untouched.send_attempts) == (
        "created",
        None,
        1,
    )
    assert creates(sandbox) == []
    assert generation.pk not in resend_generations_pks()

    # The worker holding it died: once the claim is older than its lifetime, it is taken over.
    Generation.objects.filter(pk=generation.pk).update(
        send_claimed_at=now - claim_ttl() - timedelta(seconds=1)
    )
    assert generation.pk in resend_generations_pks()
    sent = send_generation(generation.pk)
    assert sent.status == "pending"
    assert sent.send_attempts == 2
    assert sent.send_claimed_at is None
    assert len(creates(sandbox)) == 1


def resend_generations_pks() -> list[Any]:
    from django_babysea.services.many import resend_candidates

    return list(Generation.objects.filter(resend_candidates()).values_list("pk", flat=True))


def test_claim_lifetime_covers_the_longest_call() -> None:
    with override_settings(BABYSEA={"TIMEOUT": 30, "MAX_RETRIES": 2, "MAX_RETRY_AFTER": 60}):
        assert claim_ttl() == timedelta(seconds=3 * (30 + 60) + 60)


def test_retry_after_above_the_setting_is_not_slept(sandbox: Sandbox) -> None:
    """MAX_RETRY_AFTER reaches the client: a long Retry-After ends the send at once."""
    sandbox.inject("rate_limited", retry_after=5, **CREATE)
    generation = create_generation(MODEL, {"generation_prompt": PROMPT})
    with override_settings(BABYSEA=sandbox_settings(sandbox, MAX_RETRIES=2, MAX_RETRY_AFTER=1)):
        started = time.monotonic()
        with pytest.raises(RateLimitError):
            send_generation(generation.pk)
        assert time.monotonic() - started < 3
    assert len(creates(sandbox)) == 1
    generation.refresh_from_db()
    assert (generation.status, generation.send_claimed_at) == ("created", None)


# -- cancel during a send ---------------------------------------------------------------------


@pytest.fixture
def slow_create(sandbox: Sandbox) -> Sandbox:
    sandbox.auto_advance = False
    sandbox.inject("slow", seconds=2, **CREATE)
    return sandbox


@pytest.mark.postgres
@on_postgres
def test_cancel_during_a_slow_send_does_not_wait(slow_create: Sandbox) -> None:
    generation = create_generation(MODEL, {"generation_prompt": PROMPT})
    thread, results = in_thread(lambda: send_generation(generation.pk))
    deadline = time.monotonic() + WAIT
    while not Generation.objects.filter(pk=generation.pk, send_claimed_at__isnull=False).exists():
        assert time.monotonic() < deadline
        time.sleep(0.02)
    time.sleep(0.2)  # the create request is now on its way

    started = time.monotonic()
    canceled = cancel_generation(generation)
    assert time.monotonic() - started < 1.0, "the cancel waited for the HTTP call"
    assert canceled.status == "canceled"
    assert thread.is_alive()

    thread.join(WAIT)
    assert not isinstance(results[0], BaseException), results
    done = Generation.objects.get(pk=generation.pk)
    # BabySea accepted it before it heard of the cancel: canceled there too, refunded.
    assert done.generation_id is not None
    assert done.status == "canceled"
    assert kinds(done) == [CreditEventKind.REFUND, CreditEventKind.RESERVE]
    record = slow_create.generation(str(done.generation_id))
    assert record is not None
    assert record["generation_status"] == "canceled"


def test_cancel_then_late_answer_cancels_at_babysea(sandbox: Sandbox) -> None:
    """The same order without threads: the row is canceled while claimed, then the answer
    comes."""
    sandbox.auto_advance = False
    generation = create_generation(MODEL, {"generation_prompt": PROMPT})
    from django_babysea.services import sending

    real_generate = BabySea.generate

    def cancel_first(client: BabySea, *args: Any, **kwargs: Any) -> Any:
        assert cancel_generation(generation).status == "canceled"
        return real_generate(client, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(BabySea, "generate", cancel_first)
        done = sending.send_generation(generation.pk)
    assert done.status == "canceled"
    assert done.generation_id is not None
    assert kinds(done) == [CreditEventKind.REFUND, CreditEventKind.RESERVE]


# -- sync against a lost create ---------------------------------------------------------------


def _lost_create(sandbox: Sandbox) -> Generation:
    sandbox.auto_advance = False
    sandbox.inject("crash_after_commit", **CREATE)
    owner = get_user_model().objects.create_user("editor")
    generation = create_generation(
        MODEL, {"generation_prompt": PROMPT, "generation_ratio": "1:1"}, owner=owner
    )
    with pytest.raises(NetworkError):
        send_generation(generation.pk)
    return generation


def _one_row(generation: Generation, remote: BabySea) -> Generation:
    rows = Generation.objects.all()
    assert rows.count() == 1
    row = rows.get()
    assert row.pk == generation.pk
    assert row.owner_id == generation.owner_id
    assert row.request == {"generation_prompt": PROMPT, "generation_ratio": "1:1"}
    assert str(row.generation_id) == remote.list_generations().generations[0].generation_id
    return row


def test_sync_then_resend_after_a_lost_create_leaves_one_row(
    sandbox: Sandbox, remote: BabySea
) -> None:
    generation = _lost_create(sandbox)
    remote_id = remote.list_generations().generations[0].generation_id
    sandbox.advance(remote_id, to="succeeded")
    assert sync_generations() == (1, 0)
    orphan = Generation.objects.get(generation_id=remote_id)
    assert orphan.owner is None
    assert kinds(orphan) == [CreditEventKind.CHARGE, CreditEventKind.RESERVE]
    assert orphan.outputs.count() == 1

    healed = send_generation(generation.pk)
    row = _one_row(generation, remote)
    assert healed.pk == row.pk
    assert row.status == "succeeded"
    assert row.output_urls
    assert kinds(row) == [CreditEventKind.CHARGE, CreditEventKind.RESERVE]
    assert CreditEvent.objects.count() == 2
    assert GenerationOutput.objects.get().generation_id == row.pk
    assert row.cost_charged is not None
    # Nothing left for a later sync to add.
    assert sync_generations() == (0, 0)
    assert Generation.objects.count() == 1


def test_resend_before_the_sync_needs_no_merge(sandbox: Sandbox, remote: BabySea) -> None:
    generation = _lost_create(sandbox)
    assert resend_generations().accepted == 1
    assert sync_generations() == (0, 0)
    row = _one_row(generation, remote)
    assert kinds(row) == [CreditEventKind.RESERVE]


def test_poll_resends_rows_a_failed_send_left_created(sandbox: Sandbox, remote: BabySea) -> None:
    generation = _lost_create(sandbox)
    sync_generations()
    assert Generation.objects.count() == 2
    poll_generations()
    row = _one_row(generation, remote)
    assert row.status == "pending"
    assert kinds(row) == [CreditEventKind.RESERVE]


def test_resend_stops_at_a_retryable_error_and_counts(sandbox: Sandbox) -> None:
    sandbox.auto_advance = False
    sandbox.inject("drop", times=3, **CREATE)
    rows = [create_generation(MODEL, {"generation_prompt": f"Seal {n}"}) for n in range(3)]
    for row in rows:
        with pytest.raises(NetworkError):
            send_generation(row.pk)
    sandbox.set_balance("0.001")
    done = resend_generations(limit=2)
    assert (done.accepted, done.rejected, done.error) == (0, 2, None)
    sandbox.set_balance("100")
    sandbox.inject("drop", **CREATE)
    stopped = resend_generations()
    assert (stopped.accepted, stopped.rejected) == (0, 0)
    assert isinstance(stopped.error, NetworkError)
    assert resend_generations().accepted == 1


def test_sync_processes_deliveries_waiting_for_an_imported_generation(
    sandbox: Sandbox, remote: BabySea
) -> None:
    sandbox.auto_advance = False
    made = remote.generate(MODEL, generation_prompt="A sea otter")
    sandbox.advance(made.generation_id, to="processing")
    payload = webhook_payload("generation.started", made.generation_id)
    delivery = store_delivery(
        delivery_id=uuid.UUID(payload["webhook_delivery_id"]),
        event_type=payload["webhook_event"],
        body=encode(payload).decode(),
        generation_id=uuid.UUID(made.generation_id),
    )
    WebhookDelivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.DEFERRED)
    assert sync_generations() == (1, 0)
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.PROCESSED


def test_submit_inline_still_sends_once(sandbox: Sandbox) -> None:
    generation = submit_generation(MODEL, generation_prompt=PROMPT)
    assert generation.generation_id is not None
    assert (generation.send_attempts, generation.send_claimed_at) == (1, None)
