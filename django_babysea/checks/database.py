"""W003: SQLite set up for concurrent writers.

BabySea may deliver one webhook several times at once, and a threaded server, a worker and a
command write at the same time. With SQLite's defaults a transaction that reads first and then
writes cannot upgrade its lock while another writer holds it and fails at once with "database is
locked" (a 500, so BabySea retries and may switch the endpoint off). Django >= 5.1 can start
every transaction with the write lock (``transaction_mode``), wait for it (``timeout``), and WAL
lets readers carry on beside the writer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any, Final

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register

from .base import TAG

SQLITE_ENGINES: Final = frozenset(
    {"django.db.backends.sqlite3", "django.contrib.gis.db.backends.spatialite"}
)
RECOMMENDED_OPTIONS: Final = (
    '"transaction_mode": "IMMEDIATE", "timeout": 20, '
    '"init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"'
)
WAL_RE: Final = re.compile(r"journal_mode\s*=\s*'?wal\b", re.IGNORECASE)


def in_memory(name: object) -> bool:
    """An in-memory database (tests), which has a single connection and so no contention."""
    if isinstance(name, PurePath):
        return False
    return not name or name == ":memory:" or "mode=memory" in str(name)


def missing_options(options: Mapping[str, Any]) -> list[str]:
    missing = []
    if str(options.get("transaction_mode") or "").upper() not in {"IMMEDIATE", "EXCLUSIVE"}:
        missing.append('"transaction_mode": "IMMEDIATE"')
    if "timeout" not in options:
        missing.append('"timeout" (seconds to wait for the write lock)')
    if not WAL_RE.search(str(options.get("init_command") or "")):
        missing.append('WAL journal mode in "init_command"')
    return missing


@register(Tags.compatibility, TAG)
def check_sqlite(**kwargs: Any) -> list[CheckMessage]:
    # Settings only: Django may run checks where no database access is allowed.
    messages: list[CheckMessage] = []
    for alias, config in getattr(settings, "DATABASES", {}).items():
        if not isinstance(config, Mapping) or config.get("ENGINE") not in SQLITE_ENGINES:
            continue
        if in_memory(config.get("NAME")):
            continue
        options = config.get("OPTIONS") or {}
        missing = missing_options(options if isinstance(options, Mapping) else {})
        if not missing:
            continue
        messages.append(
            Warning(
                f"DATABASES[{alias!r}] is SQLite without {', '.join(missing)}: concurrent "
                "webhook deliveries and workers will fail with 'database is locked'.",
                hint=f"Add to DATABASES[{alias!r}]['OPTIONS']: {{{RECOMMENDED_OPTIONS}}} "
                "(Django 5.1 or later).",
                id="django_babysea.W003",
            )
        )
    return messages
