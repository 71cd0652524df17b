"""``JOB_BACKEND = "tasks"``: dispatch enqueues on Django's Tasks framework after the commit.

The dummy backend keeps what was enqueued without running it; the immediate backend runs each
task in this process as it is enqueued, through the framework's own machinery.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.test import override_settings
from django.utils.module_loading import import_string

from django_babysea import tasks_framework
from django_babysea.conf import babysea_settings
from django_babysea.services import dispatch
from tests.settings import BABYSEA

from . import jobs
from .conftest import forget
from .frameworks import FRAMEWORK, QUEUE, tasks_setting

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("test_jobs")]


def on_tasks(backend: str, **babysea: Any) -> override_settings:
    return override_settings(
        BABYSEA={**BABYSEA, "JOB_BACKEND": "tasks", **babysea},
        TASKS=tasks_setting(backend, QUEUES=["default", QUEUE]),
    )


@pytest.fixture
def enqueued() -> Iterator[list[Any]]:
    """What the dummy backend received (the framework's ``default_task_backend.results``)."""
    with on_tasks("dummy"):
        backend = import_string(f"{FRAMEWORK}.default_task_backend")
        yield backend.results


def chosen(**babysea: Any) -> tuple[str, bool]:
    """``(JOB_BACKEND, USE_CELERY)`` as the app reads them with ``babysea`` set."""
    with override_settings(BABYSEA={**BABYSEA, **babysea}):
        return babysea_settings.JOB_BACKEND, babysea_settings.USE_CELERY


def test_the_setting_selects_the_backend() -> None:
    assert chosen() == ("inline", False)
    assert chosen(USE_CELERY=True) == ("celery", True)
    assert chosen(JOB_BACKEND="celery") == ("celery", True)  # the shorthand follows
    assert chosen(JOB_BACKEND="tasks") == ("tasks", False)
    assert chosen(JOB_BACKEND="inline") == ("inline", False)
    assert babysea_settings.TASKS_QUEUE == "default"


def test_a_job_is_enqueued_after_the_commit_only(enqueued: list[Any]) -> None:
    with transaction.atomic():
        dispatch.run_later(jobs.RECORDING, "a", "b")
        assert enqueued == []  # not before the commit
    [result] = enqueued
    assert result.task.name == jobs.RECORDING
    assert result.task.module_path == f"django_babysea.tasks_framework.{jobs.RECORDING}"
    assert result.args == ["a", "b"]
    assert result.task.queue_name == "default"
    assert jobs.CALLS == []  # queued, not run here

    def queue_then_roll_back() -> None:
        with transaction.atomic():
            dispatch.run_later(jobs.RECORDING, "rolled back")
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        queue_then_roll_back()
    assert len(enqueued) == 1


def test_the_queue_is_read_when_enqueuing(enqueued: list[Any]) -> None:
    with override_settings(BABYSEA={**BABYSEA, "JOB_BACKEND": "tasks", "TASKS_QUEUE": QUEUE}):
        dispatch.run_later(jobs.RECORDING, "x")
    assert [result.task.queue_name for result in enqueued] == [QUEUE]


def test_the_copy_job_a_success_queues_is_a_task(enqueued: list[Any]) -> None:
    dispatch.run_later("copy_outputs", "42")
    [result] = enqueued
    assert result.task is not None
    assert result.task.name == "copy_outputs"
    assert import_string(result.task.module_path).func is tasks_framework.copy_outputs.func


def test_enqueued_jobs_are_not_held_until_the_response(enqueued: list[Any]) -> None:
    # The after-response deferral is for inline jobs; enqueued ones are handed over at commit.
    dispatch.defer_until_response_sent()
    try:
        dispatch.run_later(jobs.RECORDING, "now")
        assert len(enqueued) == 1
        assert dispatch._after_response.jobs == []
    finally:
        del dispatch._after_response.jobs


def test_the_immediate_backend_runs_the_job_and_drops_its_return_value(
    finished: list[Any],
) -> None:
    with on_tasks("immediate"):
        dispatch.run_later(jobs.RECORDING, "ran")
    assert jobs.CALLS == [("ran",)]
    [result] = finished
    # The job returned a list of objects: the task returns nothing, so nothing to serialise.
    assert result.status == "SUCCESSFUL"
    assert result.return_value is None


def test_a_failed_job_is_logged_and_recorded(
    finished: list[Any], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, "django_babysea.tasks_framework"), on_tasks("immediate"):
        dispatch.run_later(jobs.FAILING, "disk full")  # the caller never sees the error
    [result] = finished
    assert result.status == "FAILED"
    assert result.errors[0].exception_class_path == "builtins.RuntimeError"
    [record] = [r for r in caplog.records if r.name == "django_babysea.tasks_framework"]
    assert f"django-babysea job {jobs.FAILING}['disk full'] failed" in record.getMessage()
    assert record.exc_info is not None


def test_a_row_gone_since_queued_is_not_a_failure(
    finished: list[Any], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, "django_babysea.tasks_framework"), on_tasks("immediate"):
        dispatch.run_later(jobs.MISSING_ROW, str(uuid.uuid4()))
    [result] = finished
    assert result.status == "SUCCESSFUL"
    assert "nothing to do" in caplog.text


def test_a_job_registered_later_gets_its_task_on_first_use() -> None:
    name = "tasks_tests_registered_late"
    dispatch.register(name, f"{jobs.__name__}.recording")
    try:
        assert name not in tasks_framework.TASKS
        # How a worker finds it: by the path stored with the queued task.
        found = import_string(f"django_babysea.tasks_framework.{name}")
        assert found.name == name
        assert tasks_framework.TASKS[name] is found
    finally:
        forget(name)
    with pytest.raises(ImportError):
        import_string(f"django_babysea.tasks_framework.{name}")


def test_unknown_and_shadowing_job_names_are_refused() -> None:
    with pytest.raises(LookupError):
        tasks_framework.task_for("no_such_job")
    dispatch.register("enqueue", f"{jobs.__name__}.recording")
    try:
        with pytest.raises(ImproperlyConfigured, match="would shadow"):
            tasks_framework.task_for("enqueue")
    finally:
        dispatch.JOBS.pop("enqueue")
    assert tasks_framework.enqueue.__module__ == "django_babysea.tasks_framework"
