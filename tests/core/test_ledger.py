"""The credit ledger records each fact once, whatever repeats or races."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import QuerySet

from django_babysea.models import CreditEvent, CreditEventKind, Generation
from django_babysea.services import record_low_balance, record_reserve, record_settlement
from django_babysea.services.ledger import to_credits

from .conftest import SignalLog
from .helpers import example

pytestmark = pytest.mark.django_db

Capture = Callable[..., Any]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.412, Decimal("0.412")),
        (1, Decimal("1.000")),
        ("0.0049", Decimal("0.005")),
        (Decimal("12.48"), Decimal("12.480")),
        (True, None),
        (None, None),
        ("lots", None),
        (float("nan"), None),
        ([1], None),
        ("1e40", None),
    ],
)
def test_to_credits(value: object, expected: Decimal | None) -> None:
    assert to_credits(value) == expected


def test_charge_after_refund_and_refund_after_charge_are_ignored(
    make_generation: Callable[..., Generation],
) -> None:
    refunded, charged = make_generation(uuid.uuid4()), make_generation(uuid.uuid4())
    for generation in (refunded, charged):
        record_reserve(generation, source="create")
    assert record_settlement(refunded, CreditEventKind.REFUND, source="webhook:a") is not None
    assert record_settlement(refunded, CreditEventKind.CHARGE, source="webhook:b") is None
    assert record_settlement(charged, CreditEventKind.CHARGE, source="webhook:c") is not None
    assert record_settlement(charged, CreditEventKind.REFUND, source="webhook:d") is None
    assert record_settlement(charged, CreditEventKind.CHARGE, source="poll") is None
    assert sorted(refunded.credit_events.values_list("kind", flat=True)) == ["refund", "reserve"]
    assert sorted(charged.credit_events.values_list("kind", flat=True)) == ["charge", "reserve"]
    assert charged.credit_events.get(kind="charge").amount == Decimal("0.005")


def test_reserve_is_not_a_settlement(make_generation: Callable[..., Generation]) -> None:
    with pytest.raises(ValueError, match="settlement"):
        record_settlement(make_generation(), CreditEventKind.RESERVE, source="poll")


def test_a_racing_duplicate_is_absorbed_by_the_savepoint(
    make_generation: Callable[..., Generation], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pre-check misses a row another transaction just inserted: the insert fails on the
    unique constraint inside a savepoint, and the caller's transaction stays usable."""
    generation = make_generation(uuid.uuid4())
    CreditEvent.objects.create(
        kind=CreditEventKind.RESERVE, amount=1, generation=generation, source="other"
    )
    answers = iter([False, True])
    real_exists = QuerySet.exists

    def exists(queryset: QuerySet[Any]) -> bool:
        if queryset.model is CreditEvent:
            return next(answers)
        return real_exists(queryset)

    monkeypatch.setattr(QuerySet, "exists", exists)
    assert record_reserve(generation, source="create") is None
    monkeypatch.undo()
    assert generation.credit_events.count() == 1  # the connection still works (PostgreSQL)


def test_low_balance_is_recorded_once_per_delivery(
    signal_log: SignalLog, django_capture_on_commit_callbacks: Capture
) -> None:
    payload = example("webhook_credits_low_balance")
    data, delivery_id = payload["webhook_data"], payload["webhook_delivery_id"]
    with django_capture_on_commit_callbacks(execute=True):
        event = record_low_balance(data, delivery_id=delivery_id)
        assert record_low_balance(data, delivery_id=delivery_id) is None
        assert record_low_balance(data, delivery_id=uuid.uuid4()) is not None
    assert event is not None
    event.refresh_from_db()
    assert event.kind == "low_balance"
    assert event.amount == 0
    assert event.balance == Decimal("0.412")
    assert event.generation is None
    assert event.source == f"webhook:{delivery_id}"
    assert event.details["thresholds_crossed"][0] == {"threshold": 1.0, "balance_at": 0.412}
    assert CreditEvent.objects.count() == 2
    alerts = signal_log.of("low_balance")
    assert len(alerts) == 2
    assert alerts[0]["current_balance"] == Decimal("0.412")
    assert alerts[0]["delivery_id"] == uuid.UUID(delivery_id)
    assert [t["threshold"] for t in alerts[0]["thresholds_crossed"]] == [1.0, 0.5]
    assert signal_log.count("credit_event_recorded") == 2


@pytest.mark.parametrize("balance", [1e10, 10**9, 999_999_999.9999, -(10**9)])
def test_low_balance_that_does_not_fit_the_ledger_is_refused(
    balance: float, signal_log: SignalLog
) -> None:
    with pytest.raises(ValueError, match="current_balance is too large"):
        record_low_balance({"current_balance": balance}, delivery_id=uuid.uuid4())
    assert not CreditEvent.objects.exists()
    assert signal_log.calls == []


def test_low_balance_just_under_the_ledger_limit_is_recorded() -> None:
    event = record_low_balance({"current_balance": 999_999_999.999}, delivery_id=uuid.uuid4())
    assert event is not None
    event.refresh_from_db()
    assert event.balance == Decimal("999999999.999")
