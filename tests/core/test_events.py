"""apply_event: one monotonic state machine for every source of remote state."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal
from itertools import permutations
from typing import Any

import pytest
from django.db import transaction

from django_babysea.models import CreditEvent, CreditEventKind, Generation, GenerationStatus
from django_babysea.services import apply_event

from .conftest import SignalLog
from .helpers import TERMINAL_EVENTS, create_data, example, poll_data, webhook_payload

pytestmark = pytest.mark.django_db

Capture = Callable[..., Any]


def webhook_data(event: str, generation_id: uuid.UUID, **data: Any) -> dict[str, Any]:
    data_: dict[str, Any] = webhook_payload(event, generation_id, **data)["webhook_data"]
    return data_


def ledger(generation: Generation) -> list[str]:
    return sorted(generation.credit_events.values_list("kind", flat=True))


def test_create_response_accepts_and_reserves(
    make_generation: Callable[..., Generation],
    signal_log: SignalLog,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    remote_id = uuid.uuid4()
    generation = make_generation(remote_id)
    with django_capture_on_commit_callbacks(execute=True):
        applied = apply_event(create_data(remote_id), source="create")
    assert applied is not None
    assert applied.pk == generation.pk
    generation.refresh_from_db()
    assert generation.status == GenerationStatus.PENDING
    assert generation.provider_order == ["bfl", "replicate", "cloudflare"]
    assert generation.prediction_id == "bfl_7f3c2a91d04e"
    assert generation.remote["generation_initialized"] is True
    reserve = generation.credit_events.get()
    assert (reserve.kind, reserve.amount, reserve.source) == ("reserve", Decimal("0.005"), "create")
    assert reserve.details == {"amount_known": True}
    assert signal_log.names() == [
        "credit_event_recorded",
        "generation_submitted",
        "generation_status_changed",
    ]
    changed = signal_log.of("generation_status_changed")[0]
    assert (changed["old_status"], changed["new_status"]) == ("created", "pending")
    assert changed["source"] == "create"


def test_reserve_without_estimate_is_zero_and_says_so(
    make_generation: Callable[..., Generation],
) -> None:
    remote_id = uuid.uuid4()
    generation = make_generation(remote_id, cost=None)
    apply_event(create_data(remote_id), source="create")
    reserve = generation.credit_events.get()
    assert reserve.amount == Decimal("0.000")
    assert reserve.details == {"amount_known": False}


def test_unknown_generation_returns_none_and_writes_nothing(
    make_generation: Callable[..., Generation],
) -> None:
    make_generation(uuid.uuid4())
    assert apply_event(webhook_data("generation.completed", uuid.uuid4()), source="poll") is None
    assert not CreditEvent.objects.exists()
    assert Generation.objects.get().status == GenerationStatus.CREATED


@pytest.mark.parametrize("remote", [{}, {"generation_id": "not-a-uuid"}, {"generation_id": None}])
def test_record_without_generation_id_is_an_error(remote: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="generation_id"):
        apply_event(remote, source="poll")


def _sequence(kind: str, remote_id: uuid.UUID) -> dict[str, dict[str, Any]]:
    event = TERMINAL_EVENTS[kind][0]
    return {
        "create": create_data(remote_id),
        "started": webhook_data("generation.started", remote_id),
        "terminal": webhook_data(event, remote_id),
        "poll": poll_data(kind, remote_id),
    }


def _assert_final(generation: Generation, kind: str, order: tuple[str, ...]) -> None:
    generation.refresh_from_db()
    assert generation.status == kind, order
    kinds = ledger(generation)
    settlement = "charge" if kind == "succeeded" else "refund"
    assert kinds == sorted(["reserve", settlement]), order
    assert generation.cost_charged == (Decimal("0.005") if kind == "succeeded" else 0), order
    assert generation.provider_order == ["bfl", "replicate", "cloudflare"], order
    assert generation.completed_at is not None, order
    if kind == "succeeded":
        assert len(generation.output_urls) == 1, order
        assert generation.output_urls[0].endswith("output-0.png"), order
        assert generation.provider_used == "bfl", order
        assert not generation.error_code, order
    else:
        assert generation.output_urls == [], order
    if kind == "failed":
        assert generation.error_code == "BSE4003", order
        assert generation.error_message.startswith("All inference providers"), order


@pytest.mark.parametrize("kind", ["succeeded", "failed", "canceled"])
def test_every_order_ends_in_the_same_state(
    kind: str,
    make_generation: Callable[..., Generation],
    signal_log: SignalLog,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    """All orders of create, started, terminal and a terminal poll, with duplicates."""
    items = ("create", "started", "started", "terminal", "terminal", "poll")
    orders = sorted(set(permutations(items)))
    assert len(orders) == 180
    for order in orders:
        remote_id = uuid.uuid4()
        generation = make_generation(remote_id)
        records = _sequence(kind, remote_id)
        signal_log.clear()
        with django_capture_on_commit_callbacks(execute=True):
            for name in order:
                apply_event(records[name], source=name)
        _assert_final(generation, kind, order)
        assert signal_log.count(f"generation_{kind}") == 1, order
        assert signal_log.count("generation_submitted") == 1, order
        assert signal_log.count("credit_event_recorded") == 2, order
        statuses = [c["new_status"] for c in signal_log.of("generation_status_changed")]
        assert statuses[-1] == kind, order
        assert len(statuses) == len(set(statuses)), order
        ranks = [GenerationStatus(s).rank for s in statuses]
        assert ranks == sorted(ranks), order


def test_late_failure_after_success_changes_nothing_it_contradicts(
    make_generation: Callable[..., Generation],
) -> None:
    remote_id = uuid.uuid4()
    generation = make_generation(remote_id)
    apply_event(webhook_data("generation.completed", remote_id), source="webhook:a")
    apply_event(webhook_data("generation.failed", remote_id), source="webhook:b")
    apply_event(webhook_data("generation.canceled", remote_id), source="webhook:c")
    generation.refresh_from_db()
    assert generation.status == "succeeded"
    assert (generation.error_code, generation.error_message) == ("", "")
    assert ledger(generation) == ["charge", "reserve"]


def test_late_success_after_cancel_brings_no_outputs_and_no_charge(
    make_generation: Callable[..., Generation],
) -> None:
    remote_id = uuid.uuid4()
    generation = make_generation(remote_id)
    apply_event(webhook_data("generation.canceled", remote_id), source="webhook:a")
    apply_event(poll_data("succeeded", remote_id), source="poll")
    generation.refresh_from_db()
    assert generation.status == "canceled"
    assert generation.output_urls == []
    assert generation.cost_charged == 0
    assert ledger(generation) == ["refund", "reserve"]
    # ...but neutral facts that were missing are filled in.
    assert generation.provider_order == ["bfl", "replicate", "cloudflare"]
    assert generation.remote_created_at is not None


def test_late_processing_fills_empty_fields_only(
    make_generation: Callable[..., Generation],
) -> None:
    remote_id = uuid.uuid4()
    generation = make_generation(remote_id)
    apply_event(webhook_data("generation.failed", remote_id), source="webhook:a")
    generation.refresh_from_db()
    assert generation.prediction_id == ""
    apply_event(webhook_data("generation.started", remote_id), source="webhook:b")
    generation.refresh_from_db()
    assert generation.status == "failed"
    assert generation.prediction_id == "bfl_7f3c2a91d04e"
    assert generation.remote["generation_status"] == "failed"
    assert generation.remote["generation_provider_initialize"] == "bfl"


def test_removal_is_filled_in_and_outputs_kept(
    make_generation: Callable[..., Generation],
) -> None:
    remote_id = uuid.uuid4()
    generation = make_generation(remote_id)
    apply_event(webhook_data("generation.completed", remote_id), source="webhook:a")
    removed = example("content_get_removed")["data"]
    removed["generation_id"] = str(remote_id)
    apply_event(removed, source="poll")
    generation.refresh_from_db()
    assert generation.removed is True
    assert generation.output_urls[0].endswith("output-0.png")  # null never erases
    assert generation.remote["generation_output_file"] is None
    # BabySea's own times replace the ones noted when the webhook arrived.
    assert generation.completed_at is not None
    assert generation.completed_at.isoformat().startswith("2026-06-08T10:16:49")
    apply_event(webhook_data("generation.completed", remote_id), source="webhook:b")
    generation.refresh_from_db()
    assert generation.removed is True
    assert ledger(generation) == ["charge", "reserve"]


def test_cancel_without_refund_is_a_charge(make_generation: Callable[..., Generation]) -> None:
    remote_id = uuid.uuid4()
    generation = make_generation(remote_id)
    apply_event(
        webhook_data("generation.canceled", remote_id, credits_refunded=False), source="webhook:a"
    )
    charge = generation.credit_events.get(kind=CreditEventKind.CHARGE)
    assert charge.details == {"reason": "canceled_without_refund"}
    assert ledger(generation) == ["charge", "reserve"]


def test_replayed_create_of_a_canceled_generation(
    make_generation: Callable[..., Generation],
) -> None:
    remote_id = uuid.uuid4()
    generation = make_generation(remote_id)
    data = example("generate_replay_canceled")["data"]
    data["generation_id"] = str(remote_id)
    apply_event(data, source="create")
    generation.refresh_from_db()
    assert generation.status == "canceled"
    assert ledger(generation) == ["refund", "reserve"]


def test_unknown_status_only_fills_in(
    make_generation: Callable[..., Generation], caplog: pytest.LogCaptureFixture
) -> None:
    remote_id = uuid.uuid4()
    generation = make_generation(remote_id)
    apply_event(poll_data("queued_at_provider", remote_id), source="poll")
    generation.refresh_from_db()
    assert generation.status == "pending"
    assert generation.output_urls == []
    assert generation.provider_order == ["bfl", "replicate", "cloudflare"]
    assert "queued_at_provider" in caplog.text


def test_signals_wait_for_the_commit(
    make_generation: Callable[..., Generation],
    signal_log: SignalLog,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    remote_id = uuid.uuid4()
    make_generation(remote_id)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        apply_event(webhook_data("generation.completed", remote_id), source="webhook:a")
        assert signal_log.calls == []
    assert len(callbacks) == 6  # 2 ledger rows, submitted, status changed, succeeded, copy
    assert signal_log.count("generation_succeeded") == 1
    assert signal_log.count("credit_event_recorded") == 2


def test_rolled_back_apply_sends_nothing(
    make_generation: Callable[..., Generation],
    signal_log: SignalLog,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    remote_id = uuid.uuid4()
    generation = make_generation(remote_id)

    def apply_then_fail() -> None:
        with transaction.atomic():
            apply_event(webhook_data("generation.completed", remote_id), source="webhook:a")
            raise RuntimeError("the caller failed after applying")

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
    ):
        apply_then_fail()
    assert callbacks == []
    assert signal_log.calls == []
    generation.refresh_from_db()
    assert generation.status == "created"
    assert not generation.credit_events.exists()
