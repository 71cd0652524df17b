"""Many generations at once: resend the unsent, poll the unfinished, sync the whole account.

Each works row by row, one short transaction per row, and calls BabySea outside any
transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final
from uuid import UUID

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from django_babysea.client import BabySeaError, NotFoundError
from django_babysea.client import Generation as RemoteGeneration
from django_babysea.models import Generation, GenerationKind, GenerationStatus

from . import dispatch
from .connection import get_client
from .events import apply_event, remote_generation_id
from .generations import FIELD_PREFIX, refresh_generation
from .sending import claim_ttl, is_retryable, send_generation, unsent
from .validation import check_limit
from .webhooks import process_deferred

__all__ = [
    "Progress",
    "Resent",
    "poll_generations",
    "resend_candidates",
    "resend_generations",
    "sync_generations",
]

logger = logging.getLogger("django_babysea.services.generations")

#: Called as ``progress(done, total)``; ``total`` is None when not known in advance.
Progress = Callable[[int, int | None], None]

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

dispatch.register("poll_generations", f"{__name__}.poll_generations")
dispatch.register("resend_generations", f"{__name__}.resend_generations")
dispatch.register("sync_generations", f"{__name__}.sync_generations")


# -- resend -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Resent:
    """What :func:`resend_generations` did: rows BabySea ``accepted``, rows it ``rejected``
    (now ``failed``), and the retryable ``error`` that stopped the sweep early, if any."""

    accepted: int = 0
    rejected: int = 0
    error: BabySeaError | None = None


def resend_candidates() -> Q:
    """Rows a resend picks up: ``created`` with no BabySea id and no live claim, whose send
    failed (``send_attempts > 0``) or never started within a claim's lifetime (a lost job)."""
    stale = timezone.now() - claim_ttl()
    return unsent() & (Q(send_attempts__gt=0) | Q(created_at__lt=stale))


def resend_generations(limit: int | None = None, *, progress: Progress | None = None) -> Resent:
    """Send again the rows a failed or lost send left ``created`` (oldest first, at most
    ``limit``), each with its own idempotency key, so a create whose answer was lost is
    answered now and never runs twice. A retryable failure stops the sweep (BabySea is
    probably unavailable; the next run goes on) and is returned, not raised."""
    check_limit(limit)
    candidates = (
        Generation.objects.filter(resend_candidates()).order_by("created_at").values_list("pk")
    )
    pks = [pk for (pk,) in (candidates if limit is None else candidates[:limit])]
    accepted = rejected = 0
    for done, pk in enumerate(pks, start=1):
        try:
            generation = send_generation(pk)
        except BabySeaError as exc:
            if not is_retryable(exc):
                raise
            logger.warning("Resending generation %s failed (%s); stopping here.", pk, exc)
            return Resent(accepted, rejected, exc)
        except Generation.DoesNotExist:
            continue
        if generation.generation_id is not None:
            accepted += 1
        elif generation.status == GenerationStatus.FAILED:
            rejected += 1
        if progress is not None:
            progress(done, len(pks))
    return Resent(accepted, rejected)


# -- poll ---------------------------------------------------------------------------------------


def poll_generations(
    limit: int | None = None, *, progress: Progress | None = None, resend: bool = True
) -> int:
    """Refresh every accepted, non-terminal generation (oldest first, at most ``limit``);
    returns how many were refreshed. A generation BabySea no longer knows is logged and
    skipped; other errors stop the poll.

    With ``resend`` (the default, and what the ``poll_generations`` job does) the rows a failed
    send left ``created`` are first sent again (:func:`resend_generations`).
    """
    check_limit(limit)
    if resend:
        resend_generations(limit)
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


# -- sync ---------------------------------------------------------------------------------------


def sync_generations(*, progress: Progress | None = None) -> tuple[int, int]:
    """Walk every generation of the account at BabySea and apply each record; generations made
    elsewhere (another site, the dashboard, a script) get a local row, and webhook deliveries
    that were waiting for them are processed. Returns ``(created, updated)``: new rows, and
    known rows whose status or removal changed.

    A generation this site sent but whose create answer was lost gets a row of its own here
    too (BabySea's list does not carry the idempotency key); the resend of the local row takes
    it over (see :mod:`.merging`), so one row ends up holding it."""
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
            process_deferred(remote_id)
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
