"""W003: SQLite without the options concurrent writers need. The check reads settings only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from django_babysea.checks import check_sqlite

from .helpers import babysea_checks

pytestmark = pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")

SQLITE = "django.db.backends.sqlite3"
RECOMMENDED: dict[str, Any] = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}
HINT = (
    "Add to DATABASES['default']['OPTIONS']: {\"transaction_mode\": \"IMMEDIATE\", "
    '"timeout": 20, "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"} '
    "(Django 5.1 or later)."
)


def sqlite_warnings(**databases: dict[str, Any]) -> list[tuple[str | None, str]]:
    # No django_db mark: the check would fail here if it opened a connection.
    with override_settings(DATABASES=databases):
        return [(m.id, m.msg) for m in babysea_checks() if m.id == "django_babysea.W003"]


def test_default_sqlite_file_warns(tmp_path: Path) -> None:
    with override_settings(DATABASES={"default": {"ENGINE": SQLITE, "NAME": tmp_path / "db"}}):
        [message] = check_sqlite()
    assert message.id == "django_babysea.W003"
    assert message.msg == (
        'DATABASES[\'default\'] is SQLite without "transaction_mode": "IMMEDIATE", '
        '"timeout" (seconds to wait for the write lock), WAL journal mode in "init_command": '
        "concurrent webhook deliveries and workers will fail with 'database is locked'."
    )
    assert message.hint == HINT
    assert not (tmp_path / "db").exists()


@pytest.mark.parametrize(
    ("missing", "fragment"),
    [
        ("transaction_mode", 'without "transaction_mode": "IMMEDIATE":'),
        ("timeout", 'without "timeout" (seconds to wait for the write lock):'),
        ("init_command", 'without WAL journal mode in "init_command":'),
    ],
)
def test_each_missing_option_is_named(missing: str, fragment: str) -> None:
    options = {k: v for k, v in RECOMMENDED.items() if k != missing}
    [(_, msg)] = sqlite_warnings(default={"ENGINE": SQLITE, "NAME": "site.db", "OPTIONS": options})
    assert fragment in msg


def test_every_sqlite_alias_is_checked() -> None:
    databases = {
        "default": {"ENGINE": SQLITE, "NAME": "site.db", "OPTIONS": RECOMMENDED},
        "archive": {"ENGINE": SQLITE, "NAME": "archive.db", "OPTIONS": {"timeout": 20}},
    }
    [(_, msg)] = sqlite_warnings(**databases)
    assert msg.startswith("DATABASES['archive'] is SQLite without \"transaction_mode\"")


@pytest.mark.parametrize(
    "config",
    [
        {"ENGINE": SQLITE, "NAME": "site.db", "OPTIONS": RECOMMENDED},
        {
            "ENGINE": SQLITE,
            "NAME": "site.db",
            "OPTIONS": {
                "transaction_mode": "exclusive",
                "timeout": 5,
                "init_command": "pragma journal_mode = wal",
            },
        },
        {"ENGINE": SQLITE, "NAME": ":memory:"},
        {"ENGINE": SQLITE, "NAME": "file:memorydb_default?mode=memory&cache=shared"},
        {"ENGINE": "django.db.backends.postgresql", "NAME": "site"},
    ],
)
def test_configured_in_memory_or_other_engines_pass(config: dict[str, Any]) -> None:
    assert sqlite_warnings(default=config) == []
