"""The figures of the admin's BabySea dashboard.

Local figures (:func:`local_figures`) come from a fixed handful of grouped queries over indexed
columns (the ledger's ``kind``/``created_at``, the generations' ``status``/``model_identifier``/
``created_at``, the outputs' ``state``/``remote_expires_at``), so their number does not grow with
the rows. Remote figures (:func:`remote_status`: balance, plan, provider and model health) are
fetched from BabySea at most once a minute per configured key and kept in the cache framework;
while BabySea cannot be asked, the last figures fetched (up to a day old) are shown as such.
"""

from __future__ import annotations

from .local import BACKLOG_STATES, DAYS, DaySpend, LocalFigures, local_figures
from .remote import (
    REMOTE_TTL,
    RemoteFigures,
    RemoteStatus,
    forget_remote_status,
    remote_status,
)

__all__ = [
    "BACKLOG_STATES",
    "DAYS",
    "REMOTE_TTL",
    "DaySpend",
    "LocalFigures",
    "RemoteFigures",
    "RemoteStatus",
    "forget_remote_status",
    "local_figures",
    "remote_status",
]
