"""Storing and processing verified webhook deliveries.

A delivery is stored (committed) before it is processed, and processed in an atomic block of
its own: when processing fails, its changes roll back but the row stays, marked ``failed`` with
the error, and BabySea's retry (or a replay) processes it again. A delivery whose payload can
never be applied (see :mod:`.payloads`) is not applied at all: it is marked ``invalid`` with the
reason and stays until a replay after a fix. Deliveries for a generation whose
id is not known yet (the webhook beat the create response) wait as ``deferred`` until
:func:`attach_generation_id` records the id.

Call these functions outside a transaction (the webhook view is ``non_atomic_requests``): the
guarantees above depend on each step committing on its own.
"""

from __future__ import annotations

import logging
import traceback
from datetime import datetime
from typing import Final
from uuid import UUID

from django.db import InterfaceError, OperationalError, transaction
from django.db.models import F
from django.utils import timezone

from django_babysea.models import DeliveryState, Generation, WebhookDelivery

from . import dispatch
from .events import apply_event, remote_generation_id
from .ledger import record_low_balance
from .payloads import GENERATION_EVENTS, LOW_BALANCE_EVENT, TEST_EVENT, decode_body, payload_problem

__all__ = [
    "GENERATION_EVENTS",
    "TRANSIENT_ERRORS",
    "attach_generation_id",
    "is_transient",
    "process_deferred",
    "process_delivery",
    "process_delivery_by_pk",
    "store_delivery",
]

logger = logging.getLogger(__name__)

#: States in which a delivery is done with: a repeat is acknowledged without re-applying it.
FINAL_STATES: Final = frozenset({DeliveryState.PROCESSED, DeliveryState.IGNORED})
MAX_ERROR_LENGTH: Final = 8000
#: Faults of our own that a later attempt can get past (database down, locked, lock timeout):
#: the only ones for which BabySea should retry a delivery.
TRANSIENT_ERRORS: Final = (OperationalError, InterfaceError)


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` (or the error it was raised from) is a :data:`TRANSIENT_ERRORS`."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, TRANSIENT_ERRORS):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


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

    A delivery already ``processed`` or ``ignored`` is returned untouched. One whose payload can
    never be applied is left unapplied, in state ``invalid`` with the reason in ``error``. An
    exception rolls back everything the delivery changed, is saved on the row (state ``failed``)
    and re-raised; :func:`is_transient` tells whether a later attempt may succeed.
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
            delivery.state, delivery.error = _dispatch(delivery)
            if delivery.state in FINAL_STATES:
                delivery.processed_at = timezone.now()
            delivery.save(update_fields=["state", "error", "processed_at"])
    except Exception as exc:
        # The atomic block is rolled back; this update runs on its own, so the committed row
        # keeps the failure for the admin and for babysea_replay_webhooks.
        WebhookDelivery.objects.filter(pk=pk).update(
            state=DeliveryState.FAILED, error=_describe(exc)
        )
        raise
    if delivery.state == DeliveryState.INVALID:
        logger.error(
            "Webhook delivery %s (%s) can never be applied as sent; stored as invalid: %s",
            delivery.delivery_id,
            delivery.event_type,
            delivery.error,
        )
    return delivery


def _dispatch(delivery: WebhookDelivery) -> tuple[DeliveryState, str]:
    """The new state of ``delivery`` and its error text, after applying it when it can be."""
    event = delivery.event_type
    if event == TEST_EVENT:
        # The dashboard's "Send test event": nothing to apply, it only proves the endpoint works.
        return DeliveryState.PROCESSED, ""
    if event not in GENERATION_EVENTS and event != LOW_BALANCE_EVENT:
        logger.info("Ignoring webhook event %r (delivery %s).", event, delivery.pk)
        return DeliveryState.IGNORED, ""
    payload = decode_body(delivery.body)
    if not isinstance(payload, dict):
        raise ValueError(f"Delivery {delivery.delivery_id} is not a JSON object.")
    data = payload.get("webhook_data")
    problem = payload_problem(event, data)
    if problem is not None or not isinstance(data, dict):
        return DeliveryState.INVALID, problem or "webhook_data is not a JSON object."
    source = f"webhook:{delivery.delivery_id}"
    if event == LOW_BALANCE_EVENT:
        record_low_balance(data, delivery_id=delivery.delivery_id)
        return DeliveryState.PROCESSED, ""
    applied = apply_event(data, source=source)
    return (DeliveryState.DEFERRED if applied is None else DeliveryState.PROCESSED), ""


def _generation_known(delivery: WebhookDelivery) -> bool:
    return (
        delivery.generation_id is not None
        and Generation.objects.filter(generation_id=delivery.generation_id).exists()
    )


def _describe(exc: BaseException) -> str:
    text = "".join(traceback.format_exception(exc))[-MAX_ERROR_LENGTH:]
    # A message may quote the payload: keep the text storable (no NUL, no lone surrogate).
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


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
