"""Poll, sync and purge."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import timezone

from django_babysea.client import BabySea
from django_babysea.models import (
    CreditEvent,
    CreditEventKind,
    DeliveryState,
    Generation,
    GenerationKind,
    WebhookDelivery,
)
from django_babysea.sandbox import Sandbox
from django_babysea.services import poll_generations, purge, submit_generation, sync_generations

from .conftest import MODEL, PROMPT

pytestmark = pytest.mark.django_db(transaction=True)


def test_poll_refreshes_non_terminal(sandbox: Sandbox) -> None:
    sandbox.auto_advance = False
    first = submit_generation(MODEL, generation_prompt=PROMPT)
    second = submit_generation(MODEL, generation_prompt="A walrus")
    submit_generation(MODEL, generation_prompt="A puffin")
    sandbox.advance(str(first.generation_id), to="succeeded")
    sandbox.advance(str(second.generation_id), to="processing")
    seen: list[tuple[int, int | None]] = []
    assert poll_generations(progress=lambda done, total: seen.append((done, total))) == 3
    assert seen == [(1, 3), (2, 3), (3, 3)]
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("succeeded", "processing")
    # Only the two still running are polled now; limit caps it.
    assert poll_generations(limit=1) == 1
    assert poll_generations() == 2


def test_sync_creates_rows_for_generations_made_elsewhere(
    sandbox: Sandbox, remote: BabySea
) -> None:
    sandbox.auto_advance = False
    mine = submit_generation(MODEL, generation_prompt=PROMPT)
    image = remote.generate(MODEL, generation_prompt="A sea otter", generation_ratio="16:9")
    video = remote.generate("google/veo-2", generation_prompt="Waves", generation_duration=5)
    sandbox.advance(image.generation_id, to="succeeded")
    sandbox.advance(str(mine.generation_id), to="processing")

    assert sync_generations() == (2, 1)
    assert Generation.objects.count() == 3
    synced = Generation.objects.get(generation_id=image.generation_id)
    assert synced.status == "succeeded"
    assert synced.kind == GenerationKind.IMAGE
    assert synced.prompt == "A sea otter"
    assert synced.request["generation_ratio"] == "16:9"
    assert "generation_status" not in synced.request
    assert synced.output_urls
    assert sorted(CreditEvent.objects.filter(generation=synced).values_list("kind", flat=True)) == [
        CreditEventKind.CHARGE,
        CreditEventKind.RESERVE,
    ]
    assert Generation.objects.get(generation_id=video.generation_id).kind == GenerationKind.VIDEO
    mine.refresh_from_db()
    assert mine.status == "processing"

    # Nothing new, nothing changed.
    assert sync_generations() == (0, 0)
    sandbox.advance(video.generation_id, to="failed")
    assert sync_generations() == (0, 1)
    assert Generation.objects.count() == 3


def test_sync_pages_through_everything(sandbox: Sandbox, remote: BabySea) -> None:
    # Finished one by one: the plan's cap on in-flight generations never depends on how fast
    # the sandbox's own scheduler runs on a busy machine.
    sandbox.auto_advance = False
    for index in range(103):
        created = remote.generate(MODEL, generation_prompt=f"Seal {index}")
        sandbox.advance(created.generation_id, to="succeeded")
    seen: list[int | None] = []
    assert sync_generations(progress=lambda done, total: seen.append(total)) == (103, 0)
    assert len(seen) == 103
    assert set(seen) == {103}
    assert Generation.objects.count() == 103


def _delivery(state: str, age: timedelta) -> WebhookDelivery:
    delivery = WebhookDelivery.objects.create(
        delivery_id=uuid.uuid4(), event_type="generation.completed", body="{}", state=state
    )
    WebhookDelivery.objects.filter(pk=delivery.pk).update(received_at=timezone.now() - age)
    return delivery


def _ledger(age: timedelta) -> CreditEvent:
    event = CreditEvent.objects.create(
        kind=CreditEventKind.LOW_BALANCE, amount=Decimal(0), source="webhook:x"
    )
    CreditEvent.objects.filter(pk=event.pk).update(created_at=timezone.now() - age)
    return event


def test_purge_in_batches_keeps_failed_and_unprocessed() -> None:
    old, young = timedelta(days=31), timedelta(days=29)
    for _ in range(5):
        _delivery(DeliveryState.PROCESSED, old)
    _delivery(DeliveryState.IGNORED, old)
    # Deferred for a generation this site does not have: purged like a processed one.
    _delivery(DeliveryState.DEFERRED, old)
    kept = [
        _delivery(DeliveryState.FAILED, old),
        _delivery(DeliveryState.INVALID, old),
        _delivery(DeliveryState.RECEIVED, old),
        _delivery(DeliveryState.PROCESSED, young),
    ]
    for _ in range(3):
        _ledger(timedelta(days=366))
    recent = _ledger(timedelta(days=300))

    assert purge(batch_size=2, dry_run=True) == {
        "deliveries": 7,
        "credit_events": 3,
        "budget_reservations": 0,
        "budget_days": 0,
    }
    assert WebhookDelivery.objects.count() == 11
    assert purge(batch_size=2) == {
        "deliveries": 7,
        "credit_events": 3,
        "budget_reservations": 0,
        "budget_days": 0,
    }
    assert set(WebhookDelivery.objects.values_list("pk", flat=True)) == {d.pk for d in kept}
    assert list(CreditEvent.objects.values_list("pk", flat=True)) == [recent.pk]
    assert purge() == {
        "deliveries": 0,
        "credit_events": 0,
        "budget_reservations": 0,
        "budget_days": 0,
    }


def test_purge_follows_retention_settings() -> None:
    _delivery(DeliveryState.PROCESSED, timedelta(days=3))
    _ledger(timedelta(days=3))
    with override_settings(BABYSEA={"DELIVERY_RETENTION_DAYS": 2, "LEDGER_RETENTION_DAYS": 4}):
        assert purge() == {
            "deliveries": 1,
            "credit_events": 0,
            "budget_reservations": 0,
            "budget_days": 0,
        }
        later = timezone.now() + timedelta(days=2)
        assert purge(now=later) == {
            "deliveries": 0,
            "credit_events": 1,
            "budget_reservations": 0,
            "budget_days": 0,
        }


def test_purge_refuses_a_zero_batch() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        purge(batch_size=0)
