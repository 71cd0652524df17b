"""Fixtures of the Celery tests: a real worker process on Redis, sharing the test database.

README: how the worker is started
---------------------------------
Tests marked ``celery`` run only when ``BABYSEA_TEST_CELERY=1``; otherwise they are skipped with
that reason. They need PostgreSQL (``BABYSEA_TEST_DATABASE_URL``: an in-memory SQLite database
cannot be shared with another process) and Redis (``BABYSEA_TEST_BROKER_URL``, default
``redis://127.0.0.1:6379/15``). When the environment asks for them and either is missing or
unreachable, the tests fail; they are never skipped then.

The session fixture ``celery_worker``:

1. waits for pytest-django to create the test database (``test_<name>``) and reads its real name;
2. starts a session sandbox (``Sandbox(speed=0, webhook_speed=0, rate_limit=1_000_000)``);
3. starts ``python -m celery -A tests.celery.app worker --pool=threads`` in a subprocess, with
   ``DJANGO_SETTINGS_MODULE=tests.celery.settings``, ``BABYSEA_TEST_DATABASE_URL`` pointing at
   that test database (the worker never creates or drops it), ``BABYSEA_API_KEY`` and
   ``BABYSEA_BASE_URL`` pointing at the sandbox, ``BABYSEA_TEST_MEDIA_ROOT`` set to the test
   process's ``MEDIA_ROOT`` (output copies the worker stores are readable by the tests), and
   ``-Q`` a queue name unique to this run (the test process sends to the same queue);
4. pings the worker (``app.control.ping``) until it answers;
5. at the end of the session (before the test database is dropped) stops the worker, deletes
   the queue. The worker logs to ``$TMPDIR/babysea-worker-<queue>.log``; the log is shown in the
   report of every failed worker test and kept when something failed, deleted otherwise.

Run them with::

    BABYSEA_TEST_CELERY=1 BABYSEA_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
        .venv/bin/pytest tests/celery
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from tests.celery.app import BROKER_URL, app

ROOT = Path(__file__).resolve().parents[2]
WANTED = os.environ.get("BABYSEA_TEST_CELERY") == "1"
READY_TIMEOUT = 30.0
#: The log of this session's worker, attached to the report of every failed worker test.
LOGS: list[Path] = []


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if WANTED:
        return
    skip = pytest.mark.skip(
        reason="needs a Celery worker on Redis and PostgreSQL: set BABYSEA_TEST_CELERY=1 "
        "and BABYSEA_TEST_DATABASE_URL (see tests/celery/conftest.py)"
    )
    for item in items:
        if item.get_closest_marker("celery"):
            item.add_marker(skip)


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    queue: str
    hostname: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def _database_url(settings_dict: dict[str, Any]) -> str:
    user = quote(str(settings_dict.get("USER") or ""))
    password = settings_dict.get("PASSWORD")
    auth = f"{user}:{quote(str(password))}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{quote(str(settings_dict['NAME']))}"


def _check_redis() -> None:
    import redis

    try:
        redis.Redis.from_url(BROKER_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        pytest.fail(f"BABYSEA_TEST_CELERY=1 but Redis at {BROKER_URL} is unreachable: {exc}")


def _delete_queue(queue: str) -> None:
    import redis

    client = redis.Redis.from_url(BROKER_URL)
    with app.connection_for_write() as conn:
        conn.default_channel.queue_delete(queue)
    for key in client.scan_iter(match=f"_kombu.binding*.{queue}"):
        client.delete(key)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)  # warm shutdown: finish the current task
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def celery_worker(
    request: pytest.FixtureRequest,
    django_db_setup: None,
    django_db_blocker: Any,
    babysea_sandbox_session: Any,
) -> Iterator[Worker]:
    """A worker consuming this session's queue, on the test database."""
    if not WANTED:
        pytest.skip("BABYSEA_TEST_CELERY is not 1")
    if connection.vendor != "postgresql":
        pytest.fail(
            "BABYSEA_TEST_CELERY=1 needs BABYSEA_TEST_DATABASE_URL (PostgreSQL): the worker "
            f"process cannot share a {connection.vendor} test database"
        )
    with django_db_blocker.unblock():
        connection.ensure_connection()  # fails the session when PostgreSQL is unreachable
    _check_redis()

    queue = f"django-babysea-tests-{uuid.uuid4().hex[:10]}"
    hostname = f"{queue}@tests"
    log = Path(tempfile.gettempdir()) / f"babysea-worker-{queue}.log"
    sandbox = babysea_sandbox_session
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.celery.settings",
        "BABYSEA_TEST_DATABASE_URL": _database_url(connection.settings_dict),
        "BABYSEA_TEST_BROKER_URL": BROKER_URL,
        "BABYSEA_TEST_CELERY_QUEUE": queue,
        "BABYSEA_API_KEY": sandbox.api_key,
        "BABYSEA_BASE_URL": sandbox.url,
        "BABYSEA_TEST_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "PYTHONUNBUFFERED": "1",
    }
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "tests.celery.app",
        "worker",
        "--pool=threads",
        "--concurrency=4",
        "--without-gossip",
        "--without-mingle",
        "--loglevel=INFO",
        "-Q",
        queue,
        "-n",
        hostname,
    ]
    app.conf.task_default_queue = queue
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    worker = Worker(process, queue, hostname, log)
    LOGS.append(log)
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while not app.control.ping(destination=[worker.hostname], timeout=0.5):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"the Celery worker did not come up ({process.poll()=}):\n{worker.output()}"
                )
        yield worker
    finally:
        _stop(process)
        _delete_queue(queue)
        if request.session.testsfailed:
            sys.stderr.write(f"\nCelery worker log kept in {log}\n")
        else:
            log.unlink(missing_ok=True)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.failed and item.get_closest_marker("celery"):
        for path in LOGS:
            if path.exists():
                report.sections.append(
                    (f"Celery worker log {path}", path.read_text(errors="replace"))
                )
    return report
