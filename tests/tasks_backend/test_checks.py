"""The checks of ``USE_CELERY``, ``JOB_BACKEND`` and ``TASKS_QUEUE``: E008, E009, E013, W007."""

from __future__ import annotations

import sys
from typing import Any

import pytest
from django.test import override_settings

from tests.checks.helpers import babysea_messages

from .frameworks import DATABASE_TASKS, QUEUE, tasks_setting


def messages_on(tasks: dict[str, Any], **babysea: Any) -> dict[str, str]:
    with override_settings(TASKS=tasks):
        return babysea_messages(**babysea)


def test_the_default_and_the_database_backend_pass() -> None:
    assert babysea_messages() == {}
    assert babysea_messages(JOB_BACKEND="inline") == {}
    assert messages_on(DATABASE_TASKS, JOB_BACKEND="tasks") == {}
    assert messages_on(DATABASE_TASKS, JOB_BACKEND="tasks", TASKS_QUEUE=QUEUE) == {}


@pytest.mark.parametrize(
    ("key", "value"),
    [("JOB_BACKEND", "queue"), ("JOB_BACKEND", True), ("TASKS_QUEUE", ""), ("TASKS_QUEUE", 3)],
)
def test_wrong_values(key: str, value: object) -> None:
    messages = babysea_messages(**{key: value})
    assert list(messages) == ["django_babysea.E008"]
    assert messages["django_babysea.E008"].startswith(f"BABYSEA['{key}'] is {value!r}")


def test_use_celery_is_the_shorthand_and_must_agree() -> None:
    assert babysea_messages(USE_CELERY=True, JOB_BACKEND="celery") == {}
    for other in ("inline", "tasks"):
        messages = messages_on(DATABASE_TASKS, USE_CELERY=True, JOB_BACKEND=other)
        assert messages == {
            "django_babysea.E013": f"BABYSEA['JOB_BACKEND'] is {other!r} but USE_CELERY is on."
        }
    assert babysea_messages(USE_CELERY=False, JOB_BACKEND="celery") == {}


def test_the_chosen_backend_must_be_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "celery", None)  # an import of it fails
    assert babysea_messages(USE_CELERY=True) == {
        "django_babysea.E009": "BABYSEA['USE_CELERY'] is on but Celery is not installed."
    }
    assert babysea_messages(JOB_BACKEND="celery") == {
        "django_babysea.E009": "BABYSEA['JOB_BACKEND'] is 'celery' but Celery is not installed."
    }
    monkeypatch.setitem(sys.modules, "django.tasks", None)
    monkeypatch.setitem(sys.modules, "django_tasks", None)
    assert babysea_messages(JOB_BACKEND="tasks") == {
        "django_babysea.E009": "BABYSEA['JOB_BACKEND'] is 'tasks' but no Tasks framework is "
        "installed."
    }
    assert babysea_messages() == {}  # inline needs neither


def test_the_queue_must_be_one_the_backend_accepts() -> None:
    messages = messages_on(DATABASE_TASKS, JOB_BACKEND="tasks", TASKS_QUEUE="images")
    assert list(messages) == ["django_babysea.E013"]
    assert "TASKS_QUEUE'] is 'images'" in messages["django_babysea.E013"]
    assert "['default', 'babysea']" in messages["django_babysea.E013"]
    # No QUEUES at all: the framework accepts only its "default" queue.
    plain = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    assert list(messages_on(plain, JOB_BACKEND="tasks", TASKS_QUEUE=QUEUE)) == [
        "django_babysea.E013"
    ]
    # An empty QUEUES accepts any queue.
    any_queue = {"default": {**plain["default"], "QUEUES": []}}
    assert messages_on(any_queue, JOB_BACKEND="tasks", TASKS_QUEUE="images") == {}


def test_a_default_backend_is_needed() -> None:
    other_alias = {"other": DATABASE_TASKS["default"]}
    assert messages_on(other_alias, JOB_BACKEND="tasks") == {
        "django_babysea.E013": "BABYSEA['JOB_BACKEND'] is 'tasks' but TASKS has no 'default' "
        "backend."
    }


@pytest.mark.parametrize(
    ("backend", "problem"),
    [
        ("immediate", "runs every job in the web process"),
        ("dummy", "never runs a job"),
    ],
)
def test_backends_that_run_no_job_on_a_worker_warn(backend: str, problem: str) -> None:
    messages = messages_on(tasks_setting(backend), JOB_BACKEND="tasks")
    assert list(messages) == ["django_babysea.W007"]
    assert problem in messages["django_babysea.W007"]
    # The test settings have no TASKS: the framework's default is the immediate backend.
    assert list(babysea_messages(JOB_BACKEND="tasks")) == ["django_babysea.W007"]
