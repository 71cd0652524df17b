"""Credits (contract section 6): reserve, charge, refund, add, and low-balance thresholds.

Callers hold the region lock; the functions only compute and mutate, never do I/O.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django_babysea.sandbox.contract.errors import ApiError
from django_babysea.sandbox.contract.pricing import money, round3
from django_babysea.sandbox.state.accounts import Account
from django_babysea.sandbox.state.records import Generation

__all__ = ["charge", "refund", "reserve", "set_balance"]


def _rearm(account: Account) -> None:
    account.fired = {t for t in account.fired if account.balance < t}


def _crossings(account: Account) -> dict[str, Any] | None:
    """The ``credits.low_balance`` data when this reservation crossed armed thresholds."""
    crossed = sorted(
        (t for t in account.thresholds if account.balance < t and t not in account.fired),
        reverse=True,
    )
    if not crossed:
        return None
    account.fired.update(crossed)
    balance = money(account.balance)
    return {
        "account_id": account.account_id,
        "current_balance": balance,
        "thresholds_crossed": [{"threshold": money(t), "balance_at": balance} for t in crossed],
    }


def reserve(account: Account, amount: Decimal, now: float) -> dict[str, Any] | None:
    """Deduct ``amount`` or raise BSE1004; returns low-balance alert data if one fires."""
    amount = round3(amount)
    if account.balance < amount:
        raise ApiError("BSE1004")
    account.balance = round3(account.balance - amount)
    account.updated_at = now
    return _crossings(account)


def charge(generation: Generation) -> bool:
    """Confirm the reservation of a succeeded generation (no balance change; idempotent)."""
    if generation.settlement is not None:
        return False
    generation.settlement = "charged"
    return True


def refund(generation: Generation, now: float) -> bool:
    """Give the reservation back once; a refund after a charge is ignored."""
    if generation.settlement is not None:
        return False
    generation.settlement = "refunded"
    account = generation.account
    account.balance = round3(account.balance + generation.reserved)
    account.updated_at = now
    _rearm(account)
    return generation.reserved > 0


def set_balance(account: Account, balance: Decimal, now: float) -> None:
    """Set the balance (an ``add`` or an adjustment); re-arms thresholds at or below it."""
    if balance < 0:
        raise ValueError("the balance never goes negative")
    account.balance = round3(balance)
    account.updated_at = now
    _rearm(account)
