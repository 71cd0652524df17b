"""Bounded tables: delete old webhook deliveries and ledger rows in batches.

Deliveries received more than ``DELIVERY_RETENTION_DAYS`` ago are deleted when they are done
with (``processed`` or ``ignored``), or ``deferred`` for a generation this site does not have:
one created elsewhere with the same account, whose create response never comes. ``failed``,
``invalid`` and ``received`` ones are kept whatever their age, because they still need
someone's attention or a replay, and so is a ``deferred`` one whose generation exists here
(it should have been applied). Ledger rows older than ``LEDGER_RETENTION_DAYS`` are deleted
with queryset deletes, the only sanctioned way around the ledger's append-only rule.

Budget days (:class:`~django_babysea.models.BudgetDay`) older than ``BUDGET_RETENTION_DAYS``
(calendar days in the site's ``TIME_ZONE``, as the budget counts them) are deleted with their
settled and released reservations. A day that still holds a ``reserved`` reservation (a
generation in progress, or one whose end never arrived) is kept whole, whatever its age: its
hold must be settled or released before anything of it goes.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.db import models, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from django_babysea.conf import babysea_settings
from django_babysea.models import (
    BudgetDay,
    BudgetReservation,
    CreditEvent,
    DeliveryState,
    Generation,
    ReservationState,
    WebhookDelivery,
)

from . import dispatch

__all__ = ["purge", "purgeable"]

DONE_STATES = (DeliveryState.PROCESSED, DeliveryState.IGNORED)

dispatch.register("purge", f"{__name__}.purge")


def _local_day(now: datetime) -> date:
    """``now``'s calendar day in the site's ``TIME_ZONE``: the day a budget row is for."""
    if timezone.is_aware(now):
        return now.astimezone(timezone.get_default_timezone()).date()
    return now.date()


def _old_budget_days(now: datetime) -> models.QuerySet[BudgetDay]:
    cutoff = _local_day(now) - timedelta(days=babysea_settings.BUDGET_RETENTION_DAYS)
    open_hold = BudgetReservation.objects.filter(
        budget_day=OuterRef("pk"), state=ReservationState.RESERVED
    )
    return BudgetDay.objects.alias(holds=Exists(open_hold)).filter(day__lt=cutoff, holds=False)


def purgeable(now: datetime | None = None) -> dict[str, models.QuerySet[Any]]:
    """What :func:`purge` would delete at ``now``, by table, in the order it deletes them."""
    now = now or timezone.now()
    delivery_cutoff = now - timedelta(days=babysea_settings.DELIVERY_RETENTION_DAYS)
    ledger_cutoff = now - timedelta(days=babysea_settings.LEDGER_RETENTION_DAYS)
    local = Generation.objects.filter(generation_id=OuterRef("generation_id"))
    old_days = _old_budget_days(now)
    return {
        "deliveries": WebhookDelivery.objects.alias(known=Exists(local)).filter(
            Q(state__in=DONE_STATES) | Q(state=DeliveryState.DEFERRED, known=False),
            received_at__lt=delivery_cutoff,
        ),
        "credit_events": CreditEvent.objects.filter(created_at__lt=ledger_cutoff),
        # The holds first, so that deleting a day never cascades to rows counted nowhere.
        "budget_reservations": BudgetReservation.objects.filter(
            budget_day__in=old_days.values("pk")
        ).exclude(state=ReservationState.RESERVED),
        "budget_days": old_days,
    }


def purge(
    now: datetime | None = None, batch_size: int = 1000, *, dry_run: bool = False
) -> dict[str, int]:
    """Delete old done (or orphaned deferred) deliveries, old ledger rows and old budget days
    with their closed reservations, ``batch_size`` rows per transaction.

    Returns ``{"deliveries": n, "credit_events": m, "budget_reservations": r,
    "budget_days": d}``: the rows deleted, or with ``dry_run`` the rows that would be.
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
    label = queryset.model._meta.label
    while True:
        with transaction.atomic():
            pks = list(queryset.order_by("pk").values_list("pk", flat=True)[:batch_size])
            if not pks:
                return deleted
            # The batch through the same filter again: a row that stopped qualifying since it
            # was listed (a day that took a new hold) stays. Only this table's rows are counted.
            _, by_model = queryset.filter(pk__in=pks).delete()
            count = by_model.get(label, 0)
            if not count:  # the whole batch stopped qualifying: leave it to the next run
                return deleted
            deleted += count
