"""Where slow work runs, by ``BABYSEA["JOB_BACKEND"]``: inline in this process (the default), on
a Celery worker (``"celery"``, or ``USE_CELERY`` for short) or on Django's Tasks framework
(``"tasks"``: ``django.tasks`` on Django 6, the ``django-tasks`` backport on 5.2).

Services name the work by a registered job name and its primary keys; they never import the Celery
tasks or the Tasks framework's (entry points sit above services). Work is always started after the
surrounding transaction commits, so a worker can never look for a row that is not visible yet, and
a rolled-back request queues nothing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Final

from django.core.signals import request_finished
from django.db import close_old_connections, transaction
from django.utils.module_loading import import_string

from django_babysea.conf import babysea_settings

logger = logging.getLogger("django_babysea.dispatch")

#: Job name -> the service function that does the work (dotted path, imported on first use).
#: The Celery task of the same name (``django_babysea.<job>``) calls the same function.
JOBS: Final[dict[str, str]] = {}

TASK_PREFIX: Final = "django_babysea."

#: The Tasks framework's side of the registry (an entry point: looked up by path, never imported
#: here, as Celery's tasks are looked up by name).
TASKS_FRAMEWORK_ENQUEUE: Final = "django_babysea.tasks_framework.enqueue"


def register(name: str, target: str) -> None:
    """Register ``target`` (a dotted path to a service function) as the job ``name``."""
    JOBS[name] = target


def job(name: str) -> Callable[..., Any]:
    try:
        target = JOBS[name]
    except KeyError:
        raise LookupError(f"no django-babysea job named {name!r}") from None
    function: Callable[..., Any] = import_string(target)
    return function


def run_later(name: str, *args: Any) -> None:
    """Run the job ``name`` with ``args`` once the current transaction commits.

    With Celery the job is queued as the task ``django_babysea.<name>``; with the Tasks
    framework it is enqueued as the task ``<name>`` of :mod:`django_babysea.tasks_framework`;
    inline, the service runs in this process right after the commit (or at once outside a
    transaction). Arguments must be JSON-serialisable primary keys or plain values.
    """
    job(name)  # fail fast on a typo, not later on a worker
    transaction.on_commit(lambda: _start(name, args), robust=False)


def _start(name: str, args: tuple[Any, ...]) -> None:
    backend = babysea_settings.JOB_BACKEND
    if backend == "celery":
        from celery import current_app

        current_app.send_task(TASK_PREFIX + name, args=list(args))
        logger.debug("queued %s%s", TASK_PREFIX + name, args)
        return
    if backend == "tasks":
        import_string(TASKS_FRAMEWORK_ENQUEUE)(name, args)
        return
    deferred: list[tuple[str, tuple[Any, ...]]] | None = getattr(_after_response, "jobs", None)
    if deferred is not None:
        deferred.append((name, args))
        return
    job(name)(*args)


_after_response = threading.local()


def runs_inline_now() -> bool:
    """Whether a job started in this thread, outside any transaction, would run here and now:
    the inline backend, and no view asked for jobs to wait until its response is sent."""
    if babysea_settings.JOB_BACKEND in ("celery", "tasks"):
        return False
    return getattr(_after_response, "jobs", None) is None


def defer_until_response_sent() -> None:
    """Run the inline jobs this thread starts from now on only after the current response has
    been sent (on ``request_finished``), not at commit.

    For views that must answer quickly: the webhook view calls it, so copying a large output
    never holds BabySea's delivery past its 10 s timeout. Jobs queued on Celery or the Tasks
    framework are unaffected: they are handed over at commit, and a worker runs them.
    """
    _after_response.jobs = []


def _run_after_response(**kwargs: Any) -> None:
    jobs: list[tuple[str, tuple[Any, ...]]] | None = getattr(_after_response, "jobs", None)
    if jobs is None:
        return
    del _after_response.jobs
    for name, args in jobs:
        try:
            job(name)(*args)
        except Exception:
            # The response is gone: nobody else can hear of it, and the sweep retries.
            logger.exception("django-babysea job %s%s failed after the response", name, args)
    if jobs:
        close_old_connections()


request_finished.connect(_run_after_response, dispatch_uid="django_babysea.after_response")
