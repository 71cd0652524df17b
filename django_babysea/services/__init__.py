"""The service layer: every rule about generations, credits and webhooks lives here.

Entry points (views, admin, API, tasks, commands) call these functions and nothing below them.
"""

from __future__ import annotations

from .events import apply_event
from .ledger import record_low_balance, record_reserve, record_settlement
from .webhooks import attach_generation_id, process_deferred, process_delivery, store_delivery

__all__ = [
    "apply_event",
    "attach_generation_id",
    "process_deferred",
    "process_delivery",
    "record_low_balance",
    "record_reserve",
    "record_settlement",
    "store_delivery",
]
