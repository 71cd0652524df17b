"""The credit ledger: each generation gets one reserve and at most one settlement.

Settlement is a ``charge`` on success and a ``refund`` when BabySea gave the reservation back
(failed, canceled). Exactly-once is held by the database, not by the caller: the unique constraint
on (generation, kind) and a savepoint around each insert make a concurrent duplicate a no-op, and
the generation row lock taken by :func:`~django_babysea.services.events.apply_event` makes the
"charge excludes refund" check race-free.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Final
from uuid import UUID

from django.db import IntegrityError, transaction

from django_babysea.models import CreditEvent, CreditEventKind, Generation, GenerationStatus
from django_babysea.signals import credit_event_recorded, low_balance, send_on_commit

from . import budget

__all__ = [
    "fits_balance",
    "record_low_balance",
    "record_reserve",
    "record_settlement",
    "settlement_for",
    "to_credits",
]

THOUSANDTH: Final = Decimal("0.001")
SETTLEMENTS: Final = frozenset({CreditEventKind.CHARGE, CreditEventKind.REFUND})


def to_credits(value: object) -> Decimal | None:
    """A credit amount with BabySea's 3 decimals, or None for anything that is not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        return None
    try:
        amount = Decimal(str(value))
        return amount.quantize(THOUSANDTH) if amount.is_finite() else None
    except InvalidOperation:  # not a number, or too large to have 3 decimals
        return None


def fits_balance(amount: Decimal) -> bool:
    """Whether ``amount`` fits the ledger's ``balance`` column (12 digits, 3 of them decimals)."""
    field = CreditEvent._meta.get_field("balance")
    digits = int(getattr(field, "max_digits", 12)) - int(getattr(field, "decimal_places", 3))
    return abs(amount) < Decimal(10) ** digits


def _insert_once(lookup: Mapping[str, Any], **fields: Any) -> CreditEvent | None:
    """Insert a ledger row unless a row matching ``lookup`` exists; None when it did."""
    if CreditEvent.objects.filter(**lookup).exists():
        return None
    try:
        # The savepoint keeps the caller's transaction usable when a concurrent request
        # inserted the same row first (PostgreSQL aborts the transaction on an IntegrityError).
        with transaction.atomic():
            event = CreditEvent.objects.create(**lookup, **fields)
    except IntegrityError:
        if CreditEvent.objects.filter(**lookup).exists():
            return None
        raise
    send_on_commit(credit_event_recorded, CreditEvent, event=event, generation=event.generation)
    return event


def record_reserve(generation: Generation, *, source: str) -> CreditEvent | None:
    """Record that BabySea reserved credits for ``generation``; None if already recorded.

    The amount is the locally estimated ``cost_reserved``; BabySea does not report it back.
    When no estimate was made the row says 0 and ``details["amount_known"]`` is false.
    """
    amount = generation.cost_reserved
    details = {"amount_known": amount is not None}
    return _insert_once(
        {"generation": generation, "kind": CreditEventKind.RESERVE},
        amount=amount if amount is not None else Decimal(0),
        source=source,
        details=details,
    )


def settlement_for(
    status: GenerationStatus, remote: Mapping[str, Any]
) -> tuple[CreditEventKind, dict[str, Any]] | None:
    """Which settlement a record with terminal ``status`` means, with details to store."""
    if status == GenerationStatus.SUCCEEDED:
        return CreditEventKind.CHARGE, {}
    if status == GenerationStatus.FAILED:
        return CreditEventKind.REFUND, {"reason": "failed"}
    if status == GenerationStatus.CANCELED:
        # Cancel refunds the reservation; only an explicit credits_refunded=false (a cancel
        # BabySea judged ineligible) means the credits were kept, i.e. charged.
        if remote.get("credits_refunded") is False:
            return CreditEventKind.CHARGE, {"reason": "canceled_without_refund"}
        return CreditEventKind.REFUND, {"reason": "canceled"}
    return None


def record_settlement(
    generation: Generation,
    kind: CreditEventKind,
    *,
    source: str,
    details: Mapping[str, Any] | None = None,
) -> CreditEvent | None:
    """Charge or refund the reservation of ``generation`` once.

    Returns None when this settlement was already recorded, or when the other one was (a refund
    after a charge, or a charge after a refund, is ignored). The caller must hold the row lock
    of ``generation``. The amount is the reserved amount: BabySea fixes the cost before dispatch.
    """
    if kind not in SETTLEMENTS:
        raise ValueError(f"{kind!r} is not a settlement")
    if generation.credit_events.filter(kind__in=SETTLEMENTS).exists():
        return None
    reserve = generation.credit_events.filter(kind=CreditEventKind.RESERVE).first()
    amount = reserve.amount if reserve is not None else (generation.cost_reserved or Decimal(0))
    event = _insert_once(
        {"generation": generation, "kind": kind},
        amount=amount,
        source=source,
        details=dict(details or {}),
    )
    if event is not None:  # the owner's daily budget follows the ledger
        if kind == CreditEventKind.CHARGE:
            budget.settle(generation, event.amount)
        else:
            budget.release(generation)
    return event


def record_low_balance(data: Mapping[str, Any], *, delivery_id: UUID | str) -> CreditEvent | None:
    """Record a ``credits.low_balance`` alert once per delivery; None for a duplicate.

    No credits move, so the amount is 0; ``balance`` is BabySea's ``current_balance``. Raises
    ``ValueError`` when the balance is too large for the ledger.
    """
    delivery = str(UUID(str(delivery_id)))
    balance = to_credits(data.get("current_balance"))
    if balance is not None and not fits_balance(balance):
        raise ValueError("current_balance is too large for the ledger's balance column.")
    thresholds = data.get("thresholds_crossed")
    thresholds = list(thresholds) if isinstance(thresholds, list) else []
    event = _insert_once(
        {"dedupe_key": f"low_balance:{delivery}"},
        kind=CreditEventKind.LOW_BALANCE,
        amount=Decimal(0),
        balance=balance,
        source=f"webhook:{delivery}",
        details=dict(data),
    )
    if event is not None:
        send_on_commit(
            low_balance,
            CreditEvent,
            event=event,
            current_balance=balance,
            thresholds_crossed=thresholds,
            delivery_id=UUID(delivery),
        )
    return event
