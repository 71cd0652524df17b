"""The tasks module without a worker: the registry, the retry policy and the beat schedule."""

from __future__ import annotations

import logging
import subprocess
import sys
from datetime import timedelta

import pytest
from django.db import OperationalError

from django_babysea import tasks
from django_babysea.celery_schedule import beat_schedule
from django_babysea.client.errors import (
    APIError,
    NetworkError,
    RequestTimeoutError,
    ResponseValidationError,
)
from django_babysea.services import dispatch
from tests.celery import jobs
from tests.celery.app import app


def api_error(*, retryable: bool, retry_after: float | None = None) -> APIError:
    return APIError(
        status=503 if retryable else 400,
        code="BSE5001" if retryable else "BSE2001",
        type="server_error" if retryable else "invalid_request",
        message="test",
        retryable=retryable,
        retry_after=retry_after,
    )


def test_every_registered_job_has_a_task() -> None:
    tasks.sync_tasks()
    assert set(dispatch.JOBS) <= set(tasks.TASKS)
    for job, task in tasks.TASKS.items():
        assert task.name == f"django_babysea.{job}" == dispatch.TASK_PREFIX + job
        assert task.name in app.tasks  # autodiscovery finds them under the names send_task uses


def test_every_task_has_a_registered_job() -> None:
    assert set(tasks.TASKS) == set(dispatch.JOBS)
    assert set(tasks.KNOWN_JOBS) <= set(dispatch.JOBS)


def test_a_job_registered_later_gets_its_task(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(dispatch.JOBS, "celery_tests_late", f"{jobs.__name__}.flaky")
    monkeypatch.setattr(tasks, "TASKS", dict(tasks.TASKS))
    assert tasks.sync_tasks()["celery_tests_late"].name == "django_babysea.celery_tests_late"


def test_task_options() -> None:
    for task in tasks.TASKS.values():
        assert task.acks_late is True
        assert task.max_retries == 5 or task.name == jobs.task_name(jobs.ALWAYS_FAILING)
        assert task.retry_jitter is True


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (NetworkError(ConnectionResetError(), attempts=1, retryable=True), True),
        (NetworkError(ConnectionResetError(), attempts=1, retryable=False), True),
        (RequestTimeoutError(30), True),
        (ResponseValidationError("not a UUID", where="data.generation_id"), True),
        (OperationalError("server closed the connection"), True),
        (api_error(retryable=True), True),
        (api_error(retryable=False), False),
        (ValueError("bug"), False),
    ],
)
def test_is_retryable(exc: BaseException, expected: bool) -> None:
    assert tasks.is_retryable(exc) is expected


def test_retry_countdown_backs_off_exponentially_with_jitter() -> None:
    for retries, bound in ((0, 2), (1, 4), (3, 16), (12, 600)):
        waits = [
            tasks.retry_countdown(retries, backoff=2, maximum=600, jitter=True, exc=None)
            for _ in range(200)
        ]
        assert all(0 <= wait <= bound for wait in waits)
        assert len(set(waits)) > 1
        assert tasks.retry_countdown(retries, backoff=2, maximum=600, jitter=False, exc=None) == (
            bound
        )


def test_retry_countdown_waits_at_least_retry_after() -> None:
    exc = api_error(retryable=True, retry_after=30)
    assert tasks.retry_countdown(0, backoff=2, maximum=600, jitter=True, exc=exc) == 30


@pytest.mark.django_db
def test_a_missing_row_is_logged_and_the_task_succeeds(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "django_babysea.tasks")
    result = tasks.TASKS["process_delivery"].apply(args=[987654321])
    assert result.successful()
    assert result.result is None
    assert "django_babysea.process_delivery[987654321]" in caplog.text


def test_a_non_retryable_error_fails_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(dispatch.JOBS, "celery_tests_broken", "builtins.int")
    monkeypatch.setattr(tasks, "TASKS", dict(tasks.TASKS))
    result = tasks.sync_tasks()["celery_tests_broken"].apply(args=["not a number"])
    assert result.failed()
    assert isinstance(result.result, ValueError)
    assert result.traceback


def test_beat_schedule_defaults() -> None:
    schedule = beat_schedule()
    assert schedule == {
        "django-babysea-poll": {
            "task": "django_babysea.poll_generations",
            "schedule": timedelta(seconds=60),
            "options": {"expires": 60.0},
        },
        "django-babysea-copy": {
            "task": "django_babysea.copy_pending_outputs",
            "schedule": timedelta(minutes=5),
            "options": {"expires": 300.0},
        },
        "django-babysea-sync": {
            "task": "django_babysea.sync_generations",
            "schedule": timedelta(hours=1),
            "options": {"expires": 3600.0},
        },
        "django-babysea-purge": {
            "task": "django_babysea.purge",
            "schedule": timedelta(days=1),
            "options": {"expires": 86400.0},
        },
    }
    for entry in schedule.values():
        assert entry["task"] in app.tasks


def test_beat_schedule_overrides() -> None:
    from celery.schedules import crontab

    nightly = crontab(hour=3, minute=30)
    schedule = beat_schedule(
        poll=15, copy=timedelta(minutes=1), sync=None, purge=nightly, queue="babysea", prefix="site"
    )
    assert schedule == {
        "site-poll": {
            "task": "django_babysea.poll_generations",
            "schedule": 15,
            "options": {"expires": 15.0, "queue": "babysea"},
        },
        "site-copy": {
            "task": "django_babysea.copy_pending_outputs",
            "schedule": timedelta(minutes=1),
            "options": {"expires": 60.0, "queue": "babysea"},
        },
        "site-purge": {
            "task": "django_babysea.purge",
            "schedule": nightly,
            "options": {"queue": "babysea"},
        },
    }
    app.conf.beat_schedule = {} | schedule  # what a site writes
    assert set(app.conf.beat_schedule) == {"site-poll", "site-copy", "site-purge"}


def test_beat_schedule_every_entry_can_be_left_out() -> None:
    assert beat_schedule(poll=None, copy=None, sync=None, purge=None) == {}
    assert set(beat_schedule(copy=None)) == {
        "django-babysea-poll",
        "django-babysea-sync",
        "django-babysea-purge",
    }


def test_the_copy_jobs_have_tasks() -> None:
    assert {"copy_outputs", "copy_pending_outputs"} <= set(tasks.KNOWN_JOBS)
    assert tasks.copy_outputs is tasks.TASKS["copy_outputs"]
    assert tasks.copy_outputs.name == "django_babysea.copy_outputs"
    assert tasks.copy_pending_outputs.name == "django_babysea.copy_pending_outputs"
    assert dispatch.JOBS["copy_outputs"].endswith("outputs.copy_outputs")
    assert dispatch.JOBS["copy_pending_outputs"].endswith("outputs.copy_pending_outputs")


def test_the_app_imports_without_celery() -> None:
    """Only Celery and the site import ``django_babysea.tasks``: the app works without it."""
    code = """
import sys
sys.modules["celery"] = None  # as if it were not installed
import django
django.setup()
import django_babysea, django_babysea.services, django_babysea.celery_schedule, django_babysea.urls
from django_babysea.celery_schedule import beat_schedule
assert beat_schedule()
try:
    import django_babysea.tasks
except ImportError:
    print("ok")
"""
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=False,
        env={"DJANGO_SETTINGS_MODULE": "tests.settings", "PATH": ""},
        cwd=str(__import__("pathlib").Path(__file__).resolve().parents[2]),
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
