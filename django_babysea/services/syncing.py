"""Apply one page of BabySea's generation list in a few statements (what ``babysea_sync`` runs).

A page is applied in one transaction: one locked read of the rows that exist (with what the
ledger holds for them), then

- the generations new to this site in bulk: their rows, their ledger rows and their outputs,
  each a single ``INSERT`` for the whole page, the state worked out in memory by the same rule
  functions :func:`~.events.apply_locked` uses;
- the rows that exist through :func:`~.events.apply_locked`, one by one: the one place that
  decides what a remote record may change (monotonic status, terminal final, ledger once).

A new row is invisible to everybody else until the page commits: a webhook for it meanwhile
finds no generation and is deferred, then applied by :func:`~.webhooks.process_deferred` after
the commit, so its ledger rows are checked against the committed ones and never doubled.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any, Final
from uuid import UUID

from django.db import IntegrityError, transaction
from django.utils import timezone

from django_babysea.client import Generation as RemoteGeneration
from django_babysea.conf import babysea_settings
from django_babysea.models import (
    CreditEvent,
    CreditEventKind,
    Generation,
    GenerationKind,
    GenerationOutput,
    GenerationStatus,
    OutputState,
)
from django_babysea.signals import credit_event_recorded, send_on_commit

from . import dispatch, ledger
from .events import advance, announce, apply_event, apply_locked, remote_generation_id
from .generations import FIELD_PREFIX
from .outputs import REMOVED

__all__ = ["REMOTE_ONLY_FIELDS", "SOURCE", "PageResult", "apply_page"]

SOURCE: Final = "sync"
CREATED: Final = GenerationStatus.CREATED

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


@dataclass(slots=True)
class PageResult:
    """What one page did: rows ``created``, known rows whose status or removal changed
    (``updated``), and the BabySea ids of the new rows (their deferred deliveries are
    processed after the commit)."""

    created: int = 0
    updated: int = 0
    new_ids: list[UUID] = field(default_factory=list)


@dataclass(slots=True)
class _NewRow:
    """A generation made elsewhere, as :func:`~.events.apply_locked` would leave it: the row,
    its ledger rows and its outputs, worked out in memory before one insert per table."""

    record: RemoteGeneration
    row: Generation
    credits: list[CreditEvent]
    outputs: list[GenerationOutput]


def apply_page(records: Sequence[RemoteGeneration]) -> PageResult:
    """Apply every record of one list page in one transaction; records without a valid
    ``generation_id`` are skipped."""
    by_id: dict[UUID, RemoteGeneration] = {}
    repeated: list[RemoteGeneration] = []
    for record in records:
        remote_id = remote_generation_id(record.raw)
        if remote_id is None:
            continue
        if remote_id in by_id:
            repeated.append(record)  # applied to the row its first occurrence made
        else:
            by_id[remote_id] = record
    result = PageResult()
    with transaction.atomic():
        existing = _locked_rows(list(by_id))
        planned = [
            _plan(remote_id, record)
            for remote_id, record in by_id.items()
            if remote_id not in existing
        ]
        inserted, lost = _insert(planned)
        result.created = len(inserted)
        result.new_ids = [remote_id for remote_id in by_id if remote_id in inserted]
        for remote_id, generation in existing.items():
            before = (generation.status, generation.removed)
            apply_locked(generation, by_id[remote_id].raw, source=SOURCE)
            ledger.forget_ledger(generation)
            result.updated += (generation.status, generation.removed) != before
        # A row a concurrent sync inserted first takes the ordinary path, as a repeat does.
        for record in lost:
            applied = apply_event(record.raw, source=SOURCE)
            if applied is None:  # not a conflict: SQLite's INSERT OR IGNORE skips more
                raise IntegrityError(f"No row could be inserted for {record.generation_id}.")
            result.updated += (applied.status, applied.removed) != (CREATED, False)
        for record in repeated:
            apply_event(record.raw, source=SOURCE)
    return result


def _locked_rows(remote_ids: list[UUID]) -> dict[UUID, Generation]:
    """The page's known rows, locked in primary-key order (two syncs never deadlock), each
    with what the ledger holds for it: one statement."""
    if not remote_ids:
        return {}
    locked = Generation.objects.select_for_update().filter(generation_id__in=remote_ids)
    return {
        row.generation_id: row
        for row in ledger.with_ledger(locked.order_by("pk"))
        if row.generation_id is not None
    }


def _insert(planned: list[_NewRow]) -> tuple[set[UUID], list[RemoteGeneration]]:
    """Insert the planned rows, then the ledger and output rows of those this page inserted;
    returns their BabySea ids, and the records whose row a concurrent sync inserted first
    (skipped by ``ON CONFLICT DO NOTHING``)."""
    if not planned:
        return set(), []
    Generation.objects.bulk_create([new.row for new in planned], ignore_conflicts=True)
    # The primary keys are UUIDs made here: the rows found with them are this page's.
    ours = set(
        Generation.objects.filter(pk__in=[new.row.pk for new in planned]).values_list(
            "pk", flat=True
        )
    )
    inserted = [new for new in planned if new.row.pk in ours]
    CreditEvent.objects.bulk_create([event for new in inserted for event in new.credits])
    GenerationOutput.objects.bulk_create([output for new in inserted for output in new.outputs])
    for new in inserted:
        new.row._state.adding = False
        for event in new.credits:
            send_on_commit(credit_event_recorded, CreditEvent, event=event, generation=new.row)
        announce(new.row, CREATED, GenerationStatus(new.row.status), SOURCE)
        if new.outputs and not new.row.removed:
            dispatch.run_later("copy_outputs", str(new.row.pk))
    lost = [new.record for new in planned if new.row.pk not in ours]
    return {new.row.generation_id for new in inserted if new.row.generation_id}, lost


def _plan(remote_id: UUID, record: RemoteGeneration) -> _NewRow:
    """The row for a generation made elsewhere, created ``created`` then advanced by the
    record through the rule functions of :func:`~.events.apply_locked`."""
    raw = record.raw
    request = {
        key: value
        for key, value in raw.items()
        if key.startswith(FIELD_PREFIX) and key not in REMOTE_ONLY_FIELDS and value is not None
    }
    row = Generation(
        generation_id=remote_id,
        kind=_remote_kind(record),
        model_identifier=record.model_identifier,
        prompt=record.generation_prompt or "",
        request=request,
    )
    row.idempotency_key = f"django-babysea:{row.pk}"  # what Generation.save() fills in
    row.status = CREATED
    _, _, current = advance(row, raw)
    credits = _credits(row, raw, current=current)
    return _NewRow(record, row, credits, _outputs(row))


def _remote_kind(record: RemoteGeneration) -> GenerationKind:
    if record.generation_output_format == "mp4" or record.generation_duration is not None:
        return GenerationKind.VIDEO
    return GenerationKind.IMAGE


def _credits(row: Generation, remote: Mapping[str, Any], *, current: bool) -> list[CreditEvent]:
    """The ledger rows :func:`~.ledger.record_reserve` and :func:`~.ledger.record_settlement`
    write for a new row: nothing was estimated here, so the reserve says 0 with
    ``amount_known`` false and the settlement moves that amount. A new row has no owner: no
    daily budget follows."""
    reserve = CreditEvent(
        generation=row,
        kind=CreditEventKind.RESERVE,
        amount=Decimal(0),
        source=SOURCE,
        details={"amount_known": False},
    )
    status = GenerationStatus(row.status)
    settlement = ledger.settlement_for(status, remote) if status.is_terminal and current else None
    if settlement is None:
        return [reserve]
    kind, details = settlement
    row.cost_charged = reserve.amount if kind == CreditEventKind.CHARGE else Decimal(0)
    return [
        reserve,
        CreditEvent(
            generation=row, kind=kind, amount=reserve.amount, source=SOURCE, details=details
        ),
    ]


def _outputs(row: Generation) -> list[GenerationOutput]:
    """The output rows :func:`~.outputs.record_outputs` makes for a succeeded generation that
    has none yet (expired at once when BabySea already removed the files)."""
    urls = row.output_urls
    if row.status != GenerationStatus.SUCCEEDED or not isinstance(urls, list):
        return []
    retention = timedelta(hours=babysea_settings.OUTPUT_RETENTION_HOURS)
    expires = (row.completed_at or timezone.now()) + retention
    return [
        GenerationOutput(
            generation=row,
            index=index,
            source_url=url[:2048],
            storage=babysea_settings.STORAGE,
            remote_expires_at=expires,
            state=OutputState.EXPIRED if row.removed else OutputState.PENDING,
            error=REMOVED if row.removed else "",
        )
        for index, url in enumerate(urls)
        if isinstance(url, str) and url
    ]
