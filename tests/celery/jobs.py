"""Jobs registered for the worker tests only; they count their runs in Redis.

The worker imports this module through ``tests.celery.app``'s autodiscovery (after Django is set
up), the test process through the tests; both register the jobs and then make their tasks with
:func:`django_babysea.tasks.sync_tasks`, the way a site registers a job of its own.
"""

from __future__ import annotations

import os
from typing import Final

import redis
from django.db import OperationalError

from django_babysea import tasks
from django_babysea.client.errors import APIError, NetworkError
from django_babysea.services import dispatch

FLAKY: Final = "celery_tests_flaky"
ALWAYS_FAILING: Final = "celery_tests_always_failing"


def task_name(job: str) -> str:
    return dispatch.TASK_PREFIX + job


def counter() -> redis.Redis:
    return redis.Redis.from_url(
        os.environ.get("BABYSEA_TEST_BROKER_URL", "redis://127.0.0.1:6379/15")
    )


def flaky(key: str) -> None:
    """Fail with a network error, then with a database error, then succeed."""
    runs = int(counter().incr(key))
    counter().expire(key, 600)
    if runs == 1:
        raise NetworkError(ConnectionResetError("simulated reset"), attempts=3, retryable=True)
    if runs == 2:
        raise OperationalError("simulated: the database server closed the connection")


def always_failing(key: str) -> None:
    """A BabySea outage that outlasts the retries."""
    counter().incr(key)
    counter().expire(key, 600)
    raise APIError(
        status=503, code="BSE5001", type="server_error", message="simulated", retryable=True
    )


dispatch.register(FLAKY, f"{__name__}.flaky")
dispatch.register(ALWAYS_FAILING, f"{__name__}.always_failing")
tasks.sync_tasks()
