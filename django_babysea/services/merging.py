"""Folding a row a list sync inserted into the local row that sent the same generation.

When a create response is lost (a timeout, a dropped connection), the local row stays
``created`` without BabySea's id, and a sync that runs before the resend finds a generation it
does not know and inserts an ownerless row for it. The resend gets the same id back (same
idempotency key); :func:`adopt_orphan` then moves the synced row's ledger entries and output
rows onto the local row (the one with the owner and the request) and deletes the synced row, in
the caller's transaction, so one row holds the generation and the ledger counts it once.
"""

from __future__ import annotations

from django_babysea.models import CreditEvent, CreditEventKind, Generation, GenerationOutput

__all__ = ["adopt_orphan"]

_SETTLEMENTS = frozenset({CreditEventKind.CHARGE, CreditEventKind.REFUND})


def adopt_orphan(generation: Generation, orphan: Generation) -> None:
    """Move ``orphan``'s ledger and output rows to ``generation`` and delete ``orphan``.

    The caller holds both row locks inside one transaction, and gives ``generation`` the
    orphan's BabySea id afterwards (the orphan, holding the unique id, is gone by then). Entries
    ``generation`` already has (or a settlement when it has the other one) are dropped, never
    counted twice.
    """
    kinds = set(generation.credit_events.values_list("kind", flat=True))
    for event in CreditEvent.objects.filter(generation=orphan).order_by("pk"):
        duplicate = event.kind in kinds or (
            event.kind in _SETTLEMENTS and bool(kinds & _SETTLEMENTS)
        )
        # Queryset writes: ledger rows are append-only through save(); moving one to the row
        # that really owns the generation is not an edit of what was recorded.
        if duplicate:
            CreditEvent.objects.filter(pk=event.pk).delete()
        else:
            CreditEvent.objects.filter(pk=event.pk).update(generation=generation)
            kinds.add(event.kind)
    indexes = set(generation.outputs.values_list("index", flat=True))
    for output in GenerationOutput.objects.filter(generation=orphan):
        if output.index not in indexes:
            GenerationOutput.objects.filter(pk=output.pk).update(generation=generation)
    if generation.cost_reserved is None:
        generation.cost_reserved = orphan.cost_reserved
    if generation.cost_charged is None:
        generation.cost_charged = orphan.cost_charged
    orphan.delete()
