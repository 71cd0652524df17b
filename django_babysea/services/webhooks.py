"""Storing and processing verified webhook deliveries.

The webhook view calls :func:`receive_delivery`: the delivery is inserted and applied in one
transaction (``INSERT ... ON CONFLICT (delivery_id) DO UPDATE ... RETURNING``, so a repeat is
counted and recognised by that one statement). When processing fails, everything it changed
rolls back and the delivery is stored again, on its own, marked ``failed`` with the error;
BabySea's retry (or a replay) processes it again. A delivery whose payload can never be applied
(see :mod:`.payloads`) is not applied at all: it is stored as ``invalid`` with the reason and
stays until a replay after a fix. Deliveries for a generation whose id is not known yet (the
webhook beat the create response) wait as ``deferred`` until :func:`attach_generation_id`
records the id.

Call these functions outside a transaction (the webhook view is ``non_atomic_requests``): the
guarantees above depend on each step committing on its own.
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass
from datetime import datetime
from typing import Final
from uuid import UUID

from django.db import InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from django_babysea.models import DeliveryState, Generation, WebhookDelivery

from . import dispatch, statements
from .events import apply_event, remote_generation_id
from .ledger import record_low_balance
from .payloads import GENERATION_EVENTS, LOW_BALANCE_EVENT, TEST_EVENT, decode_body, payload_problem

__all__ = [
    "GENERATION_EVENTS",
    "TRANSIENT_ERRORS",
    "DeliveryNotStoredError",
    "attach_generation_id",
    "is_transient",
    "process_deferred",
    "process_delivery",
    "process_delivery_by_pk",
    "receive_delivery",
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


class DeliveryNotStoredError(Exception):
    """Nothing of a delivery could be stored (the cause is chained): only a retry by BabySea
    can still bring it, so the sender must be answered with a 5xx."""


@dataclass(frozen=True, slots=True)
class Incoming:
    """A verified delivery as received."""

    delivery_id: UUID
    event_type: str
    body: str
    generation_id: UUID | None = None
    signature_timestamp: datetime | None = None


def store_delivery(
    *,
    delivery_id: UUID,
    event_type: str,
    body: str,
    generation_id: UUID | None = None,
    signature_timestamp: datetime | None = None,
) -> WebhookDelivery:
    """Store a verified delivery, or count one more attempt of a known one (one statement).

    The first body is kept: BabySea resends a delivery with the same body and delivery id.
    """
    incoming = Incoming(delivery_id, event_type, body, generation_id, signature_timestamp)
    return _upsert(incoming, DeliveryState.RECEIVED)


def receive_delivery(
    *,
    delivery_id: UUID,
    event_type: str,
    body: str,
    generation_id: UUID | None = None,
    signature_timestamp: datetime | None = None,
) -> WebhookDelivery:
    """Store a verified delivery and apply it, in one transaction; return the stored row.

    A repeat of a delivery already ``processed`` or ``ignored`` is counted and returned as it
    is. Raises :class:`DeliveryNotStoredError` when nothing could be stored. Any other
    exception is a processing failure: what the delivery changed is rolled back, the delivery
    is stored as ``failed`` with the error, and the exception is re-raised
    (:func:`is_transient` tells whether a retry may succeed).
    """
    incoming = Incoming(delivery_id, event_type, body, generation_id, signature_timestamp)
    try:
        verdict = _verdict(event_type, body)
    except Exception:
        verdict = None  # raised again inside the transaction, where it fails the delivery
    # A new delivery is inserted in the state it will most likely end in (nobody sees it
    # before the commit), so applying it usually needs no second write to the row.
    state, error = verdict or (DeliveryState.PROCESSED, "")
    upserted = False  # the row was written in this transaction (lost again on a rollback)
    try:
        with transaction.atomic():
            delivery = _upsert(incoming, state, error=error)
            upserted = True
            new = delivery.attempts == 1
            if new and state == DeliveryState.IGNORED:
                logger.info("Ignoring webhook event %r (delivery %s).", event_type, delivery_id)
            if not (new and verdict) and (new or delivery.state not in FINAL_STATES):
                _apply(delivery)
    except Exception as exc:
        if not upserted:
            raise DeliveryNotStoredError(f"Delivery {delivery_id} could not be stored.") from exc
        _keep_failed(incoming, exc)
        raise
    return _settled(delivery)


def _keep_failed(incoming: Incoming, exc: BaseException) -> None:
    """Store ``incoming`` as failed with ``exc``, after its processing was rolled back."""
    try:
        with transaction.atomic():
            _upsert(incoming, DeliveryState.FAILED, error=_describe(exc), failed=True)
    except Exception as store_exc:
        raise DeliveryNotStoredError(
            f"Delivery {incoming.delivery_id} failed and could not be stored."
        ) from store_exc


def _upsert(
    incoming: Incoming, state: DeliveryState, *, error: str = "", failed: bool = False
) -> WebhookDelivery:
    """Insert ``incoming`` in ``state``, or count one more attempt of the stored delivery; the
    row as stored, locked until the transaction ends (one statement).

    A new row has ``attempts == 1``. A repeat keeps its first body and state, unless ``failed``
    marks one that is not finished yet as failed with ``error``.
    """
    row = WebhookDelivery(
        delivery_id=incoming.delivery_id,
        event_type=incoming.event_type,
        body=incoming.body,
        generation_id=incoming.generation_id,
        signature_timestamp=incoming.signature_timestamp,
        state=state,
        error=error,
        processed_at=timezone.now() if state in FINAL_STATES else None,
    )
    meta = WebhookDelivery._meta
    columns = [field for field in meta.concrete_fields if field is not meta.pk]
    params = [field.get_db_prep_save(field.pre_save(row, True), connection) for field in columns]
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    names = ", ".join(quote(str(field.column)) for field in columns)
    marks = ", ".join(["%s"] * len(columns))
    returned = ", ".join(quote(str(field.column)) for field in meta.concrete_fields)
    attempts, signed = quote("attempts"), quote("signature_timestamp")
    # The existing row's columns are qualified: PostgreSQL finds a bare name ambiguous.
    updates = [f"{attempts} = {table}.{attempts} + 1", f"{signed} = EXCLUDED.{signed}"]
    if failed:
        finished = f"{table}.{quote('state')} IN (%s, %s)"
        params += [*FINAL_STATES, *FINAL_STATES]
        updates += [
            f"{quote(name)} = CASE WHEN {finished} THEN {table}.{quote(name)} "
            f"ELSE EXCLUDED.{quote(name)} END"
            for name in ("state", "error")
        ]
    # Table and column names come from the model; every value is a parameter.
    sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608
    sql += f" ON CONFLICT ({quote('delivery_id')}) DO UPDATE SET {', '.join(updates)}"
    sql += f" RETURNING {returned}"
    # Rows as raw() makes them (the backend's converters), the column map kept per thread.
    [stored] = statements.raw_rows(f"delivery-upsert:{failed}", WebhookDelivery, sql, params)
    return stored


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
            _apply(delivery)
    except Exception as exc:
        # The atomic block is rolled back; this update runs on its own, so the committed row
        # keeps the failure for the admin and for babysea_replay_webhooks.
        WebhookDelivery.objects.filter(pk=pk).update(
            state=DeliveryState.FAILED, error=_describe(exc)
        )
        raise
    _log_invalid(delivery)
    return delivery


def _settled(delivery: WebhookDelivery) -> WebhookDelivery:
    """After the commit: a deferred delivery whose generation became known meanwhile is
    processed now (see :func:`process_delivery`)."""
    if delivery.state == DeliveryState.DEFERRED and _generation_known(delivery):
        return _process_once(delivery.pk)
    _log_invalid(delivery)
    return delivery


def _log_invalid(delivery: WebhookDelivery) -> None:
    if delivery.state == DeliveryState.INVALID:
        logger.error(
            "Webhook delivery %s (%s) can never be applied as sent; stored as invalid: %s",
            delivery.delivery_id,
            delivery.event_type,
            delivery.error,
        )


def _apply(delivery: WebhookDelivery) -> None:
    """Apply the locked ``delivery`` and record its new state; the row is written only when
    that state differs from the stored one."""
    state, error = _dispatch(delivery)
    processed_at = delivery.processed_at
    if state in FINAL_STATES:
        processed_at = processed_at or timezone.now()
    elif state != delivery.state:
        processed_at = None
    if (state, error, processed_at) == (delivery.state, delivery.error, delivery.processed_at):
        return
    delivery.state, delivery.error, delivery.processed_at = state, error, processed_at
    delivery.save(update_fields=["state", "error", "processed_at"])


def _verdict(event: str, body: str) -> tuple[DeliveryState, str] | None:
    """The final state and error of a delivery that is not applied to anything (a test event,
    an event this version ignores, a payload that can never be applied); None when it must be
    applied."""
    if event == TEST_EVENT:
        # The dashboard's "Send test event": nothing to apply, it only proves the endpoint works.
        return DeliveryState.PROCESSED, ""
    if event not in GENERATION_EVENTS and event != LOW_BALANCE_EVENT:
        return DeliveryState.IGNORED, ""
    payload = decode_body(body)
    if not isinstance(payload, dict):
        raise ValueError("The delivery is not a JSON object.")
    data = payload.get("webhook_data")
    problem = payload_problem(event, data)
    if problem is not None or not isinstance(data, dict):
        return DeliveryState.INVALID, problem or "webhook_data is not a JSON object."
    return None


def _dispatch(delivery: WebhookDelivery) -> tuple[DeliveryState, str]:
    """The new state of ``delivery`` and its error text, after applying it when it can be."""
    event = delivery.event_type
    verdict = _verdict(event, delivery.body)
    if verdict is not None:
        if verdict[0] == DeliveryState.IGNORED:
            logger.info("Ignoring webhook event %r (delivery %s).", event, delivery.delivery_id)
        return verdict
    data = decode_body(delivery.body)["webhook_data"]
    if event == LOW_BALANCE_EVENT:
        record_low_balance(data, delivery_id=delivery.delivery_id)
        return DeliveryState.PROCESSED, ""
    applied = apply_event(data, source=f"webhook:{delivery.delivery_id}")
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
