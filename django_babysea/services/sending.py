"""Sending a stored generation to BabySea: claim the row, call BabySea, apply the answer.

No database transaction is open while BabySea is called:

1. **Claim**: a conditional ``UPDATE`` (committed on its own) takes a ``created`` row without a
   BabySea id whose claim is free or expired, bumps ``send_attempts`` (the attempt token) and
   stamps ``send_claimed_at``. A second worker finds the row claimed and leaves it alone; a
   worker that died mid-call stops blocking the row once the claim is older than
   :func:`claim_ttl`.
2. **Call** ``POST /v1/generate/...`` with the row's idempotency key, no lock held: a cancel or a
   webhook never waits for it, and a repeated call reaches the same remote generation.
3. **Apply** in a short transaction. A success is always applied (whoever's token: the key makes
   every answer name the same generation); a row a sync inserted meanwhile for the same id is
   folded in (:mod:`.merging`). A failure is recorded only while the token is still ours.

A cancel that arrives while the call is out marks the row ``canceled`` at once (see
:func:`~django_babysea.services.generations.cancel_generation`). When the answer then brings an
id, BabySea did accept the generation: the row takes the id, the create is applied (its
reservation is recorded) and the generation is canceled at BabySea, whose answer decides the
final status and settlement.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Final
from uuid import UUID

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from django_babysea.client import (
    APIError,
    BabySeaError,
    GenerationCreated,
    NetworkError,
    NotCancelableError,
    RequestTimeoutError,
    ResponseValidationError,
)
from django_babysea.conf import babysea_settings
from django_babysea.models import Generation, GenerationStatus
from django_babysea.signals import generation_failed, generation_status_changed, send_on_commit

from . import budget, dispatch
from .connection import get_client
from .events import apply_event, remote_generation_id
from .generations import refresh_generation
from .ledger import to_credits
from .merging import adopt_orphan
from .webhooks import process_deferred

__all__ = ["claim_ttl", "is_retryable", "send_generation", "unsent"]

logger = logging.getLogger("django_babysea.services.generations")

MAX_ERROR_MESSAGE: Final = 2000
#: Longest wait between two client retries without a Retry-After (the client's backoff cap).
_BACKOFF_CAP: Final = 30.0

dispatch.register("send_generation", f"{__name__}.send_generation")


def is_retryable(exc: BaseException) -> bool:
    """True for failures where sending again with the same idempotency key may succeed:
    network errors, timeouts, garbled answers and API errors BabySea marks retryable."""
    if isinstance(exc, NetworkError | RequestTimeoutError | ResponseValidationError):
        return True
    return isinstance(exc, APIError) and exc.retryable


def claim_ttl() -> timedelta:
    """How long a send claim holds: longer than the longest call the client can make (every
    attempt timing out, every wait at its cap), plus a minute."""
    attempts = babysea_settings.MAX_RETRIES + 1
    wait = max(babysea_settings.MAX_RETRY_AFTER, _BACKOFF_CAP)
    return timedelta(seconds=attempts * (babysea_settings.TIMEOUT + wait) + 60)


def unsent() -> Q:
    """Rows a send may claim now: ``created``, no BabySea id, claim free or expired."""
    expired = timezone.now() - claim_ttl()
    return Q(
        generation_id__isnull=True,
        status=GenerationStatus.CREATED,
    ) & (Q(send_claimed_at__isnull=True) | Q(send_claimed_at__lt=expired))


def send_generation(pk: UUID | str) -> Generation:
    """Send the generation ``pk`` to BabySea with its stored idempotency key.

    Idempotent: a row that already has BabySea's id is refreshed instead, a terminal row is
    returned as it is, a row another worker is sending is returned untouched. On success the
    create response is applied (``pending``) and webhooks that arrived first are processed. A
    retryable failure is recorded on the row, which stays ``created``, and re-raised; a
    rejection (e.g. BSE1004 insufficient credits) marks the row ``failed`` with BabySea's code
    and message and returns it.

    Call it outside a transaction: the claim must be committed before BabySea is called.
    """
    _estimate_cost(pk)
    claimed = _claim(pk)
    if claimed is None:
        generation = Generation.objects.get(pk=pk)
        if generation.generation_id is not None:
            return refresh_generation(generation)
        if not generation.is_terminal:
            logger.debug("Generation %s is being sent by another worker.", pk)
        return generation
    try:
        created = get_client().generate(
            claimed.model_identifier,
            idempotency_key=claimed.idempotency_key,
            **claimed.request,
        )
    except BabySeaError as exc:
        generation = _record_failure(claimed.pk, claimed.send_attempts, exc)
        if generation.is_terminal:
            return generation
        raise
    return _accept(claimed.pk, created)


def _claim(pk: UUID | str) -> Generation | None:
    """Take the row for one send attempt; the returned row's ``send_attempts`` is our token."""
    now = timezone.now()
    taken = Generation.objects.filter(unsent(), pk=pk).update(
        send_attempts=F("send_attempts") + 1, send_claimed_at=now, updated_at=now
    )
    return Generation.objects.get(pk=pk) if taken else None


def _accept(pk: UUID, created: GenerationCreated) -> Generation:
    remote_id = remote_generation_id({"generation_id": created.generation_id})
    if remote_id is None:  # the client validates it; belt and braces
        raise ResponseValidationError(
            "not a UUID", where="data.generation_id", request_id=created.request_id
        )
    try:
        cancel_wanted = _apply_answer(pk, remote_id, created)
    except IntegrityError:
        # A sync inserted a row for this id after we looked for one: now it is visible.
        cancel_wanted = _apply_answer(pk, remote_id, created)
    # Committed: deliveries that beat the response are applied now, each once.
    process_deferred(remote_id)
    generation = Generation.objects.get(pk=pk)
    if cancel_wanted:
        return _cancel_remote(generation)
    return generation


def _apply_answer(pk: UUID, remote_id: UUID, created: GenerationCreated) -> bool:
    """Record BabySea's id and apply the create response; True when the row had been canceled
    locally meanwhile (BabySea must now be told)."""
    with transaction.atomic():
        row = Generation.objects.select_for_update().get(pk=pk)
        cancel_wanted = row.status == GenerationStatus.CANCELED and row.generation_id is None
        orphan_record = None
        if row.generation_id is None:
            orphan = (
                Generation.objects.select_for_update()
                .filter(generation_id=remote_id)
                .exclude(pk=pk)
                .first()
            )
            if orphan is not None:
                logger.info("Generation %s adopts synced row %s.", pk, orphan.pk)
                orphan_record = orphan.remote
                adopt_orphan(row, orphan)
            if cancel_wanted:  # BabySea's word decides; the cancel is sent after the commit
                row.status = GenerationStatus.CREATED
                row.completed_at = None
            row.generation_id = remote_id
            row.error_code = row.error_message = ""
            row.send_claimed_at = None
            row.save()
        elif row.generation_id != remote_id:
            raise ValueError(f"Generation {pk} already has BabySea id {row.generation_id}.")
        if orphan_record:
            apply_event(orphan_record, source="sync")
        apply_event({"generation_status": "pending", **created.raw}, source="create")
    return cancel_wanted


def _cancel_remote(generation: Generation) -> Generation:
    """Cancel at BabySea a generation canceled locally while its create was on the way."""
    try:
        result = get_client().cancel_generation(str(generation.generation_id))
    except NotCancelableError:
        return refresh_generation(generation)
    applied = apply_event({"generation_status": "canceled", **result.raw}, source="cancel")
    return applied or generation


def _record_failure(pk: UUID, token: int, exc: BabySeaError) -> Generation:
    """Note why a send failed and free the claim, if the claim is still ours: retryable errors
    keep the row ``created``; a rejection fails it."""
    with transaction.atomic():
        row = Generation.objects.select_for_update().get(pk=pk)
        if row.send_attempts != token or row.generation_id is not None:
            return row  # another attempt took over; its outcome stands
        row.send_claimed_at = None
        fields = ["send_claimed_at", "updated_at"]
        if row.status == GenerationStatus.CREATED:
            row.error_code = (exc.code if isinstance(exc, APIError) else type(exc).__name__)[:32]
            row.error_message = (exc.message if isinstance(exc, APIError) else str(exc))[
                :MAX_ERROR_MESSAGE
            ]
            fields += ["error_code", "error_message"]
            # A rejection, or a request the client refused to send: sending again cannot help.
            if not is_retryable(exc):
                _fail(row)
                budget.release(row)
                fields += ["status", "completed_at"]
        row.save(update_fields=fields)
    return row


def _fail(row: Generation) -> None:
    row.status = GenerationStatus.FAILED
    row.completed_at = timezone.now()
    send_on_commit(
        generation_status_changed,
        Generation,
        generation=row,
        old_status=GenerationStatus.CREATED,
        new_status=GenerationStatus.FAILED,
        source="create",
    )
    send_on_commit(
        generation_failed,
        Generation,
        generation=row,
        source="create",
        error_code=row.error_code,
        error_message=row.error_message,
    )
    logger.debug("BabySea rejected generation %s (created -> failed): %s", row.pk, row.error_code)


def _estimate_cost(pk: UUID | str) -> None:
    """Fill in ``cost_reserved`` from BabySea's estimate, so the ledger's reserve has an amount.

    Best effort: without it the reserve is recorded with an unknown amount.
    """
    generation = Generation.objects.filter(unsent(), pk=pk, cost_reserved__isnull=True).first()
    if generation is None:
        return
    request = generation.request
    try:
        result = get_client().estimate(
            generation.model_identifier,
            count=_int_or_none(request.get("generation_output_number")),
            duration=_int_or_none(request.get("generation_duration")),
            resolution=request.get("generation_resolution"),
            audio=request.get("generation_generate_audio"),
        )
    except BabySeaError as exc:
        logger.debug("No estimate for generation %s: %s", generation.pk, exc)
        return
    cost = to_credits(result.cost_total_consumed)
    if cost is not None:
        Generation.objects.filter(pk=generation.pk, cost_reserved__isnull=True).update(
            cost_reserved=cost
        )


def _int_or_none(value: object) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return int(str(value))
    except ValueError:
        return None
