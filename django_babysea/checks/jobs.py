"""Checks of where jobs run: ``USE_CELERY``, ``JOB_BACKEND`` and ``TASKS_QUEUE``
(E008, E009, E013, W007)."""

from __future__ import annotations

from collections.abc import Mapping
from importlib import import_module
from types import ModuleType
from typing import Any

from django.core.checks import CheckMessage, Tags, Warning, register
from django.utils.module_loading import import_string

from django_babysea.conf import JOB_BACKENDS, babysea_settings

from .base import TAG, error, setting_name, settings_is_dict

TASKS_HINT = 'Django 6 has it built in; on Django 5.2: pip install "django-babysea[tasks]"'


@register(Tags.compatibility, TAG)
def check_jobs(**kwargs: Any) -> list[CheckMessage]:
    if not settings_is_dict():
        return []
    messages = _check_types()
    if messages:
        return messages
    use_celery, backend = babysea_settings.get("USE_CELERY"), babysea_settings.get("JOB_BACKEND")
    if use_celery and backend not in (None, "celery"):
        return [
            error(
                "JOB_BACKEND",
                f"is {backend!r} but USE_CELERY is on.",
                "USE_CELERY is the shorthand for JOB_BACKEND 'celery': leave it out.",
                13,
            )
        ]
    key = "USE_CELERY" if backend is None else "JOB_BACKEND"
    if babysea_settings.JOB_BACKEND == "celery":
        return _check_celery(key)
    if babysea_settings.JOB_BACKEND == "tasks":
        return _check_tasks()
    return []


def _check_types() -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    if not isinstance(babysea_settings.get("USE_CELERY"), bool):
        messages.append(error("USE_CELERY", "must be True or False.", None, 8))
    backend = babysea_settings.get("JOB_BACKEND")
    if backend is not None and backend not in JOB_BACKENDS:
        expected = ", ".join(repr(name) for name in JOB_BACKENDS)
        messages.append(
            error(
                "JOB_BACKEND",
                f"is {backend!r}; expected one of {expected}, or None to follow USE_CELERY.",
                None,
                8,
            )
        )
    queue = babysea_settings.get("TASKS_QUEUE")
    if not isinstance(queue, str) or not queue:
        messages.append(error("TASKS_QUEUE", f"is {queue!r}; expected a queue name.", None, 8))
    return messages


def _module(name: str) -> ModuleType | None:
    try:
        return import_module(name)
    except ImportError:
        return None


def _check_celery(key: str) -> list[CheckMessage]:
    if _module("celery") is not None:
        return []
    what = "is on" if key == "USE_CELERY" else "is 'celery'"
    hint = 'pip install "django-babysea[celery]"'
    return [error(key, f"{what} but Celery is not installed.", hint, 9)]


def tasks_framework() -> ModuleType | None:
    """The Tasks framework: ``django.tasks`` (Django 6), else the ``django_tasks`` backport."""
    return _module("django.tasks") or _module("django_tasks")


def _check_tasks() -> list[CheckMessage]:
    framework = tasks_framework()
    if framework is None:
        msg = "is 'tasks' but no Tasks framework is installed."
        return [error("JOB_BACKEND", msg, TASKS_HINT, 9)]
    # The framework's own view of TASKS, with its default (the immediate backend) filled in.
    configured: Mapping[str, Any] = framework.task_backends.settings
    params = configured.get("default")
    if not isinstance(params, Mapping):
        msg = "is 'tasks' but TASKS has no 'default' backend."
        return [error("JOB_BACKEND", msg, None, 13)]
    queues = params.get("QUEUES", ["default"])
    queue = babysea_settings.TASKS_QUEUE
    if queues and queue not in queues:
        msg = f"is {queue!r}, which TASKS['default'] does not accept (QUEUES {list(queues)!r})."
        return [error("TASKS_QUEUE", msg, "Add it to QUEUES, or pick one of them.", 13)]
    return _check_backend_runs_jobs(framework.__name__, str(params.get("BACKEND", "")))


def _check_backend_runs_jobs(framework: str, path: str) -> list[CheckMessage]:
    try:
        backend = import_string(path)
        immediate = import_string(f"{framework}.backends.immediate.ImmediateBackend")
        dummy = import_string(f"{framework}.backends.dummy.DummyBackend")
    except ImportError:
        return []  # the framework's own checks report a backend that cannot be imported
    if not isinstance(backend, type):
        return []
    if issubclass(backend, immediate):
        problem = "runs every job in the web process, inside the request that queued it"
    elif issubclass(backend, dummy):
        problem = "never runs a job"
    else:
        return []
    return [
        Warning(
            f"{setting_name('JOB_BACKEND')} is 'tasks' but TASKS['default'] is the "
            f"{backend.__name__}, which {problem}.",
            hint="Configure a backend with workers (e.g. django_tasks_db.DatabaseBackend), "
            "or leave JOB_BACKEND out to copy outputs after the response.",
            id="django_babysea.W007",
        )
    ]
