"""Generations: submit, send, refresh, cancel, delete, poll, sync and estimate.

A generation is submitted in two steps. :func:`submit_generation` stores the local row (with its
idempotency key) and commits; :func:`send_generation` then calls BabySea with that key, on a
Celery worker or inline after the commit. Because the key is stored before the call, a send
that is retried after a timeout, a dropped connection or a crash reaches the same remote
generation and never reserves credits twice.

Every remote record BabySea returns goes through
:func:`~django_babysea.services.events.apply_event`; nothing here changes a status by itself
except the two things only this module knows: a rejected send (``failed``) and a cancel before
the send (``canceled``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, Final, cast
from uuid import UUID

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from django_babysea.client import (
    APIError,
    BabySeaError,
    Estimate,
    NetworkError,
    NotCancelableError,
    NotFoundError,
    RequestTimeoutError,
    ResponseValidationError,
)
from django_babysea.client import Generation as RemoteGeneration
from django_babysea.models import Generation, GenerationKind, GenerationStatus
from django_babysea.signals import generation_failed, generation_status_changed, send_on_commit

from . import dispatch, outputs
from .connection import get_client
from .events import apply_event, remote_generation_id
from .ledger import to_credits
from .webhooks import attach_generation_id

__all__ = [
    "GenerationNotSentError",
    "Progress",
    "cancel_generation",
    "create_generation",
    "delete_generation",
    "estimate",
    "is_retryable",
    "poll_generations",
    "refresh_generation",
    "refresh_generation_by_pk",
    "send_generation",
    "submit_generation",
    "sync_generations",
]

logger = logging.getLogger(__name__)

#: Called as ``progress(done, total)``; ``total`` is None when not known in advance.
Progress = Callable[[int, int | None], None]

FIELD_PREFIX: Final = "generation_"
#: Keys of a remote record that BabySea fills in; everything else ``generation_*`` was sent.
REMOTE_ONLY_FIELDS: Final = frozenset(
    {
        "generation_id",
        "generation_status",
        "generation_initialized",
        "generation_provider_order",
        "generation_provider_used",
        "generation_prediction_id",
        "generation_output_file",
        "generation_created_at",
        "generation_started_at",
        "generation_completed_at",
        "generation_metrics_total_time",
        "generation_metrics_predict_time",
        "generation_audio_mode",
        "generation_error",
        "generation_error_code",
        "generation_removed",
    }
)
MAX_ERROR_MESSAGE: Final = 2000

# Jobs (see :mod:`.dispatch`): run on a Celery worker or inline; they take primary keys.
send_job: Final = "send_generation"
dispatch.register(send_job, f"{__name__}.send_generation")
dispatch.register("refresh_generation", f"{__name__}.refresh_generation_by_pk")
dispatch.register("poll_generations", f"{__name__}.poll_generations")
dispatch.register("sync_generations", f"{__name__}.sync_generations")


class GenerationNotSentError(ValueError):
    """The generation has no BabySea id yet: it was never accepted, so BabySea cannot act on it."""

    def __init__(self, generation: Generation) -> None:
        super().__init__(
            f"Generation {generation.pk} has not been accepted by BabySea yet "
            f"(status {generation.status})."
        )
        self.generation = generation


def is_retryable(exc: BaseException) -> bool:
    """True for failures where sending again with the same idempotency key may succeed:
    network errors, timeouts, garbled answers and API errors BabySea marks retryable."""
    if isinstance(exc, NetworkError | RequestTimeoutError | ResponseValidationError):
        return True
    return isinstance(exc, APIError) and exc.retryable


# -- submit -------------------------------------------------------------------------------------


def _kind(fields: Mapping[str, Any]) -> GenerationKind:
    # The client picks the video route exactly when generation_duration is given.
    if fields.get("generation_duration") is not None:
        return GenerationKind.VIDEO
    return GenerationKind.IMAGE


def create_generation(
    model_identifier: str,
    fields: Mapping[str, Any],
    *,
    owner: AbstractBaseUser | None = None,
) -> Generation:
    """Store a new local generation in ``created``; nothing is sent.

    ``fields`` are the ``generation_*`` body fields (``None`` values are dropped). Raises
    ``ValueError`` for an empty model, a missing prompt or a key without the prefix.
    """
    model = model_identifier.strip()
    if not model:
        raise ValueError("A model identifier is required, e.g. 'bfl/flux-schnell'.")
    request = {key: value for key, value in fields.items() if value is not None}
    unknown = sorted(key for key in request if not key.startswith(FIELD_PREFIX))
    if unknown:
        raise ValueError(
            f"Unknown field(s) {', '.join(unknown)}: BabySea fields start with '{FIELD_PREFIX}'."
        )
    prompt = request.get("generation_prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise ValueError("generation_prompt is required.")
    return Generation.objects.create(
        kind=_kind(request),
        model_identifier=model,
        prompt=prompt,
        request=request,
        # AUTH_USER_MODEL may be a custom model; the stubs only know the default one.
        owner=cast(Any, owner),
    )


def submit_generation(
    model_identifier: str, *, owner: AbstractBaseUser | None = None, **fields: Any
) -> Generation:
    """Create the local row, commit it, then send it to BabySea with
    :func:`send_generation` (on Celery when ``USE_CELERY`` is on, else inline after the commit).

    Returns the row as stored; inline, it is re-read after the send. An inline send that
    fails with a retryable error raises it (the row stays ``created`` with the error).
    """
    with transaction.atomic():
        generation = create_generation(model_identifier, fields, owner=owner)
        dispatch.run_later(send_job, str(generation.pk))
    generation.refresh_from_db()
    return generation


def send_generation(pk: UUID | str) -> Generation:
    """Send the generation ``pk`` to BabySea with its stored idempotency key.

    Idempotent: a row that already has BabySea's id is refreshed instead, a terminal row is
    returned as it is. On success the create response is applied (``pending``) and webhooks
    that arrived first are processed. A retryable failure is recorded on the row, which stays
    ``created``, and re-raised; a rejection (e.g. BSE1004 insufficient credits) marks the row
    ``failed`` with BabySea's code and message and returns it.

    Call outside a transaction: the row lock is held for the duration of the HTTP call, so two
    workers never send the same row at once, and the id must be committed before webhooks can
    find it.
    """
    client = get_client()
    _estimate_cost(pk)
    failure: BabySeaError | None = None
    with transaction.atomic():
        generation = Generation.objects.select_for_update().get(pk=pk)
        if generation.generation_id is not None:
            already_sent = True
        elif generation.is_terminal:
            return generation
        else:
            already_sent = False
            try:
                created = client.generate(
                    generation.model_identifier,
                    idempotency_key=generation.idempotency_key,
                    **generation.request,
                )
            except BabySeaError as exc:
                failure = exc
                _record_failure(generation, exc)
            else:
                remote_id = remote_generation_id({"generation_id": created.generation_id})
                if remote_id is None:  # the client validates it; belt and braces
                    raise ResponseValidationError(
                        "not a UUID", where="data.generation_id", request_id=created.request_id
                    )
                generation.generation_id = remote_id
                generation.error_code = ""
                generation.error_message = ""
                generation.save(
                    update_fields=["generation_id", "error_code", "error_message", "updated_at"]
                )
                apply_event({"generation_status": "pending", **created.raw}, source="create")
    if already_sent:
        return refresh_generation(generation)
    if failure is not None:
        if generation.status == GenerationStatus.FAILED:
            return generation
        raise failure
    # Committed: deliveries that beat the response are applied now, each once.
    return attach_generation_id(generation, generation.generation_id)  # type: ignore[arg-type]


def _estimate_cost(pk: UUID | str) -> None:
    """Fill in ``cost_reserved`` from BabySea's estimate, so the ledger's reserve has an amount.

    Best effort: without it the reserve is recorded with an unknown amount.
    """
    generation = Generation.objects.filter(pk=pk, cost_reserved__isnull=True).first()
    if generation is None or generation.generation_id is not None or generation.is_terminal:
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


def _record_failure(generation: Generation, exc: BabySeaError) -> None:
    """Note why a send failed: retryable (and local) errors keep the row ``created``; an API
    rejection fails it. The caller holds the row lock."""
    code = exc.code if isinstance(exc, APIError) else type(exc).__name__
    message = exc.message if isinstance(exc, APIError) else str(exc)
    generation.error_code = code[:32]
    generation.error_message = message[:MAX_ERROR_MESSAGE]
    fields = ["error_code", "error_message", "updated_at"]
    if isinstance(exc, APIError) and not is_retryable(exc):
        old = GenerationStatus(generation.status)
        generation.status = GenerationStatus.FAILED
        generation.completed_at = timezone.now()
        fields += ["status", "completed_at"]
        send_on_commit(
            generation_status_changed,
            Generation,
            generation=generation,
            old_status=old,
            new_status=GenerationStatus.FAILED,
            source="create",
        )
        send_on_commit(
            generation_failed,
            Generation,
            generation=generation,
            source="create",
            error_code=generation.error_code,
            error_message=generation.error_message,
        )
        logger.debug(
            "BabySea rejected generation %s (%s -> failed): %s", generation.pk, old, exc.code
        )
    generation.save(update_fields=fields)


# -- one generation -----------------------------------------------------------------------------


def _remote_id(generation: Generation) -> str:
    if generation.generation_id is None:
        raise GenerationNotSentError(generation)
    return str(generation.generation_id)


def _apply(remote: Mapping[str, Any], generation: Generation, *, source: str) -> Generation:
    applied = apply_event(remote, source=source)
    if applied is None:  # the row was deleted meanwhile
        raise Generation.DoesNotExist(f"Generation {generation.pk} no longer exists.")
    return applied


def refresh_generation(generation: Generation) -> Generation:
    """Fetch BabySea's record of ``generation`` and apply it; returns the updated row."""
    record = get_client().get_generation(_remote_id(generation))
    return _apply(record.raw, generation, source="poll")


def refresh_generation_by_pk(pk: UUID | str) -> Generation:
    """:func:`refresh_generation` of the row ``pk`` (the ``refresh_generation`` job)."""
    return refresh_generation(Generation.objects.get(pk=pk))


def cancel_generation(generation: Generation) -> Generation:
    """Cancel ``generation``: at BabySea when it was accepted, locally when it was never sent.

    Raises :class:`~django_babysea.client.NotCancelableError` (BSE2012/BSE2013) when BabySea
    refuses; the row is refreshed first, so it shows the status that made the cancel fail.
    """
    with transaction.atomic():
        # Waits for a send in progress: after it, the row has its BabySea id or never will.
        locked = Generation.objects.select_for_update().get(pk=generation.pk)
        if locked.generation_id is None:
            if locked.status == GenerationStatus.CREATED:
                locked.status = GenerationStatus.CANCELED
                locked.completed_at = timezone.now()
                locked.save(update_fields=["status", "completed_at", "updated_at"])
            return locked
    try:
        result = get_client().cancel_generation(_remote_id(locked))
    except NotCancelableError:
        refresh_generation(locked)
        raise
    return _apply({"generation_status": "canceled", **result.raw}, locked, source="cancel")


def delete_generation(generation: Generation) -> Generation:
    """Delete the output files at BabySea (the record stays there and here) and mark the row
    ``removed``, then delete the local copies unless ``BABYSEA["KEEP_LOCAL_COPIES"]`` keeps
    them. Only terminal generations can be deleted (BabySea answers BSE2001 otherwise)."""
    get_client().delete_generation(_remote_id(generation))
    generation = refresh_generation(generation)
    outputs.delete_local_copies(generation)
    return generation


def estimate(
    model_identifier: str,
    *,
    count: int | None = None,
    duration: int | None = None,
    resolution: str | None = None,
    audio: bool | None = None,
) -> Estimate:
    """BabySea's cost estimate for a generation (no credits used)."""
    return get_client().estimate(
        model_identifier, count=count, duration=duration, resolution=resolution, audio=audio
    )


# -- many generations ---------------------------------------------------------------------------


def poll_generations(limit: int | None = None, *, progress: Progress | None = None) -> int:
    """Refresh every accepted, non-terminal generation (oldest first, at most ``limit``);
    returns how many were refreshed. A generation BabySea no longer knows is logged and
    skipped; other errors stop the poll."""
    pending = (
        Generation.objects.filter(
            generation_id__isnull=False,
            status__in=[GenerationStatus.PENDING, GenerationStatus.PROCESSING],
        )
        .order_by("created_at")
        .values_list("pk", flat=True)
    )
    pks = list(pending if limit is None else pending[:limit])
    refreshed = 0
    for done, pk in enumerate(pks, start=1):
        generation = Generation.objects.filter(pk=pk).first()
        if generation is not None and not generation.is_terminal:
            try:
                refresh_generation(generation)
                refreshed += 1
            except NotFoundError:
                logger.warning("BabySea no longer knows generation %s.", generation.generation_id)
        if progress is not None:
            progress(done, len(pks))
    return refreshed


def sync_generations(*, progress: Progress | None = None) -> tuple[int, int]:
    """Walk every generation of the account at BabySea and apply each record; generations made
    elsewhere (another site, the dashboard, a script) get a local row. Returns
    ``(created, updated)``: new rows, and known rows whose status or removal changed."""
    client = get_client()
    created = updated = seen = 0
    total: int | None = None
    offset: int | None = 0
    while offset is not None:
        page = client.list_generations(limit=100, offset=offset)
        total = page.total
        for record in page.generations:
            was_created, was_updated = _sync_one(record)
            created += was_created
            updated += was_updated
            seen += 1
            if progress is not None:
                progress(seen, total)
        offset = offset + len(page.generations)
        if not page.generations or offset >= page.total:
            offset = None
    return created, updated


def _sync_one(record: RemoteGeneration) -> tuple[bool, bool]:
    remote_id = remote_generation_id(record.raw)
    if remote_id is None:
        return False, False
    before = (
        Generation.objects.filter(generation_id=remote_id).values_list("status", "removed").first()
    )
    if before is None:
        if _create_from_remote(record, remote_id):
            apply_event(record.raw, source="sync")
            return True, False
        before = (GenerationStatus.CREATED.value, False)
    generation = apply_event(record.raw, source="sync")
    if generation is None:
        return False, False
    return False, (generation.status, generation.removed) != tuple(before)


def _create_from_remote(record: RemoteGeneration, remote_id: UUID) -> bool:
    """Insert a row for a generation made elsewhere; False when another sync inserted it."""
    raw = record.raw
    request = {
        key: value
        for key, value in raw.items()
        if key.startswith(FIELD_PREFIX) and key not in REMOTE_ONLY_FIELDS and value is not None
    }
    try:
        with transaction.atomic():
            Generation.objects.create(
                generation_id=remote_id,
                kind=_remote_kind(record),
                model_identifier=record.model_identifier,
                prompt=record.generation_prompt or "",
                request=request,
            )
    except IntegrityError:
        if Generation.objects.filter(generation_id=remote_id).exists():
            return False
        raise
    return True


def _remote_kind(record: RemoteGeneration) -> GenerationKind:
    if record.generation_output_format == "mp4" or record.generation_duration is not None:
        return GenerationKind.VIDEO
    return GenerationKind.IMAGE
