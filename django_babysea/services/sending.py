"""Sending a stored generation to BabySea: claim the row, call BabySea, apply the answer.

No database transaction is open while BabySea is called:

1. **Claim**: a conditional ``UPDATE`` (committed on its own) takes a ``created`` row without a
   BabySea id whose claim is free or expired, bumps ``send_attempts`` (the attempt token) and
   stamps ``send_claimed_at``. A second worker finds the row claimed and leaves it alone; a
   worker that died mid-call stops blocking the row once the claim is older than
   :func:`claim_ttl`. :func:`~django_babysea.services.generations.submit_generation` stores a
   new row already claimed (token 1) and passes the token: that first send only checks it.
2. **Call** ``POST /v1/generate/...`` with the row's idempotency key, no lock held: a cancel or a
   webhook never waits for it, and a repeated call reaches the same remote generation.
3. **Apply** in a short transaction: one locked read (the row, any row a sync inserted meanwhile
   for the same id, and what the ledger holds), one ``UPDATE`` and the reserve. A success is
   always applied (whoever's token: the key makes every answer name the same generation); a
   synced row is folded in (:mod:`.merging`). A failure is recorded only while the token is
   still ours.

The reserve's amount comes from the cached catalog's price
(:func:`~django_babysea.services.budget.cost_of`); BabySea's estimate is asked only when the
catalog cannot price the request.

A cancel that arrives while the call is out marks the row ``canceled`` at once (see
:func:`~django_babysea.services.generations.cancel_generation`). When the answer then brings an
id, BabySea did accept the generation: the row takes the id, the create is applied (its
reservation is recorded) and the generation is canceled at BabySea, whose answer decides the
final status and settlement.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal
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
from .events import apply_event, apply_locked, locked_sent_generations, remote_generation_id
from .generations import refresh_generation
from .ledger import forget_ledger
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


def send_generation(
    pk: UUID | str, claim: int | None = None, *, claimed: Generation | None = None
) -> Generation:
    """Send the generation ``pk`` to BabySea with its stored idempotency key.

    Idempotent: a row that already has BabySea's id is refreshed instead, a terminal row is
    returned as it is, a row another worker is sending is returned untouched. On success the
    create response is applied (``pending``) and webhooks that arrived first are processed. A
    retryable failure is recorded on the row, which stays ``created``, and re-raised; a
    rejection (e.g. BSE1004 insufficient credits) marks the row ``failed`` with BabySea's code
    and message and returns it.

    ``claim`` is the attempt token of a claim taken when the row was stored (see
    :func:`~django_babysea.services.generations.submit_generation`); when it is no longer the
    row's, the send claims the row as usual.

    ``claimed`` is that row as its caller committed it a moment ago in this thread (see
    :func:`~django_babysea.services.generations.submit`): trusted instead of read again.

    Call it outside a transaction: the claim must be committed before BabySea is called.
    """
    if claimed is None and claim is not None:
        claimed = _held(pk, claim)
    if claimed is None:
        claimed = _claim(pk)
    if claimed is None:
        generation = Generation.objects.get(pk=pk)
        if generation.generation_id is not None:
            return refresh_generation(generation)
        if not generation.is_terminal:
            logger.debug("Generation %s is being sent by another worker.", pk)
        return generation
    cost = _cost(claimed)
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
    return _accept(claimed.pk, created, cost)


def _held(pk: UUID | str, token: int) -> Generation | None:
    """The row, when the claim ``token`` (given with the job) is still its current one."""
    return Generation.objects.filter(
        pk=pk,
        send_attempts=token,
        send_claimed_at__isnull=False,
        generation_id__isnull=True,
        status=GenerationStatus.CREATED,
    ).first()


def _cost(generation: Generation) -> Decimal | None:
    """What the reserve will say ``generation`` costs, when the row does not know yet: the
    cached catalog's price, else BabySea's estimate. Best effort: without it the reserve is
    recorded with an unknown amount."""
    if generation.cost_reserved is not None:
        return None
    try:
        return budget.cost_of(generation.model_identifier, generation.request)
    except ValueError as exc:
        logger.debug("No cost for generation %s: %s", generation.pk, exc)
        return None


def _claim(pk: UUID | str) -> Generation | None:
    """Take the row for one send attempt; the returned row's ``send_attempts`` is our token."""
    now = timezone.now()
    taken = Generation.objects.filter(unsent(), pk=pk).update(
        send_attempts=F("send_attempts") + 1, send_claimed_at=now, updated_at=now
    )
    return Generation.objects.get(pk=pk) if taken else None


def _accept(pk: UUID, created: GenerationCreated, cost: Decimal | None) -> Generation:
    remote_id = remote_generation_id({"generation_id": created.generation_id})
    if remote_id is None:  # the client validates it; belt and braces
        raise ResponseValidationError(
            "not a UUID", where="data.generation_id", request_id=created.request_id
        )
    try:
        generation, cancel_wanted = _apply_answer(pk, remote_id, created, cost)
    except IntegrityError:
        # A sync inserted a row for this id after we looked for one: now it is visible.
        generation, cancel_wanted = _apply_answer(pk, remote_id, created, cost)
    # Committed: deliveries that beat the response are applied now, each once.
    if process_deferred(remote_id):
        generation = Generation.objects.get(pk=pk)
    if cancel_wanted:
        return _cancel_remote(generation)
    return generation


def _apply_answer(
    pk: UUID, remote_id: UUID, created: GenerationCreated, cost: Decimal | None
) -> tuple[Generation, bool]:
    """Record BabySea's id and apply the create response; the row, and True when it had been
    canceled locally meanwhile (BabySea must now be told)."""
    record = {"generation_status": "pending", **created.raw}
    with transaction.atomic():
        # One locked read: our row, a row a sync inserted for the same id, and their ledgers.
        locked = locked_sent_generations(pk, remote_id)
        row = next((each for each in locked if each.pk == pk), None)
        if row is None:
            raise Generation.DoesNotExist(f"Generation {pk} no longer exists.")
        if row.generation_id is not None:
            if row.generation_id != remote_id:
                raise ValueError(f"Generation {pk} already has BabySea id {row.generation_id}.")
            return _applied(row, record), False
        cancel_wanted = row.status == GenerationStatus.CANCELED
        if row.cost_reserved is None:
            row.cost_reserved = cost
        orphan = next((each for each in locked if each.pk != pk), None)
        if orphan is not None:
            return _adopt(
                row, orphan, remote_id, record, cancel_wanted=cancel_wanted
            ), cancel_wanted
        if cancel_wanted:  # BabySea's word decides; the cancel is sent after the commit
            row.status = GenerationStatus.CREATED
            row.completed_at = None
        row.generation_id = remote_id
        row.error_code = row.error_message = ""
        row.send_claimed_at = None
        extra = ["generation_id", "send_claimed_at", "cost_reserved"]
        return _applied(row, record, also_save=extra), cancel_wanted


def _applied(
    row: Generation, record: dict[str, object], also_save: Sequence[str] = ()
) -> Generation:
    try:
        return apply_locked(row, record, source="create", also_save=also_save)
    finally:
        forget_ledger(row)


def _adopt(
    row: Generation,
    orphan: Generation,
    remote_id: UUID,
    record: dict[str, object],
    *,
    cancel_wanted: bool,
) -> Generation:
    """Fold the row a sync inserted into ``row`` (both locked), then apply both records."""
    logger.info("Generation %s adopts synced row %s.", row.pk, orphan.pk)
    orphan_record = orphan.remote
    adopt_orphan(row, orphan)
    forget_ledger(row)  # the ledger moved: read it again
    if cancel_wanted:
        row.status = GenerationStatus.CREATED
        row.completed_at = None
    row.generation_id = remote_id
    row.error_code = row.error_message = ""
    row.send_claimed_at = None
    row.save()
    if orphan_record:
        apply_event(orphan_record, source="sync")
    apply_event(record, source="create")
    return Generation.objects.get(pk=row.pk)


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
