"""Where slow work runs: on a Celery worker when ``BABYSEA["USE_CELERY"]`` is on, inline otherwise.

Services name the work by a registered job name and its primary keys; they never import the Celery
tasks (entry points sit above services). Work is always started after the surrounding transaction
commits, so a worker can never look for a row that is not visible yet, and a rolled-back request
queues nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Final

from django.db import transaction
from django.utils.module_loading import import_string

from django_babysea.conf import babysea_settings

logger = logging.getLogger("django_babysea.dispatch")

#: Job name -> the service function that does the work (dotted path, imported on first use).
#: The Celery task of the same name (``django_babysea.<job>``) calls the same function.
JOBS: Final[dict[str, str]] = {}

TASK_PREFIX: Final = "django_babysea."


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

    With Celery the job is queued as the task ``django_babysea.<name>``; without it, the service
    runs in this process right after the commit (or at once outside a transaction). Arguments must
    be JSON-serialisable primary keys or plain values.
    """
    job(name)  # fail fast on a typo, not later on a worker
    transaction.on_commit(lambda: _start(name, args), robust=False)


def _start(name: str, args: tuple[Any, ...]) -> None:
    if babysea_settings.USE_CELERY:
        from celery import current_app

        current_app.send_task(TASK_PREFIX + name, args=list(args))
        logger.debug("queued %s%s", TASK_PREFIX + name, args)
        return
    job(name)(*args)
