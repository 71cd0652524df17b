"""Bounded tables: delete old webhook deliveries and ledger rows in batches.

Deliveries received more than ``DELIVERY_RETENTION_DAYS`` ago are deleted when they are done
with (``processed`` or ``ignored``), or ``deferred`` for a generation this site does not have:
one created elsewhere with the same account, whose create response never comes. ``failed``,
``invalid`` and ``received`` ones are kept whatever their age, because they still need
someone's attention or a replay, and so is a ``deferred`` one whose generation exists here
(it should have been applied). Ledger rows older than ``LEDGER_RETENTION_DAYS`` are deleted
with queryset deletes, the only sanctioned way around the ledger's append-only rule.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import models, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from django_babysea.conf import babysea_settings
from django_babysea.models import CreditEvent, DeliveryState, Generation, WebhookDelivery

from . import dispatch

__all__ = ["purge", "purgeable"]

DONE_STATES = (DeliveryState.PROCESSED, DeliveryState.IGNORED)

dispatch.register("purge", f"{__name__}.purge")


def purgeable(now: datetime | None = None) -> dict[str, models.QuerySet[Any]]:
    """What :func:`purge` would delete at ``now``, by table."""
    now = now or timezone.now()
    delivery_cutoff = now - timedelta(days=babysea_settings.DELIVERY_RETENTION_DAYS)
    ledger_cutoff = now - timedelta(days=babysea_settings.LEDGER_RETENTION_DAYS)
    local = Generation.objects.filter(generation_id=OuterRef("generation_id"))
    return {
        "deliveries": WebhookDelivery.objects.alias(known=Exists(local)).filter(
            Q(state__in=DONE_STATES) | Q(state=DeliveryState.DEFERRED, known=False),
            received_at__lt=delivery_cutoff,
        ),
        "credit_events": CreditEvent.objects.filter(created_at__lt=ledger_cutoff),
    }


def purge(
    now: datetime | None = None, batch_size: int = 1000, *, dry_run: bool = False
) -> dict[str, int]:
    """Delete old done (or orphaned deferred) deliveries and old ledger rows, ``batch_size``
    rows per transaction.

    Returns ``{"deliveries": n, "credit_events": m}``: the rows deleted, or with ``dry_run``
    the rows that would be.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1.")
    counts: dict[str, int] = {}
    for name, queryset in purgeable(now).items():
        if dry_run:
            counts[name] = queryset.count()
            continue
        counts[name] = _delete_in_batches(queryset, batch_size)
    return counts


def _delete_in_batches(queryset: models.QuerySet[Any], batch_size: int) -> int:
    deleted = 0
    model = queryset.model
    while True:
        with transaction.atomic():
            pks = list(queryset.order_by("pk").values_list("pk", flat=True)[:batch_size])
            if not pks:
                return deleted
            count, _ = model.objects.filter(pk__in=pks).delete()
            deleted += count
