"""Signals about generations and credits, all sent after the database transaction commits.

Every signal is scheduled with :func:`django.db.transaction.on_commit`: a receiver never sees a
change that is later rolled back, and can safely queue a Celery task that reads the row. Receivers
are called with ``send_robust``: one that raises is logged on the ``django_babysea.signals``
logger and does not stop the others (the change it reports is already committed).

The keyword arguments of each signal are listed in ``docs/signals.md``; all signals pass
``sender`` as the model class the instance belongs to.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.db.models import Model
from django.dispatch import Signal

__all__ = [
    "credit_event_recorded",
    "generation_canceled",
    "generation_failed",
    "generation_status_changed",
    "generation_submitted",
    "generation_succeeded",
    "low_balance",
    "outputs_stored",
    "send_on_commit",
]

logger = logging.getLogger(__name__)

#: BabySea accepted a generation (its status left ``created``).
#: kwargs: ``generation``, ``source``.
generation_submitted = Signal()

#: The status of a generation moved forwards.
#: kwargs: ``generation``, ``old_status``, ``new_status``, ``source``.
generation_status_changed = Signal()

#: A generation reached ``succeeded``. kwargs: ``generation``, ``source``.
generation_succeeded = Signal()

#: A generation reached ``failed``. kwargs: ``generation``, ``source``, ``error_code``,
#: ``error_message``.
generation_failed = Signal()

#: A generation reached ``canceled``. kwargs: ``generation``, ``source``.
generation_canceled = Signal()

#: The outputs of a generation were copied into the site's storage.
#: kwargs: ``generation``, ``outputs`` (the stored output rows).
outputs_stored = Signal()

#: A new ledger row was recorded (never for a duplicate). kwargs: ``event``, ``generation``
#: (``None`` for a low-balance alert).
credit_event_recorded = Signal()

#: BabySea reported that the balance fell below one or more thresholds.
#: kwargs: ``event``, ``current_balance`` (Decimal), ``thresholds_crossed`` (list of dicts with
#: ``threshold`` and ``balance_at``), ``delivery_id`` (UUID).
low_balance = Signal()


def send_on_commit(signal: Signal, sender: type[Model], **kwargs: Any) -> None:
    """Send ``signal`` once the current transaction commits (at once outside a transaction)."""

    def send() -> None:
        for receiver, result in signal.send_robust(sender=sender, **kwargs):
            if isinstance(result, Exception):
                logger.error(
                    "Receiver %r of a django-babysea signal raised",
                    receiver,
                    exc_info=(type(result), result, result.__traceback__),
                )

    transaction.on_commit(send)
