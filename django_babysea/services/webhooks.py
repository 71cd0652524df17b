"""Storing and processing verified webhook deliveries.

A delivery is stored (committed) before it is processed, and processed in an atomic block of
its own: when processing fails, its changes roll back but the row stays, marked ``failed`` with
the error, and BabySea's retry (or a replay) processes it again. Deliveries for a generation whose
id is not known yet (the webhook beat the create response) wait as ``deferred`` until
:func:`attach_generation_id` records the id.

Call these functions outside a transaction (the webhook view is ``non_atomic_requests``): the
guarantees above depend on each step committing on its own.
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final
from uuid import UUID

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from django_babysea.models import DeliveryState, Generation, WebhookDelivery

from . import dispatch
from .events import apply_event, remote_generation_id
from .ledger import record_low_balance

__all__ = [
    "GENERATION_EVENTS",
    "attach_generation_id",
    "process_deferred",
    "process_delivery",
    "process_delivery_by_pk",
    "store_delivery",
]

logger = logging.getLogger(__name__)

GENERATION_EVENTS: Final = frozenset(
    {"generation.started", "generation.completed", "generation.failed", "generation.canceled"}
)
LOW_BALANCE_EVENT: Final = "credits.low_balance"
TEST_EVENT: Final = "webhook.test"
#: States in which a delivery is done with: a repeat is acknowledged without re-applying it.
FINAL_STATES: Final = frozenset({DeliveryState.PROCESSED, DeliveryState.IGNORED})
MAX_ERROR_LENGTH: Final = 8000


def store_delivery(
    *,
    delivery_id: UUID,
    event_type: str,
    body: str,
    generation_id: UUID | None = None,
    signature_timestamp: datetime | None = None,
) -> WebhookDelivery:
    """Store a verified delivery, or count one more attempt of a known one.

    The first body is kept: BabySea resends a delivery with the same body and delivery id.
    """
    with transaction.atomic():
        # get_or_create inserts in a savepoint and falls back to a get on IntegrityError, so
        # concurrent copies of one delivery end up on the same row.
        delivery, created = WebhookDelivery.objects.get_or_create(
            delivery_id=delivery_id,
            defaults={
                "event_type": event_type,
                "body": body,
                "generation_id": generation_id,
                "signature_timestamp": signature_timestamp,
            },
        )
        if not created:
            # F() makes the increment atomic in the database: no lost counts under concurrency.
            WebhookDelivery.objects.filter(pk=delivery.pk).update(
                attempts=F("attempts") + 1, signature_timestamp=signature_timestamp
            )
            delivery.refresh_from_db()
    return delivery


def process_delivery(delivery: WebhookDelivery) -> WebhookDelivery:
    """Apply a stored delivery once; return the row with its new state.

    A delivery already ``processed`` or ``ignored`` is returned untouched. An exception rolls
    back everything the delivery changed, is saved on the row (state ``failed``) and re-raised.
    """
    processed = _process_once(delivery.pk)
    if processed.state == DeliveryState.DEFERRED and _generation_known(processed):
        # attach_generation_id may have committed the id after our lookup and listed the
        # deferred deliveries before our commit; now that ours is committed, look again.
        processed = _process_once(delivery.pk)
    return processed


def process_delivery_by_pk(pk: int) -> WebhookDelivery:
    """:func:`process_delivery` for a queued job, which carries only the primary key."""
    return process_delivery(WebhookDelivery.objects.get(pk=pk))


dispatch.register("process_delivery", f"{__name__}.process_delivery_by_pk")


def _process_once(pk: int) -> WebhookDelivery:
    try:
        with transaction.atomic():
            # Locking the delivery row makes concurrent copies of one delivery wait here; the
            # ones that get the lock after the first see it processed and do nothing.
            delivery = WebhookDelivery.objects.select_for_update().get(pk=pk)
            if delivery.state in FINAL_STATES:
                return delivery
            delivery.state = _dispatch(delivery)
            delivery.error = ""
            if delivery.state in FINAL_STATES:
                delivery.processed_at = timezone.now()
            delivery.save(update_fields=["state", "error", "processed_at"])
            return delivery
    except Exception as exc:
        # The atomic block is rolled back; this update runs on its own, so the committed row
        # keeps the failure for the admin and for babysea_replay_webhooks.
        WebhookDelivery.objects.filter(pk=pk).update(
            state=DeliveryState.FAILED, error=_describe(exc)
        )
        raise


def _dispatch(delivery: WebhookDelivery) -> DeliveryState:
    source = f"webhook:{delivery.delivery_id}"
    if delivery.event_type in GENERATION_EVENTS:
        applied = apply_event(_webhook_data(delivery), source=source)
        return DeliveryState.DEFERRED if applied is None else DeliveryState.PROCESSED
    if delivery.event_type == LOW_BALANCE_EVENT:
        record_low_balance(_webhook_data(delivery), delivery_id=delivery.delivery_id)
        return DeliveryState.PROCESSED
    if delivery.event_type == TEST_EVENT:
        # The dashboard's "Send test event": nothing to apply, it only proves the endpoint works.
        return DeliveryState.PROCESSED
    logger.info("Ignoring webhook event %r (delivery %s).", delivery.event_type, delivery.pk)
    return DeliveryState.IGNORED


def _webhook_data(delivery: WebhookDelivery) -> Mapping[str, Any]:
    payload = json.loads(delivery.body)
    data = payload.get("webhook_data") if isinstance(payload, dict) else None
    if not isinstance(data, dict):
        raise ValueError(f"Delivery {delivery.delivery_id} has no webhook_data object.")
    return data


def _generation_known(delivery: WebhookDelivery) -> bool:
    return (
        delivery.generation_id is not None
        and Generation.objects.filter(generation_id=delivery.generation_id).exists()
    )


def _describe(exc: BaseException) -> str:
    text = "".join(traceback.format_exception(exc))
    return text[-MAX_ERROR_LENGTH:]


def process_deferred(generation_id: UUID) -> list[WebhookDelivery]:
    """Process the deliveries waiting for ``generation_id``, in the order they were received.

    A delivery whose processing fails is left ``failed`` (with its error) and logged; the others
    are still processed.
    """
    waiting = WebhookDelivery.objects.filter(
        generation_id=generation_id, state=DeliveryState.DEFERRED
    ).order_by("received_at", "pk")
    done: list[WebhookDelivery] = []
    for delivery in waiting:
        try:
            done.append(process_delivery(delivery))
        except Exception:
            logger.exception("Deferred webhook delivery %s failed.", delivery.delivery_id)
    return done


def attach_generation_id(generation: Generation, generation_id: UUID | str) -> Generation:
    """Record BabySea's id for ``generation`` (from the create response), then apply the webhook
    deliveries that arrived before it, each exactly once.

    Call it outside a transaction, then apply the create response itself with
    ``apply_event(data, source="create")``; the order does not matter. Raises ``ValueError``
    when the generation already has a different id.
    """
    remote_id = remote_generation_id({"generation_id": generation_id})
    if remote_id is None:
        raise ValueError(f"{generation_id!r} is not a BabySea generation id.")
    with transaction.atomic():
        locked = Generation.objects.select_for_update().get(pk=generation.pk)
        if locked.generation_id is None:
            locked.generation_id = remote_id
            locked.save(update_fields=["generation_id", "updated_at"])
        elif locked.generation_id != remote_id:
            raise ValueError(
                f"Generation {locked.pk} already has BabySea id {locked.generation_id}."
            )
    # Only after the commit: a webhook that now looks the id up finds it, and one that
    # deferred just before is listed here (or re-checks and applies itself).
    process_deferred(remote_id)
    locked.refresh_from_db()
    return locked
