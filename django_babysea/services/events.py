"""Apply what BabySea says about a generation: the one monotonic state machine.

Every source of remote state goes through :func:`apply_event`: the create response, a poll of
``GET /v1/content/{id}``, the ``webhook_data`` of a generation webhook and an item of a list sync.
Deliveries arrive at least once and in any order, so applying is idempotent and never goes
backwards: ``created < pending < processing < {succeeded, failed, canceled}``, terminal is final.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final
from uuid import UUID

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from django_babysea.models import CreditEventKind, Generation, GenerationStatus
from django_babysea.signals import (
    generation_canceled,
    generation_failed,
    generation_status_changed,
    generation_submitted,
    generation_succeeded,
    send_on_commit,
)

from . import ledger, outputs, statements

__all__ = [
    "advance",
    "announce",
    "apply_event",
    "apply_locked",
    "locked_generation",
    "locked_generations",
    "locked_sent_generations",
    "remote_generation_id",
    "reported_status",
]

logger = logging.getLogger(__name__)

Converter = Callable[[object], Any]


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _text_list(value: object) -> list[str] | None:
    if isinstance(value, list) and value and all(isinstance(item, str) for item in value):
        return list(value)
    return None


def _moment(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = parse_datetime(value)
    except ValueError:
        return None
    if parsed is not None and timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


# Remote key -> (model field, converter). Neutral fields hold whatever the status: a record
# that is behind the local status may still fill them in when they are empty.
NEUTRAL_FIELDS: Final[Mapping[str, tuple[str, Converter]]] = {
    "model_identifier": ("model_identifier", _text),
    "generation_prompt": ("prompt", _text),
    "generation_provider_order": ("provider_order", _text_list),
    "generation_provider_used": ("provider_used", _text),
    "generation_prediction_id": ("prediction_id", _text),
    "generation_created_at": ("remote_created_at", _moment),
    "generation_started_at": ("started_at", _moment),
}
# Fields that belong to one outcome: taken only from a record reporting the local status, so a
# late success after a cancel never brings outputs, and a late failure never brings an error.
OUTCOME_FIELDS: Final[Mapping[str, tuple[str, Converter]]] = {
    "generation_output_file": ("output_urls", _text_list),
    "generation_completed_at": ("completed_at", _moment),
    "generation_error": ("error_message", _text),
    "generation_error_code": ("error_code", _text),
}
SAVED_FIELDS: Final = [
    *(field for field, _ in NEUTRAL_FIELDS.values()),
    *(field for field, _ in OUTCOME_FIELDS.values()),
    "status",
    "removed",
    "remote",
    "cost_charged",
    "updated_at",
]


def remote_generation_id(remote: Mapping[str, Any]) -> UUID | None:
    """BabySea's generation id in a remote record, or None when missing or malformed."""
    try:
        return UUID(str(remote["generation_id"]))
    except (KeyError, ValueError):
        return None


def reported_status(remote: Mapping[str, Any]) -> GenerationStatus | None:
    """The status a remote record reports; None for a status this version does not know.

    A create response states no status (``generation_initialized: true``): it means pending.
    """
    value = remote.get("generation_status")
    if value is None:
        return GenerationStatus.PENDING
    if value == GenerationStatus.CREATED or value not in GenerationStatus.values:
        logger.warning("Unknown generation_status %r; only filling in empty fields.", value)
        return None
    return GenerationStatus(value)


def apply_event(remote: Mapping[str, Any], *, source: str) -> Generation | None:
    """Apply one remote record (a JSON object as BabySea sent it) to its local
    :class:`Generation` and return it.

    ``source`` says where the record came from (``"create"``, ``"poll"``, ``"sync"``,
    ``"webhook:<delivery id>"``) and is stored on ledger rows and passed to signals. Returns
    None when no local generation has this ``generation_id`` yet; raises ``ValueError`` when
    the record has no valid ``generation_id``. Signals are sent after the transaction commits.

    Inside a caller's transaction no savepoint is taken: when this raises, the caller's
    transaction must be rolled back (let the exception leave its ``atomic`` block).
    """
    generation_id = remote_generation_id(remote)
    if generation_id is None:
        raise ValueError("The remote record has no valid generation_id.")
    with transaction.atomic(savepoint=False):
        generation = locked_generation(generation_id=generation_id)
        if generation is None:
            return None
        try:
            apply_locked(generation, remote, source=source)
        finally:
            ledger.forget_ledger(generation)
    return generation


def locked_generation(**lookup: Any) -> Generation | None:
    """The generation matching ``lookup``, row-locked, with what the ledger holds for it (one
    statement). Call it inside a transaction, then :func:`apply_locked`."""
    if set(lookup) == {"generation_id"}:  # unique: the hot path of every webhook and poll
        found = statements.rows("locked-by-remote-id", Generation, _by_remote_id, **lookup)
        if found is not None:
            return found[0] if found else None
    locked = Generation.objects.select_for_update().filter(**lookup)
    return ledger.with_ledger(locked).first()


def locked_generations(condition: Q) -> list[Generation]:
    """:func:`locked_generation` for every row matching ``condition``."""
    return list(ledger.with_ledger(Generation.objects.select_for_update().filter(condition)))


def locked_sent_generations(pk: UUID | str, generation_id: UUID) -> list[Generation]:
    """:func:`locked_generations` of our row ``pk`` and of any row already holding BabySea's
    ``generation_id`` (one a sync inserted): what applying a create response locks."""
    found = statements.rows("locked-sent", Generation, _sent, pk=pk, generation_id=generation_id)
    if found is not None:
        return found
    return locked_generations(Q(pk=pk) | Q(generation_id=generation_id))


def _by_remote_id(generation_id: UUID) -> QuerySet[Generation]:
    return ledger.with_ledger(
        Generation.objects.select_for_update().filter(generation_id=generation_id).order_by()
    )


def _sent(pk: UUID, generation_id: UUID) -> QuerySet[Generation]:
    condition = Q(pk=pk) | Q(generation_id=generation_id)
    return ledger.with_ledger(Generation.objects.select_for_update().filter(condition).order_by())


def apply_locked(
    generation: Generation,
    remote: Mapping[str, Any],
    *,
    source: str,
    also_save: Iterable[str] = (),
) -> Generation:
    """:func:`apply_event` on a row the caller locked with :func:`locked_generation`, in the
    caller's transaction. ``also_save`` names fields the caller changed on the row, saved in
    the same ``UPDATE``."""
    # The row lock serializes every source for one generation (two webhook deliveries, a
    # poll, the create response), so the status comparison and the ledger checks below
    # always see the latest committed row.
    old, new, current = advance(generation, remote)
    _record_credits(generation, remote, current=current, source=source)
    generation.save(update_fields=[*SAVED_FIELDS, *also_save])
    outputs.record_outputs(generation)
    if new != old:
        announce(generation, old, new, source)
    return generation


def advance(
    generation: Generation, remote: Mapping[str, Any]
) -> tuple[GenerationStatus, GenerationStatus, bool]:
    """Move ``generation`` (in memory, nothing saved) as the record ``remote`` says: the
    status only forwards, fields merged, transition times stamped. Returns the old and new
    status, and whether the record reports the current one (its outcome fields then win)."""
    old = GenerationStatus(generation.status)
    reported = reported_status(remote)
    # A record with our generation_id means BabySea accepted it: at least pending.
    new = old.advance(reported or GenerationStatus.PENDING)
    current = reported == new
    _merge_fields(generation, remote, current=current)
    _stamp_transition(generation, old, new)
    generation.status = new
    return old, new, current


def _merge_fields(generation: Generation, remote: Mapping[str, Any], *, current: bool) -> None:
    """Copy remote values: overwrite when the record reports the current status, else only
    fill empty fields. A missing or null remote value never erases local data."""
    for key, (field, convert) in NEUTRAL_FIELDS.items():
        value = convert(remote.get(key))
        if value is not None and (current or not getattr(generation, field)):
            setattr(generation, field, _fit(field, value))
    if current:
        for key, (field, convert) in OUTCOME_FIELDS.items():
            value = convert(remote.get(key))
            if value is not None:
                setattr(generation, field, _fit(field, value))
        # Removal (delete or retention) is irreversible at BabySea: never unset locally.
        if remote.get("generation_removed") is True:
            generation.removed = True
    incoming = dict(remote)
    generation.remote = (
        {**generation.remote, **incoming} if current else {**incoming, **generation.remote}
    )


def _fit(field: str, value: Any) -> Any:
    max_length = getattr(Generation._meta.get_field(field), "max_length", None)
    if isinstance(value, str) and max_length:
        return value[:max_length]
    return value


def _stamp_transition(generation: Generation, old: GenerationStatus, new: GenerationStatus) -> None:
    """Webhooks carry no timestamps: note when we learned of a transition, until a poll
    reports BabySea's own times (which then overwrite these)."""
    if new == old:
        return
    now = timezone.now()
    if new == GenerationStatus.PROCESSING and generation.started_at is None:
        generation.started_at = now
    if new.is_terminal and generation.completed_at is None:
        generation.completed_at = now


def _record_credits(
    generation: Generation, remote: Mapping[str, Any], *, current: bool, source: str
) -> None:
    ledger.record_reserve(generation, source=source)
    status = GenerationStatus(generation.status)
    if not (status.is_terminal and current):
        return
    settlement = ledger.settlement_for(status, remote)
    if settlement is None:
        return
    kind, details = settlement
    event = ledger.record_settlement(generation, kind, source=source, details=details)
    if event is not None:
        generation.cost_charged = event.amount if kind == CreditEventKind.CHARGE else Decimal(0)


def announce(
    generation: Generation, old: GenerationStatus, new: GenerationStatus, source: str
) -> None:
    if old == GenerationStatus.CREATED:
        send_on_commit(generation_submitted, Generation, generation=generation, source=source)
    send_on_commit(
        generation_status_changed,
        Generation,
        generation=generation,
        old_status=old,
        new_status=new,
        source=source,
    )
    if new == GenerationStatus.SUCCEEDED:
        send_on_commit(generation_succeeded, Generation, generation=generation, source=source)
    elif new == GenerationStatus.FAILED:
        send_on_commit(
            generation_failed,
            Generation,
            generation=generation,
            source=source,
            error_code=generation.error_code,
            error_message=generation.error_message,
        )
    elif new == GenerationStatus.CANCELED:
        send_on_commit(generation_canceled, Generation, generation=generation, source=source)
