"""Celery tasks: one per dispatch job, named ``django_babysea.<job name>``.

:func:`django_babysea.services.dispatch.run_later` queues work by that name with
``send_task``, so this module is the worker's side of the same registry: for every job in
:data:`~django_babysea.services.dispatch.JOBS` (and for the jobs the services are known to
register) there is a task that looks the job up at call time and runs it. Tasks are thin: they
take primary keys or plain values, call one service, and add only what a queue needs on top:

- ``acks_late``: the message is acknowledged after the job ran, so a worker lost mid-job
  leaves it to be delivered again (the services are idempotent: running twice is safe);
- retries with exponential backoff and full jitter on transient failures: whatever the
  services call retryable (:func:`django_babysea.services.sending.is_retryable`: the
  client's ``NetworkError``, ``RequestTimeoutError``, ``ResponseValidationError`` and an
  ``APIError`` whose ``retryable`` is true, waiting at least its ``Retry-After``) and
  :class:`django.db.OperationalError`;
- a row that no longer exists (deleted or purged meanwhile) is logged and the task succeeds.

Only Celery (autodiscovery) or the site imports this module; importing :mod:`django_babysea`
never does, so the app works without Celery installed. Jobs registered after this module was
imported get their task from :func:`sync_tasks`.
"""

from __future__ import annotations

import logging
import random
from typing import Any, Final

from celery import shared_task
from django.core.exceptions import ObjectDoesNotExist
from django.db import OperationalError

import django_babysea.services  # noqa: F401  (importing the services registers their jobs)
from django_babysea.client.errors import APIError
from django_babysea.services import dispatch
from django_babysea.services.sending import is_retryable as _service_retryable

__all__ = [
    "KNOWN_JOBS",
    "RETRY_POLICY",
    "TASKS",
    "is_retryable",
    "retry_countdown",
    "sync_tasks",
    "task_name",
]

logger = logging.getLogger("django_babysea.tasks")

#: Jobs the services register; their tasks exist even before (or without) the registration,
#: so a worker started from an older import order still knows the names ``run_later`` sends.
KNOWN_JOBS: Final = (
    "send_generation",
    "refresh_generation",
    "poll_generations",
    "resend_generations",
    "sync_generations",
    "purge",
    "process_delivery",
    "copy_outputs",
    "copy_pending_outputs",
)

#: Options of every task. The retry numbers are Celery's own task attributes, so a site can
#: change them per task with ``task_annotations``, e.g.
#: ``app.conf.task_annotations = {"django_babysea.send_generation": {"max_retries": 8}}``.
RETRY_POLICY: Final[dict[str, Any]] = {
    "acks_late": True,
    "max_retries": 5,
    "retry_backoff": 2,  # seconds before the first retry (upper bound, with full jitter)
    "retry_backoff_max": 600,
    "retry_jitter": True,
}

#: Job name -> its Celery task.
TASKS: Final[dict[str, Any]] = {}


def task_name(job: str) -> str:
    return dispatch.TASK_PREFIX + job


def is_retryable(exc: BaseException) -> bool:
    """Whether running the job again later may succeed where it just failed: a database hiccup,
    or a BabySea failure the services call retryable (one rule for inline and queued sends)."""
    return isinstance(exc, OperationalError) or _service_retryable(exc)


def retry_countdown(
    retries: int, *, backoff: float, maximum: float, jitter: bool, exc: BaseException | None
) -> float:
    """Seconds before retry number ``retries + 1``: ``backoff * 2**retries`` capped at
    ``maximum``, drawn uniformly below that bound when ``jitter`` is on (so a burst of failed
    tasks does not come back at the same moment), and never less than an API ``Retry-After``."""
    bound = min(float(maximum), float(backoff) * 2.0**retries)
    countdown = random.uniform(0.0, bound) if jitter else bound
    if isinstance(exc, APIError) and exc.retry_after is not None:
        countdown = max(countdown, float(exc.retry_after))
    return countdown


def _run(task: Any, job: str, args: tuple[Any, ...]) -> None:
    try:
        dispatch.job(job)(*args)
    except ObjectDoesNotExist as exc:
        # Deleted or purged since it was queued: nothing left to do, and not worth a retry.
        logger.warning("%s%s: %s; nothing to do.", task_name(job), list(args), exc)
    except Exception as exc:
        if not is_retryable(exc):
            raise
        retries, limit = task.request.retries, task.max_retries
        if limit is not None and retries >= limit:
            logger.error(
                "%s%s failed %d times; giving up.", task_name(job), list(args), retries + 1
            )
            raise
        countdown = retry_countdown(
            retries,
            backoff=task.retry_backoff,
            maximum=task.retry_backoff_max,
            jitter=task.retry_jitter,
            exc=exc,
        )
        logger.warning(
            "%s%s failed (%s); retry %d of %s in %.1fs.",
            task_name(job),
            list(args),
            exc,
            retries + 1,
            limit,
            countdown,
        )
        raise task.retry(exc=exc, countdown=countdown) from exc


def _make_task(job: str) -> Any:
    def run(self: Any, *args: Any) -> None:
        _run(self, job, args)

    run.__name__ = run.__qualname__ = job
    run.__doc__ = f"Run the django-babysea job {job!r} on a worker."
    return shared_task(bind=True, name=task_name(job), **RETRY_POLICY)(run)


def sync_tasks() -> dict[str, Any]:
    """Make sure every known and every registered job has its task; return them all.

    Called on import; call it again after registering a job later on.
    """
    for job in (*KNOWN_JOBS, *dispatch.JOBS):
        if job not in TASKS:
            TASKS[job] = _make_task(job)
    return TASKS


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
