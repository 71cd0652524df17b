"""What the models and the database guarantee on their own."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from django_babysea.models import (
    AppendOnlyError,
    CreditEvent,
    CreditEventKind,
    DeliveryState,
    Generation,
    GenerationStatus,
    WebhookDelivery,
)

pytestmark = pytest.mark.django_db

S = GenerationStatus


@pytest.mark.parametrize(
    ("current", "reported", "expected"),
    [
        (S.CREATED, S.PENDING, S.PENDING),
        (S.CREATED, S.SUCCEEDED, S.SUCCEEDED),
        (S.PENDING, S.PROCESSING, S.PROCESSING),
        (S.PROCESSING, S.PENDING, S.PROCESSING),
        (S.PROCESSING, S.PROCESSING, S.PROCESSING),
        (S.PROCESSING, S.FAILED, S.FAILED),
        (S.PENDING, S.CANCELED, S.CANCELED),
        (S.SUCCEEDED, S.FAILED, S.SUCCEEDED),
        (S.CANCELED, S.SUCCEEDED, S.CANCELED),
        (S.FAILED, S.PROCESSING, S.FAILED),
        (S.PENDING, None, S.PENDING),
    ],
)
def test_status_only_moves_forward(
    current: GenerationStatus, reported: GenerationStatus | None, expected: GenerationStatus
) -> None:
    assert current.advance(reported) == expected


def test_terminal_statuses() -> None:
    assert {s for s in S if s.is_terminal} == {S.SUCCEEDED, S.FAILED, S.CANCELED}
    assert [s.rank for s in (S.CREATED, S.PENDING, S.PROCESSING)] == [0, 1, 2]


def test_idempotency_key_defaults_to_local_id(make_generation: Callable[..., Generation]) -> None:
    generation = make_generation()
    assert generation.idempotency_key == f"django-babysea:{generation.id}"
    generation.refresh_from_db()
    assert generation.idempotency_key == f"django-babysea:{generation.id}"
    assert generation.status == S.CREATED
    assert generation.generation_id is None


def test_explicit_idempotency_key_is_kept_and_unique(
    make_generation: Callable[..., Generation],
) -> None:
    assert make_generation(idempotency_key="job:1").idempotency_key == "job:1"
    with pytest.raises(IntegrityError), transaction.atomic():
        make_generation(idempotency_key="job:1")


def test_generation_str(make_generation: Callable[..., Generation]) -> None:
    remote_id = uuid.UUID("8e2c4a61-5f3b-4d9e-a1c7-3b6f0d2e9a18")
    assert str(make_generation(remote_id)) == "bfl/flux-schnell (created) 8e2c4a61"


def test_generation_id_is_unique(make_generation: Callable[..., Generation]) -> None:
    remote_id = uuid.uuid4()
    make_generation(remote_id)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_generation(remote_id)


def test_credit_events_are_append_only(make_generation: Callable[..., Generation]) -> None:
    event = CreditEvent.objects.create(
        kind=CreditEventKind.RESERVE, amount=Decimal("0.005"), generation=make_generation()
    )
    event.amount = Decimal("9")
    with pytest.raises(AppendOnlyError):
        event.save()
    event.refresh_from_db()
    assert event.amount == Decimal("0.005")
    # purge removes rows with queryset deletes, which stay possible.
    CreditEvent.objects.filter(pk=event.pk).delete()
    assert not CreditEvent.objects.exists()


def test_one_event_of_each_kind_per_generation(
    make_generation: Callable[..., Generation],
) -> None:
    generation = make_generation()
    CreditEvent.objects.create(kind=CreditEventKind.CHARGE, amount=1, generation=generation)
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditEvent.objects.create(kind=CreditEventKind.CHARGE, amount=1, generation=generation)
    # Events without a generation are not limited by it, only by their dedupe key.
    CreditEvent.objects.create(kind=CreditEventKind.LOW_BALANCE, amount=0, dedupe_key="a")
    CreditEvent.objects.create(kind=CreditEventKind.LOW_BALANCE, amount=0, dedupe_key="b")
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditEvent.objects.create(kind=CreditEventKind.LOW_BALANCE, amount=0, dedupe_key="a")


def test_unknown_credit_kind_is_refused() -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditEvent.objects.create(kind="gift", amount=1)


def test_generation_with_ledger_rows_is_protected(
    make_generation: Callable[..., Generation],
) -> None:
    generation = make_generation()
    CreditEvent.objects.create(kind=CreditEventKind.RESERVE, amount=1, generation=generation)
    with pytest.raises(ProtectedError):
        generation.delete()
    CreditEvent.objects.filter(generation=generation).delete()
    generation.delete()


def test_delivery_defaults_and_str() -> None:
    delivery_id = uuid.UUID("6d1a8e35-c2f7-4b90-a4e6-3f9b0d5c1a27")
    delivery = WebhookDelivery.objects.create(
        delivery_id=delivery_id, event_type="generation.completed", body="{}"
    )
    assert delivery.state == DeliveryState.RECEIVED
    assert delivery.attempts == 1
    assert delivery.received_at is not None
    assert str(delivery) == "generation.completed 6d1a8e35 (received)"
    with pytest.raises(IntegrityError), transaction.atomic():
        WebhookDelivery.objects.create(delivery_id=delivery_id, event_type="x", body="{}")
