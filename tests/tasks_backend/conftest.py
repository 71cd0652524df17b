"""Fixtures of the Tasks framework tests: settings, test jobs, and a real ``db_worker`` process.

The worker
----------
``db_worker`` (session scope) runs the django-tasks-db worker command as a subprocess::

    python -m django db_worker --queue-name babysea --interval 0.1 --no-startup-delay \
        --worker-id <unique id>

with ``DJANGO_SETTINGS_MODULE=tests.tasks_backend.settings`` (the jobs on the database backend),
``BABYSEA_TEST_DATABASE_URL`` pointing at the test database pytest-django created (the worker
never creates or drops it), ``BABYSEA_API_KEY``/``BABYSEA_BASE_URL`` at the session sandbox and
``BABYSEA_TEST_MEDIA_ROOT`` at this process's ``MEDIA_ROOT``. It needs PostgreSQL: an in-memory
SQLite database cannot be shared with another process, so on SQLite the worker tests are
skipped with that reason, except when ``CI=true`` and ``BABYSEA_TEST_DATABASE_URL`` are set:
then they fail. Its log is attached to the report of a failed worker test.

Run them with::

    BABYSEA_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/babysea_tasks \
        .venv/bin/pytest tests/tasks_backend
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
from importlib import import_module
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from django_babysea.services import dispatch
from django_babysea.tasks_framework import TASKS

from . import jobs
from .frameworks import FRAMEWORK, QUEUE

ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 30.0
#: The log of this session's worker, attached to the report of every failed worker test.
LOGS: list[Path] = []


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    worker_id: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@pytest.fixture
def test_jobs() -> Iterator[None]:
    """Register the jobs of :mod:`tests.tasks_backend.jobs`; unregister them afterwards."""
    dispatch.JOBS.update(jobs.JOBS)
    jobs.CALLS.clear()
    yield
    forget(*jobs.JOBS)


def forget(*names: str) -> None:
    """Unregister jobs and drop their tasks from :mod:`django_babysea.tasks_framework`."""
    module = import_module("django_babysea.tasks_framework")
    for name in names:
        dispatch.JOBS.pop(name, None)
        if TASKS.pop(name, None) is not None:
            delattr(module, name)


@pytest.fixture
def finished() -> Iterator[list[Any]]:
    """Every ``TaskResult`` the framework reports finished (``task_finished``) during the test."""
    results: list[Any] = []
    signal_ = import_module(f"{FRAMEWORK}.signals").task_finished

    def record(sender: Any, task_result: Any, **kwargs: Any) -> None:
        results.append(task_result)

    signal_.connect(record, weak=False, dispatch_uid="tasks-tests-finished")
    yield results
    signal_.disconnect(dispatch_uid="tasks-tests-finished")


def _database_url(settings_dict: dict[str, Any]) -> str:
    user = quote(str(settings_dict.get("USER") or ""))
    password = settings_dict.get("PASSWORD")
    auth = f"{user}:{quote(str(password))}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{quote(str(settings_dict['NAME']))}"


def _require_postgres() -> None:
    if connection.vendor == "postgresql":
        return
    reason = (
        "needs PostgreSQL (BABYSEA_TEST_DATABASE_URL): the db_worker process cannot share "
        f"a {connection.vendor} in-memory test database"
    )
    if os.environ.get("CI") == "true" and os.environ.get("BABYSEA_TEST_DATABASE_URL"):
        pytest.fail(reason)
    pytest.skip(reason)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)  # graceful: finish the current task
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def _wait_until_started(worker: Worker) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while f"Starting worker worker_id={worker.worker_id}" not in worker.output():
        if worker.process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"db_worker did not start ({worker.process.poll()=}):\n{worker.output()}")
        time.sleep(0.05)


@pytest.fixture(scope="session")
def db_worker(
    request: pytest.FixtureRequest,
    django_db_setup: None,
    django_db_blocker: Any,
    babysea_sandbox_session: Any,
) -> Iterator[Worker]:
    """A ``db_worker`` process on the test database, consuming :data:`QUEUE`."""
    _require_postgres()
    with django_db_blocker.unblock():
        connection.ensure_connection()  # fails the session when PostgreSQL is unreachable
    worker_id = f"babysea-tests-{uuid.uuid4().hex[:12]}"
    log = Path(tempfile.gettempdir()) / f"babysea-db-worker-{worker_id}.log"
    sandbox = babysea_sandbox_session
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.tasks_backend.settings",
        "BABYSEA_TEST_DATABASE_URL": _database_url(connection.settings_dict),
        "BABYSEA_API_KEY": sandbox.api_key,
        "BABYSEA_BASE_URL": sandbox.url,
        "BABYSEA_TEST_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "PYTHONUNBUFFERED": "1",
    }
    command = [
        sys.executable,
        "-m",
        "django",
        "db_worker",
        "--queue-name",
        QUEUE,
        "--interval",
        "0.1",
        "--no-startup-delay",
        "--no-reload",
        "--worker-id",
        worker_id,
        "--verbosity",
        "2",
    ]
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    worker = Worker(process, worker_id, log)
    LOGS.append(log)
    try:
        _wait_until_started(worker)
        yield worker
    finally:
        _stop(process)
        if request.session.testsfailed:
            sys.stderr.write(f"\ndb_worker log kept in {log}\n")
        else:
            log.unlink(missing_ok=True)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.failed and "db_worker" in getattr(item, "fixturenames", ()):
        for path in LOGS:
            if path.exists():
                report.sections.append(
                    (f"db_worker log {path}", path.read_text("utf-8", "replace"))
                )
    return report
