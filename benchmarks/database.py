"""A database of a benchmark's own: created for the run (refusing one that exists), dropped at
the end, on the PostgreSQL server of the environment or in a new SQLite file."""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

__all__ = ["ENV", "BenchmarkError", "OwnDatabase", "database_url", "positive_int"]

ENV: Final = ("BABYSEA_BENCH_DATABASE_URL", "BABYSEA_TEST_DATABASE_URL")


class BenchmarkError(Exception):
    """Something broke: the figures would mean nothing."""


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def database_url(given: str | None, name: str, *, sqlite: bool = False) -> str:
    """``--database-url``, else the benchmark's variable, else the tests' one with the database
    ``name`` (the tests' own database is never touched); else a new SQLite file when ``sqlite``
    allows it."""
    if given:
        return given
    if os.environ.get(ENV[0]):
        return os.environ[ENV[0]]
    if os.environ.get(ENV[1]):
        parts = urlsplit(os.environ[ENV[1]])
        return urlunsplit(parts._replace(path=f"/{name}"))
    if sqlite:
        return f"sqlite:///{tempfile.mkdtemp(prefix='babysea-bench-')}/bench.sqlite3"
    raise BenchmarkError(
        f"no database: pass --database-url postgres://USER@HOST:PORT/{name} or set {ENV[0]}"
    )


class OwnDatabase:
    """A database this run creates (refusing one that exists) and drops at the end."""

    def __init__(self, url: str) -> None:
        import dj_database_url

        self.config: dict[str, Any] = dict(dj_database_url.parse(url))
        self.vendor = "sqlite" if "sqlite" in self.config["ENGINE"] else "postgresql"
        self.name = str(self.config["NAME"])
        self.created = False

    def describe(self) -> str:
        return f"{self.vendor} database {self.name}"

    def _admin(self) -> Any:
        import psycopg

        return psycopg.connect(
            host=self.config.get("HOST") or None,
            port=self.config.get("PORT") or None,
            user=self.config.get("USER") or None,
            password=self.config.get("PASSWORD") or None,
            dbname="postgres",
            autocommit=True,
        )

    def create(self) -> None:
        if self.vendor == "sqlite":
            if self.name in ("", ":memory:") or Path(self.name).exists():
                raise BenchmarkError(f"give a new SQLite file, not {self.name!r}")
        else:
            with self._admin() as admin:
                found = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.name,))
                if found.fetchone():
                    raise BenchmarkError(
                        f"database {self.name} exists; drop it or name another in the URL"
                    )
                admin.execute(f'CREATE DATABASE "{self.name}"')
        self.created = True

    def drop(self) -> None:
        if not self.created:
            return
        from django.conf import settings
        from django.db import connections

        if settings.configured:
            connections.close_all()
        if self.vendor == "sqlite":
            for suffix in ("", "-wal", "-shm", "-journal"):
                with contextlib.suppress(FileNotFoundError):
                    Path(self.name + suffix).unlink()
        else:
            with self._admin() as admin:
                # A server's threads may still hold connections: FORCE ends them.
                admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        self.created = False
