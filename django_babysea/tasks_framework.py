"""Django's Tasks framework: one task per dispatch job, for ``BABYSEA["JOB_BACKEND"] = "tasks"``.

The tasks are defined with ``django.tasks.task`` on Django 6 and with the ``django-tasks``
backport's ``django_tasks.task`` on Django 5.2; everything else (the ``TASKS`` setting, its
backends, their workers) is the framework's own. Each task has the job's name (``copy_outputs``,
``send_generation``, ...) and is an attribute of this module, which is how a worker finds it
again: the database backend stores ``django_babysea.tasks_framework.<job>`` with the row.

:func:`django_babysea.services.dispatch.run_later` enqueues through :func:`enqueue` once the
transaction commits, on the queue ``BABYSEA["TASKS_QUEUE"]``. Tasks are thin, like the Celery
ones: they take primary keys or plain values and call one service. The framework has no retries:
a failed job is logged here and recorded as ``FAILED`` by the backend, and the periodic work
(``babysea_poll``, ``babysea_copy_outputs``) repairs what it left (an unsent generation, an
output not copied yet). A row deleted since the job was queued is logged and the task succeeds.

Only dispatch (when the backend is ``"tasks"``), a worker or the site imports this module;
importing :mod:`django_babysea` never does. Jobs registered later get their task on first use.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Final

from django.core.exceptions import ImproperlyConfigured, ObjectDoesNotExist

import django_babysea.services  # noqa: F401  (importing the services registers their jobs)
from django_babysea.conf import babysea_settings
from django_babysea.services import dispatch

try:  # Built in since Django 6.0.
    from django.tasks import task as _task  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # Django 5.2: the backport, same API.
    from django_tasks import task as _task  # type: ignore[no-redef,unused-ignore]

__all__ = ["TASKS", "enqueue", "sync_tasks", "task_for"]

logger = logging.getLogger("django_babysea.tasks_framework")

#: Job name -> its task (a ``Task`` of the framework).
TASKS: Final[dict[str, Any]] = {}


def _run(job: str, args: tuple[Any, ...]) -> None:
    try:
        dispatch.job(job)(*args)
    except ObjectDoesNotExist as exc:
        # Deleted or purged since it was queued: nothing left to do.
        logger.warning("django-babysea job %s%s: %s; nothing to do.", job, list(args), exc)
    except Exception:
        # No retry here: the backend records the failure, and the periodic sweeps (poll,
        # copy) pick up whatever the job left undone.
        logger.exception("django-babysea job %s%s failed.", job, list(args))
        raise


def _make_task(job: str) -> Any:
    def run(*args: Any) -> None:
        _run(job, args)

    # A worker imports a task by module and qualified name: make this the module's ``job``.
    run.__name__ = run.__qualname__ = job
    run.__module__ = __name__
    run.__doc__ = f"Run the django-babysea job {job!r} on a Tasks framework worker."
    decorate: Callable[[Callable[..., None]], Any] = _task(queue_name=babysea_settings.TASKS_QUEUE)
    return decorate(run)


def sync_tasks() -> dict[str, Any]:
    """Make sure every registered job has its task (an attribute of this module); return all.

    Called on import, and on first use of a job registered afterwards.
    """
    namespace = globals()
    for job in dispatch.JOBS:
        if job in TASKS:
            continue
        if job in namespace:
            raise ImproperlyConfigured(
                f"the django-babysea job {job!r} would shadow {__name__}.{job}; rename the job."
            )
        TASKS[job] = namespace[job] = _make_task(job)
    return TASKS


def task_for(job: str) -> Any:
    """The task of the job ``job`` (a ``LookupError`` for an unknown name)."""
    if job not in TASKS:
        dispatch.job(job)  # raises LookupError for a name nobody registered
        sync_tasks()
    return TASKS[job]


def enqueue(job: str, args: tuple[Any, ...]) -> Any:
    """Enqueue the job ``job`` with ``args`` on ``BABYSEA["TASKS_QUEUE"]``; return the result
    handle of the framework (a ``TaskResult``)."""
    queued = task_for(job).using(queue_name=babysea_settings.TASKS_QUEUE)
    result = queued.enqueue(*args)
    logger.debug("enqueued %s%s as task %s", job, list(args), result.id)
    return result


def __getattr__(name: str) -> Any:
    # A worker looking up a job registered after this module was imported (PEP 562).
    if name in dispatch.JOBS:
        return task_for(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


sync_tasks()

send_generation = TASKS["send_generation"]
refresh_generation = TASKS["refresh_generation"]
poll_generations = TASKS["poll_generations"]
resend_generations = TASKS["resend_generations"]
sync_generations = TASKS["sync_generations"]
purge = TASKS["purge"]
process_delivery = TASKS["process_delivery"]
copy_outputs = TASKS["copy_outputs"]
copy_pending_outputs = TASKS["copy_pending_outputs"]
