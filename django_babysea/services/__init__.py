"""The service layer: every rule about generations, credits and webhooks lives here.

Entry points (views, admin, API, tasks, commands) call these functions and nothing below them.
"""

from __future__ import annotations

from .budget import BudgetExceededError, BudgetStatus, budget_status
from .catalog import (
    CatalogState,
    CatalogUnavailableError,
    catalog_is_fresh,
    load_catalog,
    provider_order_choices,
    refresh_catalog,
    validate_request,
)
from .connection import get_client
from .events import apply_event
from .generations import (
    GenerationNotSentError,
    cancel_generation,
    create_generation,
    delete_generation,
    estimate,
    refresh_generation,
    submit_generation,
)
from .ledger import record_low_balance, record_reserve, record_settlement
from .many import Resent, poll_generations, resend_generations, sync_generations
from .outputs import (
    copy_candidates,
    copy_output,
    copy_outputs,
    copy_pending_outputs,
    delete_local_copies,
    record_outputs,
)
from .purge import purge
from .sending import is_retryable, send_generation
from .webhooks import attach_generation_id, process_deferred, process_delivery, store_delivery

__all__ = [
    "BudgetExceededError",
    "BudgetStatus",
    "CatalogState",
    "CatalogUnavailableError",
    "GenerationNotSentError",
    "Resent",
    "apply_event",
    "attach_generation_id",
    "budget_status",
    "cancel_generation",
    "catalog_is_fresh",
    "copy_candidates",
    "copy_output",
    "copy_outputs",
    "copy_pending_outputs",
    "create_generation",
    "delete_generation",
    "delete_local_copies",
    "estimate",
    "get_client",
    "is_retryable",
    "load_catalog",
    "poll_generations",
    "process_deferred",
    "process_delivery",
    "provider_order_choices",
    "purge",
    "record_low_balance",
    "record_outputs",
    "record_reserve",
    "record_settlement",
    "refresh_catalog",
    "refresh_generation",
    "resend_generations",
    "send_generation",
    "store_delivery",
    "submit_generation",
    "sync_generations",
    "validate_request",
]
