"""Many generations at once: resend the unsent, poll the unfinished, sync the whole account.

Resend and poll work row by row, one short transaction per row; the sync one transaction per
page of BabySea's list. Each calls BabySea outside any transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from django.db.models import Q
from django.utils import timezone

from django_babysea.client import BabySeaError, NotFoundError
from django_babysea.models import DeliveryState, Generation, GenerationStatus, WebhookDelivery

from . import dispatch
from .connection import get_client
from .generations import refresh_generation
from .sending import claim_ttl, is_retryable, send_generation, unsent
from .syncing import apply_page
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

    Each page is applied in one transaction of a few statements (:func:`.syncing.apply_page`);
    the next page is fetched after it commits, never inside it.

    A generation this site sent but whose create answer was lost gets a row of its own here
    too (BabySea's list does not carry the idempotency key); the resend of the local row takes
    it over (see :mod:`.merging`), so one row ends up holding it."""
    client = get_client()
    created = updated = seen = 0
    offset: int | None = 0
    while offset is not None:
        page = client.list_generations(limit=100, offset=offset)
        applied = apply_page(page.generations)
        created += applied.created
        updated += applied.updated
        _process_waiting(applied.new_ids)
        for _record in page.generations:
            seen += 1
            if progress is not None:
                progress(seen, page.total)
        offset = offset + len(page.generations)
        if not page.generations or offset >= page.total:
            offset = None
    return created, updated


def _process_waiting(new_ids: list[UUID]) -> None:
    """Apply the webhook deliveries that arrived before their generation's row: one query finds
    which of the page's new generations have any."""
    if not new_ids:
        return
    waiting = (
        WebhookDelivery.objects.filter(generation_id__in=new_ids, state=DeliveryState.DEFERRED)
        .values_list("generation_id", flat=True)
        .distinct()
    )
    for generation_id in list(waiting):
        if generation_id is not None:
            process_deferred(generation_id)
