"""What the submissions and sync benchmarks share: a sandbox in its own process, a database of
their own, Django configured in the benchmark process, and one JSON line of results."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import statistics
import tempfile
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

import httpx

from benchmarks.sandbox_creates import Process, sandbox_command
from benchmarks.webhook_ingest import BenchmarkError, OwnDatabase

__all__ = ["BenchmarkError", "database_url", "emit_json", "median", "own_database", "sandbox"]

ENV: Final = ("BABYSEA_BENCH_DATABASE_URL", "BABYSEA_TEST_DATABASE_URL")
JSON_PREFIX: Final = "json: "


def database_url(given: str | None, name: str) -> str:
    """``--database-url``, else the tests' PostgreSQL URL with the database ``name`` (the tests'
    own database is never touched), else a new SQLite file."""
    if given:
        return given
    for variable in ENV:
        if os.environ.get(variable):
            parts = urlsplit(os.environ[variable])
            return urlunsplit(parts._replace(path=f"/{name}"))
    return f"sqlite:///{tempfile.mkdtemp(prefix='babysea-bench-')}/bench.sqlite3"


@contextlib.contextmanager
def own_database(url: str) -> Iterator[OwnDatabase]:
    try:
        database = OwnDatabase(url)
    except (ValueError, KeyError) as exc:  # dj-database-url's word on a URL it cannot read
        raise BenchmarkError(f"not a database URL: {exc}") from None
    database.create()
    try:
        yield database
    finally:
        database.drop()


@contextlib.contextmanager
def sandbox() -> Iterator[str]:
    """The sandbox in its own process (instant generations, limits out of the way)."""
    process = Process(sandbox_command(0.0))
    try:
        yield process.start()
    finally:
        process.stop()


def configure_django(database: dict[str, Any], sandbox_url: str) -> None:
    import django
    from django.conf import settings
    from django.core.management import call_command

    from django_babysea.sandbox.defaults import DEMO_API_KEY, DEMO_WEBHOOK_SECRET

    options = {"timeout": 30} if "sqlite" in database["ENGINE"] else {}
    settings.configure(
        SECRET_KEY="benchmark-only-not-secret",  # noqa: S106
        USE_TZ=True,
        TIME_ZONE="UTC",
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes", "django_babysea"],
        DATABASES={"default": {**database, "CONN_MAX_AGE": None, "OPTIONS": options}},
        BABYSEA={
            "API_KEY": DEMO_API_KEY,
            "BASE_URL": sandbox_url,
            "WEBHOOK_SECRETS": [DEMO_WEBHOOK_SECRET],
            "USE_CELERY": False,
            "MAX_RETRIES": 0,
        },
        LOGGING_CONFIG=None,
    )
    django.setup()
    call_command("migrate", verbosity=0)


def stop_on_sigterm() -> None:
    """SIGTERM ends a run as Ctrl-C does: the sandbox stopped, the database dropped."""

    def on_term(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)


def median(values: list[float]) -> float:
    return statistics.median(values)


def emit_json(results: dict[str, Any]) -> None:
    """The machine-readable line ``python -m benchmarks`` reads."""
    print(JSON_PREFIX + json.dumps(results, separators=(",", ":")), flush=True)


def run_against_sandbox(
    name: str, given_url: str | None, headline: str, measure: Callable[[str], dict[str, Any]]
) -> dict[str, Any] | int:
    """Run ``measure(sandbox_url)`` with Django configured on the benchmark's own database and
    the sandbox in its own process; its results, or the exit status when it could not run
    (130 interrupted, 1 broken), after one line saying why."""
    stop_on_sigterm()
    try:
        with own_database(database_url(given_url, name)) as database, sandbox() as url:
            configure_django(database.config, url)
            print(f"{headline}, {database.vendor} database, sandbox in its own process", flush=True)
            return measure(url)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        return 130
    except (BenchmarkError, httpx.HTTPError) as exc:
        print(f"error: {exc}", flush=True)
        return 1
