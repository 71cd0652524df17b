"""What BabySea told us, kept in the site's database.

- :class:`Generation`: one image or video generation, local id first, BabySea's id once known.
- :class:`GenerationOutput`: one output file and its copy in the site's storage.
- :class:`CreditEvent`: the append-only credit ledger (reserve, charge, refund, low-balance alert).
- :class:`WebhookDelivery`: every verified webhook delivery, its raw body and processing state.

Rules about how these rows change live in :mod:`django_babysea.services`; this module only
describes the data and the invariants the database itself can hold.
"""

from .budget import BudgetDay, BudgetReservation, ReservationState
from .catalog import CatalogModel, Dashboard
from .deliveries import DeliveryState, WebhookDelivery
from .generations import Generation, GenerationKind, GenerationOutput, GenerationStatus, OutputState
from .ledger import AppendOnlyError, CreditEvent, CreditEventKind

__all__ = [
    "AppendOnlyError",
    "BudgetDay",
    "BudgetReservation",
    "CatalogModel",
    "CreditEvent",
    "CreditEventKind",
    "Dashboard",
    "DeliveryState",
    "Generation",
    "GenerationKind",
    "GenerationOutput",
    "GenerationStatus",
    "OutputState",
    "ReservationState",
    "WebhookDelivery",
]
