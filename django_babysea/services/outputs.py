"""Copies of output files in the site's storage: recorded on success, copied, swept, deleted.

A :class:`~django_babysea.models.GenerationOutput` moves through these states::

    pending -> copying -> stored -> deleted        (delete_generation)
                       -> failed -> copying ...    (the sweep tries again)
    pending, copying, failed -> expired            (BabySea removed the file first)

The transfer itself runs outside any transaction (it can take minutes); only the short claim
before it and the bookkeeping after it hold row locks. A claim is the attempt number: whoever
finishes an attempt that is no longer the row's current one records nothing.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

import httpx
from django.core.exceptions import ObjectDoesNotExist
from django.core.files.storage import storages
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.text import slugify

from django_babysea.conf import babysea_settings
from django_babysea.downloads import (
    DownloadError,
    Limits,
    Reason,
    SourcePolicy,
    StoredFile,
    copy_to_storage,
    describe,
    open_client,
)
from django_babysea.downloads.sniff import MeasuringStorage
from django_babysea.models import Generation, GenerationOutput, GenerationStatus, OutputState
from django_babysea.signals import outputs_stored, send_on_commit

from . import dispatch
from .renditions import (
    Renditions,
    Subject,
    delete_renditions_later,
    discard_renditions,
    record_renditions,
    renditions_for_copy,
)

__all__ = [
    "CopySession",
    "copy_candidates",
    "copy_output",
    "copy_outputs",
    "copy_pending_outputs",
    "copy_session",
    "delete_local_copies",
    "record_outputs",
    "upload_name",
]

logger = logging.getLogger("django_babysea.outputs")

dispatch.register("copy_outputs", f"{__name__}.copy_outputs")
dispatch.register("copy_pending_outputs", f"{__name__}.copy_pending_outputs")

UNFINISHED = (OutputState.PENDING, OutputState.COPYING, OutputState.FAILED)
REMOVED = "BabySea removed the file (deleted, or past its retention window) before it was copied."
DELETED_FIRST = "The generation was deleted before this file was copied."

Progress = Callable[[int, int], None]


# -- recording ----------------------------------------------------------------------------------


def record_outputs(generation: Generation, *, queue: bool = True) -> list[GenerationOutput]:
    """Create the rows for a succeeded generation's output URLs, and queue their copy.

    Called by ``apply_event`` inside its transaction with the generation row locked, so each
    output is recorded once however many events report it. Returns the new rows.
    """
    if generation.removed:
        _expire_unfinished(generation, REMOVED)
    urls = generation.output_urls
    if generation.status != GenerationStatus.SUCCEEDED or not isinstance(urls, list):
        return []
    known = set(generation.outputs.values_list("index", flat=True))
    expires = (generation.completed_at or timezone.now()) + timedelta(
        hours=babysea_settings.OUTPUT_RETENTION_HOURS
    )
    state = OutputState.EXPIRED if generation.removed else OutputState.PENDING
    new = [
        GenerationOutput(
            generation=generation,
            index=index,
            source_url=url[:2048],
            storage=babysea_settings.STORAGE,
            remote_expires_at=expires,
            state=state,
            error=REMOVED if generation.removed else "",
        )
        for index, url in enumerate(urls)
        if index not in known and isinstance(url, str) and url
    ]
    GenerationOutput.objects.bulk_create(new)
    if queue and state == OutputState.PENDING and new:
        dispatch.run_later("copy_outputs", str(generation.pk))
    return new


def _expire_unfinished(generation: Generation, message: str) -> int:
    return generation.outputs.filter(state__in=UNFINISHED).update(
        state=OutputState.EXPIRED, error=message, updated_at=timezone.now()
    )


def upload_name(generation: Generation, index: int, ext: str) -> str:
    """The storage name of an output, from ``BABYSEA["UPLOAD_TO"]``: strftime codes (of the
    generation's creation time) and ``{generation_id}``, ``{index}``, ``{ext}``, ``{model}``,
    ``{kind}``. The same output always gets the same name."""
    created = timezone.localtime(generation.created_at) if generation.created_at else None
    template = babysea_settings.UPLOAD_TO
    path = (created or timezone.localtime()).strftime(template)
    return path.format(
        generation_id=generation.generation_id or generation.pk,
        index=index,
        ext=ext,
        model=slugify(generation.model_identifier.replace("/", "-")),
        kind=generation.kind,
    )


# -- copying ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CopySession:
    """What a batch of copies shares: the HTTP client (and its connections), the source policy
    and the limits, all from the settings at the start of the batch."""

    client: httpx.Client
    policy: SourcePolicy
    limits: Limits


@contextmanager
def copy_session() -> Iterator[CopySession]:
    limits = Limits(
        max_bytes=babysea_settings.MAX_OUTPUT_BYTES,
        timeout=babysea_settings.TIMEOUT,
        deadline=babysea_settings.COPY_TIMEOUT,
    )
    policy = SourcePolicy.build(babysea_settings.OUTPUT_HOSTS, trusted=[babysea_settings.BASE_URL])
    with open_client(limits) as client:
        yield CopySession(client, policy, limits)


def _lease() -> timedelta:
    """How long a ``copying`` claim holds before the sweep may take it over: twice the
    transfer deadline, so a live copy (which gives up at the deadline) is never doubled."""
    return timedelta(seconds=2 * babysea_settings.COPY_TIMEOUT + 60)


def copy_outputs(generation_pk: str) -> list[GenerationOutput]:
    """Copy every output of one generation that is not stored yet (the job run on success)."""
    pks = list(
        copy_candidates()
        .filter(generation_id=generation_pk)
        .order_by("index")
        .values_list("pk", flat=True)
    )
    if not pks:
        return []
    with copy_session() as session:
        return [copy_output(pk, session=session) for pk in pks]


def copy_output(pk: int, *, session: CopySession | None = None) -> GenerationOutput:
    """Copy one output into its storage unless it is stored, expired, deleted or being copied
    by someone else; returns the row as it stands afterwards. A failure is recorded on the row
    (``failed`` or ``expired``, with the reason), never raised: a refused download or a
    storage error with its own reason, anything else (an ``OSError``, a bug) as ``internal``."""
    if session is None:
        with copy_session() as own:
            return copy_output(pk, session=own)
    claim, claimed = _claim(pk)
    if not claimed:
        return claim
    try:
        stored, measured = _transfer(claim, session)
        # Same job, before the row says stored: the file and its renditions appear together.
        # A rendition that fails is recorded on the row; the copy stands.
        width, height = measured.size or (None, None)
        kind = stored.download.format.kind
        subject = Subject(claim.storage, stored.name, kind, width, height, measured.duration)
        made = renditions_for_copy(subject)
        # If _finish fails, the files stay under their names; the next attempt replaces them.
        return _finish(pk, claim.attempts, stored, measured, made)
    except Exception as exc:
        return _fail(pk, claim.attempts, exc)


def _transfer(claim: GenerationOutput, session: CopySession) -> tuple[StoredFile, Measured]:
    """The stored file, and what its header tells (pixel size, a video's duration)."""
    try:
        storage = MeasuringStorage(storages[claim.storage])
    except Exception as exc:
        raise DownloadError(
            Reason.STORAGE_ERROR, f"Storage {claim.storage!r} is not available ({describe(exc)})."
        ) from exc
    stored = copy_to_storage(
        claim.source_url,
        storage,
        partial(upload_name, claim.generation, claim.index),
        policy=session.policy,
        limits=session.limits,
        client=session.client,
    )
    return stored, Measured(storage.measured, storage.duration)


def _locked(pk: int) -> tuple[Generation, GenerationOutput]:
    # Generation first, then output: the order apply_event and delete use too.
    generation_pk = GenerationOutput.objects.values_list("generation_id", flat=True).get(pk=pk)
    generation = Generation.objects.select_for_update().get(pk=generation_pk)
    output = GenerationOutput.objects.select_for_update().get(pk=pk)
    output.generation = generation
    return generation, output


def _claim(pk: int) -> tuple[GenerationOutput, bool]:
    """The row, and whether this caller now holds the copy attempt ``row.attempts``."""
    now = timezone.now()
    with transaction.atomic():
        generation, output = _locked(pk)
        if output.state not in UNFINISHED:
            return output, False
        started = output.copy_started_at
        if output.state == OutputState.COPYING and started and started > now - _lease():
            return output, False
        if generation.removed:
            output.state, output.error = OutputState.EXPIRED, REMOVED
            output.save(update_fields=["state", "error", "updated_at"])
            return output, False
        output.state = OutputState.COPYING
        output.attempts += 1
        output.copy_started_at = now
        output.save(update_fields=["state", "attempts", "copy_started_at", "updated_at"])
        return output, True


@dataclass(frozen=True)
class Measured:
    size: tuple[int, int] | None
    duration: float | None


def _finish(
    pk: int, attempt: int, stored: StoredFile, measured: Measured, made: Renditions | None
) -> GenerationOutput:
    download = stored.download
    with transaction.atomic():
        generation, output = _locked(pk)
        if output.state != OutputState.COPYING or output.attempts != attempt:
            if output.state in (OutputState.EXPIRED, OutputState.DELETED):
                # Deleted while we copied: the file must not outlive the record's verdict.
                transaction.on_commit(partial(_delete_file, output.storage, stored.name))
                discard_renditions(output.storage, made)
            return output
        output.state = OutputState.STORED
        output.name = stored.name
        output.size = download.size
        output.sha256 = download.sha256
        output.content_type = download.format.content_type
        output.width, output.height = measured.size or (None, None)
        output.duration = measured.duration
        record_renditions(output, made)
        output.stored_at = timezone.now()
        output.error = output.error_reason = ""
        output.save()
        outputs = list(generation.outputs.order_by("index"))
        if all(o.state == OutputState.STORED for o in outputs):
            send_on_commit(outputs_stored, Generation, generation=generation, outputs=outputs)
    logger.info(
        "Stored output %d of generation %s as %s (%d bytes).",
        output.index,
        generation.generation_id,
        stored.name,
        download.size,
    )
    return output


def _fail(pk: int, attempt: int, exc: Exception) -> GenerationOutput:
    if not isinstance(exc, DownloadError):
        # The traceback goes to the log only: a backend's message may carry credentials.
        logger.error("Copying output row %d failed unexpectedly.", pk, exc_info=exc)
        exc = DownloadError(Reason.INTERNAL, f"Copying failed unexpectedly ({describe(exc)}).")
    with transaction.atomic():
        generation, output = _locked(pk)
        if output.state != OutputState.COPYING or output.attempts != attempt:
            return output
        expired = (
            output.remote_expires_at is not None and output.remote_expires_at <= timezone.now()
        )
        if exc.reason == Reason.GONE and (generation.removed or expired):
            output.state, output.error = OutputState.EXPIRED, f"{REMOVED} {exc.message}"
        else:
            output.state, output.error = OutputState.FAILED, exc.message
        output.error_reason = exc.reason.value
        output.save(update_fields=["state", "error", "error_reason", "updated_at"])
    logger.warning(
        "Copying output %d of generation %s failed (%s): %s",
        output.index,
        generation.generation_id,
        exc.reason.value,
        exc.message,
    )
    return output


def _delete_file(alias: str, name: str) -> None:
    try:
        storages[alias].delete(name)
    except Exception:
        logger.exception("Could not delete %s from storage %r.", name, alias)


# -- many outputs -------------------------------------------------------------------------------


def copy_candidates() -> QuerySet[GenerationOutput]:
    """Outputs the sweep would copy, in its order: pending, failed, or a stale claim, the
    soonest to expire at BabySea first."""
    stale = timezone.now() - _lease()
    return GenerationOutput.objects.filter(
        Q(state__in=[OutputState.PENDING, OutputState.FAILED])
        | Q(state=OutputState.COPYING, copy_started_at__lt=stale)
    ).order_by(F("remote_expires_at").asc(nulls_last=True), "created_at", "index")


#: How a copy attempt can end, as counted by the sweep; anything else is "skipped".
OUTCOMES = (OutputState.STORED, OutputState.FAILED, OutputState.EXPIRED)


def copy_pending_outputs(
    limit: int | None = None,
    *,
    progress: Progress | None = None,
    on_output: Callable[[GenerationOutput], None] | None = None,
) -> dict[str, int]:
    """The sweep: record outputs of succeeded generations that have none yet, then copy
    :func:`copy_candidates` (at most ``limit``).

    Returns how many ended ``stored``, ``failed``, ``expired`` or were ``skipped`` (being
    copied by someone else, or deleted meanwhile). ``on_output`` receives each row as it ends.
    """
    _record_missing()
    pks = list(copy_candidates().values_list("pk", flat=True)[:limit])
    counts: Counter[str] = Counter()
    with copy_session() as session:
        for done, pk in enumerate(pks, start=1):
            try:
                output = copy_output(pk, session=session)
            except ObjectDoesNotExist:
                counts["skipped"] += 1
            except Exception:  # the bookkeeping itself (the database): the next sweep retries
                logger.exception("The sweep could not copy output row %d.", pk)
                counts["failed"] += 1
            else:
                counts[output.state if output.state in OUTCOMES else "skipped"] += 1
                if on_output is not None:
                    on_output(output)
            if progress is not None:
                progress(done, len(pks))
    return {key: counts[key] for key in ("stored", "failed", "expired", "skipped")}


def _record_missing(batch: int = 500) -> None:
    """Outputs of generations that succeeded before their rows could be made (an older version
    of the app, a crash between commit and job): create the rows now."""
    # Oldest first, so a few generations whose URLs make no rows (and so stay "missing")
    # cannot crowd the others out of the batch.
    missing = (
        Generation.objects.filter(status=GenerationStatus.SUCCEEDED, outputs__isnull=True)
        .exclude(output_urls=[])
        .order_by("completed_at", "created_at")
        .values_list("pk", flat=True)
    )
    for pk in list(missing[:batch]):
        with transaction.atomic():
            generation = Generation.objects.select_for_update().get(pk=pk)
            record_outputs(generation, queue=False)


# -- deleting -----------------------------------------------------------------------------------


def delete_local_copies(generation: Generation) -> int:
    """After BabySea deleted a generation's files: delete the local copies and their
    renditions too (unless ``BABYSEA["KEEP_LOCAL_COPIES"]``), and give up on outputs not
    copied yet. Returns how many
    files are deleted. Files go after the commit, so a rollback never loses a file its row
    still points at."""
    keep = babysea_settings.KEEP_LOCAL_COPIES
    deleted = 0
    with transaction.atomic():
        locked = Generation.objects.select_for_update().get(pk=generation.pk)
        for output in locked.outputs.select_for_update():
            if output.state == OutputState.STORED and not keep:
                transaction.on_commit(partial(_delete_file, output.storage, output.name))
                delete_renditions_later(output)
                output.state = OutputState.DELETED
                output.save(update_fields=["state", "renditions", "renditions_key", "updated_at"])
                deleted += 1
            elif output.state in UNFINISHED:
                output.state, output.error = OutputState.EXPIRED, DELETED_FIRST
                output.save(update_fields=["state", "error", "updated_at"])
    return deleted
