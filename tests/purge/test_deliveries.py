"""Which webhook deliveries ``purge`` deletes after ``DELIVERY_RETENTION_DAYS``, on a real
database."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from django_babysea.models import (
    DeliveryState,
    Generation,
    GenerationKind,
    WebhookDelivery,
)
from django_babysea.services import purge

pytestmark = pytest.mark.django_db(transaction=True)

OLD, YOUNG = timedelta(days=31), timedelta(days=29)


def delivery(state: str, age: timedelta, generation_id: uuid.UUID | None = None) -> int:
    row = WebhookDelivery.objects.create(
        delivery_id=uuid.uuid4(),
        event_type="generation.completed",
        generation_id=generation_id or uuid.uuid4(),
        body="{}",
        state=state,
    )
    WebhookDelivery.objects.filter(pk=row.pk).update(received_at=timezone.now() - age)
    return row.pk


def remaining() -> set[int]:
    return set(WebhookDelivery.objects.values_list("pk", flat=True))


def test_deferred_deliveries_for_unknown_generations_are_purged_after_the_retention() -> None:
    # A local generation not sent yet (no id) must not shield the strangers' deliveries.
    Generation.objects.create(kind=GenerationKind.IMAGE, model_identifier="bfl/flux-schnell")
    stranger = delivery(DeliveryState.DEFERRED, OLD)
    anonymous = delivery(DeliveryState.DEFERRED, OLD)
    WebhookDelivery.objects.filter(pk=anonymous).update(generation_id=None)
    waiting = delivery(DeliveryState.DEFERRED, YOUNG)

    assert purge(dry_run=True)["deliveries"] == 2
    assert purge()["deliveries"] == 2
    assert stranger not in remaining()
    assert anonymous not in remaining()
    assert remaining() == {waiting}


def test_a_deferred_delivery_of_a_generation_this_site_has_is_kept() -> None:
    # Applied as soon as the create response names the generation: still deferred with the
    # generation known means something went wrong, and someone should look at it.
    generation = Generation.objects.create(
        kind=GenerationKind.IMAGE, model_identifier="bfl/flux-schnell", generation_id=uuid.uuid4()
    )
    kept = delivery(DeliveryState.DEFERRED, OLD, generation.generation_id)
    assert purge()["deliveries"] == 0
    assert remaining() == {kept}


def test_the_other_states_keep_their_rule() -> None:
    purged = [
        delivery(DeliveryState.PROCESSED, OLD),
        delivery(DeliveryState.IGNORED, OLD),
        delivery(DeliveryState.DEFERRED, OLD),
    ]
    kept = {
        delivery(DeliveryState.FAILED, OLD),
        delivery(DeliveryState.INVALID, OLD),
        delivery(DeliveryState.RECEIVED, OLD),
        delivery(DeliveryState.PROCESSED, YOUNG),
        delivery(DeliveryState.DEFERRED, YOUNG),
    }
    assert purge(batch_size=2)["deliveries"] == len(purged)
    assert remaining() == kept


@override_settings(BABYSEA={"DELIVERY_RETENTION_DAYS": 2})
def test_deferred_deliveries_follow_the_retention_setting() -> None:
    gone = delivery(DeliveryState.DEFERRED, timedelta(days=3))
    kept = delivery(DeliveryState.DEFERRED, timedelta(days=1))
    assert purge()["deliveries"] == 1
    assert remaining() == {kept}
    assert gone not in remaining()
