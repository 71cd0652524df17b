"""The credit ledger: each generation gets one reserve and at most one settlement.

Settlement is a ``charge`` on success and a ``refund`` when BabySea gave the reservation back
(failed, canceled). Exactly-once is held by the database, not by the caller: each row is written
with ``INSERT ... ON CONFLICT DO NOTHING`` against the unique constraint on (generation, kind), so
a concurrent duplicate is a no-op that needs no savepoint, and the generation row lock taken by
:func:`~django_babysea.services.events.apply_event` makes the "charge excludes refund" check
race-free.

:func:`with_ledger` lets that locked read also bring what the ledger already holds for the row,
so recording a webhook's credits costs no further reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Final
from uuid import UUID

from django.db import connection
from django.db.models import Exists, OuterRef, QuerySet, Subquery

from django_babysea.models import (
    BudgetReservation,
    CreditEvent,
    CreditEventKind,
    Generation,
    GenerationStatus,
    ReservationState,
)
from django_babysea.signals import credit_event_recorded, low_balance, send_on_commit

from . import budget

__all__ = [
    "fits_balance",
    "forget_ledger",
    "record_low_balance",
    "record_reserve",
    "record_settlement",
    "settlement_for",
    "to_credits",
    "with_ledger",
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


#: Attributes :func:`with_ledger` puts on each row: what is recorded for it, read under its lock.
RESERVED_AMOUNT: Final = "ledger_reserved_amount"
SETTLED: Final = "ledger_settled"
BUDGET_STATE: Final = "ledger_budget_state"


def with_ledger(queryset: QuerySet[Generation]) -> QuerySet[Generation]:
    """``queryset`` annotated with each row's reserve amount, whether it is settled and the
    state of its budget hold. Read with the row lock (``select_for_update``), these stay true
    for the rest of the transaction: every ledger write for a generation holds that lock."""
    entries = CreditEvent.objects.filter(generation=OuterRef("pk"))
    hold = BudgetReservation.objects.filter(generation=OuterRef("pk"))
    return queryset.annotate(
        **{
            RESERVED_AMOUNT: Subquery(
                entries.filter(kind=CreditEventKind.RESERVE).values("amount")[:1]
            ),
            SETTLED: Exists(entries.filter(kind__in=SETTLEMENTS)),
            BUDGET_STATE: Subquery(hold.values("state")[:1]),
        }
    )


def forget_ledger(generation: Generation) -> None:
    """Drop what :func:`with_ledger` read: past the transaction it may no longer be true."""
    for name in (RESERVED_AMOUNT, SETTLED, BUDGET_STATE):
        generation.__dict__.pop(name, None)


@dataclass(frozen=True, slots=True)
class _Known:
    reserved: Decimal | None
    settled: bool
    budget_state: str | None


def _known(generation: Generation) -> _Known | None:
    values = generation.__dict__
    if SETTLED not in values:
        return None
    # SQLite hands an annotated decimal back unquantized (0.00500000000000000): give it 3 places.
    reserved = values[RESERVED_AMOUNT]
    reserved = to_credits(reserved) if reserved is not None else None
    return _Known(reserved, bool(values[SETTLED]), values[BUDGET_STATE])


def _insert_once(lookup: Mapping[str, Any], **fields: Any) -> CreditEvent | None:
    """Insert a ledger row unless a row with the same unique values exists; None when it did.

    One statement, ``INSERT ... ON CONFLICT DO NOTHING RETURNING id``: a row a concurrent
    transaction inserted first is skipped by the database, and the caller's transaction stays
    usable (PostgreSQL aborts a transaction on an IntegrityError; this raises none).
    """
    event = CreditEvent(**lookup, **fields)
    meta = CreditEvent._meta
    columns = [field for field in meta.concrete_fields if field is not meta.pk]
    quote = connection.ops.quote_name
    params = [field.get_db_prep_save(field.pre_save(event, True), connection) for field in columns]
    table, pk = quote(meta.db_table), quote(str(meta.pk.column))
    names = ", ".join(quote(str(field.column)) for field in columns)
    marks = ", ".join(["%s"] * len(columns))
    # Table and column names come from the model; every value is a parameter.
    sql = f"INSERT INTO {table} ({names}) VALUES ({marks}) ON CONFLICT DO NOTHING"  # noqa: S608
    sql += f" RETURNING {pk}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    event.pk = row[0]
    event._state.adding = False
    send_on_commit(credit_event_recorded, CreditEvent, event=event, generation=event.generation)
    return event


def record_reserve(generation: Generation, *, source: str) -> CreditEvent | None:
    """Record that BabySea reserved credits for ``generation``; None if already recorded.

    The amount is the locally estimated ``cost_reserved``; BabySea does not report it back.
    When no estimate was made the row says 0 and ``details["amount_known"]`` is false.
    """
    known = _known(generation)
    if known is not None and known.reserved is not None:
        return None
    amount = generation.cost_reserved
    details = {"amount_known": amount is not None}
    event = _insert_once(
        {"generation": generation, "kind": CreditEventKind.RESERVE},
        amount=amount if amount is not None else Decimal(0),
        source=source,
        details=details,
    )
    if event is not None and known is not None:
        generation.__dict__[RESERVED_AMOUNT] = event.amount
    return event


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
    known = _known(generation)
    if known is None:
        if generation.credit_events.filter(kind__in=SETTLEMENTS).exists():
            return None
        reserve = generation.credit_events.filter(kind=CreditEventKind.RESERVE).first()
        reserved = reserve.amount if reserve is not None else None
    elif known.settled:
        return None
    else:
        reserved = known.reserved
    amount = reserved if reserved is not None else (generation.cost_reserved or Decimal(0))
    event = _insert_once(
        {"generation": generation, "kind": kind},
        amount=amount,
        source=source,
        details=dict(details or {}),
    )
    if event is None:
        return None
    if known is not None:
        generation.__dict__[SETTLED] = True
    _follow_budget(generation, kind, event.amount, known)
    return event


def _follow_budget(
    generation: Generation, kind: CreditEventKind, amount: Decimal, known: _Known | None
) -> None:
    """The owner's daily budget follows the ledger. Only an owned generation can hold budget
    (a deleted owner takes the holds along), and a known hold state spares the look-up."""
    if generation.owner_id is None:
        return
    state = known.budget_state if known is not None else ReservationState.RESERVED
    if kind == CreditEventKind.CHARGE:
        if state not in (None, ReservationState.SETTLED):
            budget.settle(generation, amount)
    elif state == ReservationState.RESERVED:
        budget.release(generation)


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
