"""Submitting, sending, refreshing, cancelling and deleting generations against the sandbox."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import transaction

from django_babysea.client import (
    BabySea,
    InvalidRequestError,
    NetworkError,
    NotCancelableError,
    ServerError,
)
from django_babysea.models import CreditEvent, CreditEventKind, Generation, GenerationKind
from django_babysea.sandbox import Sandbox
from django_babysea.services import (
    GenerationNotSentError,
    cancel_generation,
    create_generation,
    delete_generation,
    estimate,
    get_client,
    refresh_generation,
    send_generation,
    submit_generation,
)

from .conftest import MODEL, PROMPT, AtomicCalls

pytestmark = pytest.mark.django_db(transaction=True)

on_postgres = pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="needs PostgreSQL (set BABYSEA_TEST_DATABASE_URL)",
)
CREATE = {"method": "POST", "path": "/v1/generate/*"}


def kinds(generation: Generation) -> list[str]:
    return sorted(CreditEvent.objects.filter(generation=generation).values_list("kind", flat=True))


def test_create_generation_decides_kind_and_prompt() -> None:
    image = create_generation(MODEL, {"generation_prompt": PROMPT, "generation_ratio": None})
    assert (image.status, image.kind, image.prompt) == ("created", GenerationKind.IMAGE, PROMPT)
    assert image.request == {"generation_prompt": PROMPT}
    assert image.idempotency_key == f"django-babysea:{image.pk}"
    video = create_generation(
        "google/veo-2", {"generation_prompt": PROMPT, "generation_duration": 5}
    )
    assert video.kind == GenerationKind.VIDEO


@pytest.mark.parametrize(
    ("model", "fields", "message"),
    [
        ("", {"generation_prompt": PROMPT}, "model identifier"),
        (MODEL, {}, "generation_prompt is required"),
        (MODEL, {"generation_prompt": PROMPT, "ratio": "1:1"}, "Unknown field"),
        ("lab/" + "m" * 300, {"generation_prompt": PROMPT}, "304 characters long; at most 200"),
        (MODEL, {"generation_prompt": PROMPT, "generation_seed": float("inf")}, "generation_seed"),
        (MODEL, {"generation_prompt": PROMPT, "generation_x": [1, float("nan")]}, "not a finite"),
        (MODEL, {"generation_prompt": "a\x00b"}, "NUL"),
        (MODEL, {"generation_prompt": PROMPT, "generation_x": {"k": b"raw"}}, "bytes"),
        (MODEL, {"generation_prompt": PROMPT, "generation_x": object()}, "cannot be stored"),
    ],
)
def test_create_generation_refuses_bad_input(
    model: str, fields: dict[str, str], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        create_generation(model, fields)
    assert not Generation.objects.exists()


def test_submit_end_to_end(sandbox: Sandbox, remote: BabySea) -> None:
    sandbox.auto_advance = False
    generation = submit_generation(MODEL, generation_prompt=PROMPT, generation_ratio="1:1")
    assert generation.status == "pending"
    assert generation.generation_id is not None
    assert generation.provider_order
    assert generation.prediction_id
    assert generation.cost_reserved is not None
    assert generation.cost_reserved > 0
    remote_record = remote.get_generation(str(generation.generation_id))
    assert remote_record.generation_ratio == "1:1"

    sandbox.advance(str(generation.generation_id), to="processing")
    assert refresh_generation(generation).status == "processing"
    sandbox.advance(str(generation.generation_id), to="succeeded")
    done = refresh_generation(generation)
    assert done.status == "succeeded"
    assert done.output_urls
    assert done.completed_at is not None
    assert kinds(done) == [CreditEventKind.CHARGE, CreditEventKind.RESERVE]
    assert done.cost_charged == generation.cost_reserved
    # Sending again is a refresh, not a second generation.
    assert send_generation(done.pk).status == "succeeded"
    assert remote.list_generations().total == 1


def test_rejection_fails_the_row_without_reserve(sandbox: Sandbox, remote: BabySea) -> None:
    sandbox.set_balance("0.001")
    generation = submit_generation(MODEL, generation_prompt=PROMPT)
    assert generation.status == "failed"
    assert generation.error_code == "BSE1004"
    assert generation.error_message
    assert generation.generation_id is None
    assert kinds(generation) == []
    assert remote.list_generations().total == 0
    # Failed is final: another send does nothing.
    assert send_generation(generation.pk).status == "failed"


@pytest.mark.parametrize(
    ("fault", "error"), [("server_error", ServerError), ("drop", NetworkError)]
)
def test_retryable_failure_keeps_created_then_heals(
    sandbox: Sandbox, remote: BabySea, fault: str, error: type[Exception]
) -> None:
    sandbox.inject(fault, **CREATE)
    with pytest.raises(error):
        submit_generation(MODEL, generation_prompt=PROMPT)
    generation = Generation.objects.get()
    assert generation.status == "created"
    assert generation.generation_id is None
    assert generation.error_code
    assert generation.error_message
    assert kinds(generation) == []

    sent = send_generation(generation.pk)
    assert sent.status in ("pending", "processing", "succeeded")
    assert sent.generation_id is not None
    assert (sent.error_code, sent.error_message) == ("", "")
    assert remote.list_generations().total == 1


def _crash_heals(sandbox: Sandbox, remote: BabySea) -> None:
    sandbox.auto_advance = False
    sandbox.inject("crash_after_commit", **CREATE)
    generation = create_generation(MODEL, {"generation_prompt": PROMPT})
    with pytest.raises(NetworkError):
        send_generation(generation.pk)
    generation.refresh_from_db()
    assert generation.status == "created"
    assert generation.generation_id is None
    # BabySea did create it: the response was lost on the way.
    assert remote.list_generations().total == 1

    healed = send_generation(generation.pk)
    assert healed.status == "pending"
    page = remote.list_generations()
    assert page.total == 1
    assert str(healed.generation_id) == page.generations[0].generation_id
    creates = [r for r in sandbox.received() if r.get("method") == "POST"]
    assert len(creates) == 2
    assert creates[-1]["replayed"] is True
    assert kinds(healed) == [CreditEventKind.RESERVE]


def test_crash_after_commit_heals_without_a_second_generation(
    sandbox: Sandbox, remote: BabySea
) -> None:
    _crash_heals(sandbox, remote)


@pytest.mark.postgres
@on_postgres
def test_crash_after_commit_heals_on_postgres(sandbox: Sandbox, remote: BabySea) -> None:
    _crash_heals(sandbox, remote)


def test_cancel(sandbox: Sandbox) -> None:
    sandbox.auto_advance = False
    generation = submit_generation(MODEL, generation_prompt=PROMPT)
    canceled = cancel_generation(generation)
    assert canceled.status == "canceled"
    assert kinds(canceled) == [CreditEventKind.REFUND, CreditEventKind.RESERVE]
    assert sandbox.generation(str(generation.generation_id))["generation_status"] == "canceled"  # type: ignore[index]
    with pytest.raises(NotCancelableError):
        cancel_generation(canceled)


def test_cancel_before_send_is_local(sandbox: Sandbox) -> None:
    generation = create_generation(MODEL, {"generation_prompt": PROMPT})
    assert cancel_generation(generation).status == "canceled"
    # The send that was queued finds a terminal row and sends nothing.
    assert send_generation(generation.pk).generation_id is None
    assert not [r for r in sandbox.received() if r.get("method") == "POST"]


def test_cancel_of_finished_refreshes_then_raises(sandbox: Sandbox) -> None:
    sandbox.auto_advance = False
    generation = submit_generation(MODEL, generation_prompt=PROMPT)
    sandbox.advance(str(generation.generation_id), to="succeeded")
    with pytest.raises(NotCancelableError):
        cancel_generation(generation)
    generation.refresh_from_db()
    assert generation.status == "succeeded"


def test_delete(sandbox: Sandbox) -> None:
    sandbox.auto_advance = False
    generation = submit_generation(MODEL, generation_prompt=PROMPT)
    with pytest.raises(InvalidRequestError):
        delete_generation(generation)  # not terminal yet
    sandbox.advance(str(generation.generation_id), to="succeeded")
    refresh_generation(generation)
    deleted = delete_generation(generation)
    assert deleted.removed is True
    assert deleted.status == "succeeded"
    assert sandbox.generation(str(generation.generation_id))["generation_removed"] is True  # type: ignore[index]


def test_unsent_generation_cannot_be_refreshed_or_deleted(sandbox: Sandbox) -> None:
    generation = create_generation(MODEL, {"generation_prompt": PROMPT})
    with pytest.raises(GenerationNotSentError, match="not been accepted"):
        refresh_generation(generation)
    with pytest.raises(GenerationNotSentError):
        delete_generation(generation)


def test_estimate(sandbox: Sandbox) -> None:
    result = estimate(MODEL, count=2)
    assert result.model_identifier == MODEL
    assert result.assets_count == 2
    assert result.cost_total_consumed == pytest.approx(2 * result.cost_per_generation)


def test_jobs_are_registered(sandbox: Sandbox) -> None:
    from django_babysea.services import dispatch

    for name in (
        "send_generation",
        "refresh_generation",
        "poll_generations",
        "resend_generations",
        "sync_generations",
    ):
        assert dispatch.job(name).__module__.startswith("django_babysea.services.")
    assert dispatch.JOBS["purge"] == "django_babysea.services.purge.purge"
    sandbox.auto_advance = False
    generation = submit_generation(MODEL, generation_prompt=PROMPT)
    sandbox.advance(str(generation.generation_id), to="succeeded")
    assert dispatch.job("refresh_generation")(str(generation.pk)).status == "succeeded"


def test_a_call_inside_a_transaction_is_caught(
    sandbox: Sandbox, no_remote_call_in_a_transaction: AtomicCalls
) -> None:
    """The autouse guard sees a BabySea call made inside atomic() (and none outside)."""
    get_client().status()
    assert no_remote_call_in_a_transaction.calls == []
    with transaction.atomic():
        get_client().status()
    assert no_remote_call_in_a_transaction.calls == ["GET /v1/status"]
    no_remote_call_in_a_transaction.calls.clear()


@pytest.mark.parametrize("limit", [0, -1, 2**63, 10**20, True, 1.5])
def test_limits_out_of_the_database_range_are_refused(sandbox: Sandbox, limit: object) -> None:
    from django_babysea.services import poll_generations, resend_generations

    with pytest.raises(ValueError, match="limit must be"):
        poll_generations(limit)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="limit must be"):
        resend_generations(limit)  # type: ignore[arg-type]
    assert sandbox.received() == []
