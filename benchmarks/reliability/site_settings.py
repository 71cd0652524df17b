"""Settings of the example site for the reliability runs: the example site's own, with the
client and copy timeouts short enough that a run recovers from a fault in seconds.

Every value is read from the environment the harness sets, so gunicorn, the Celery worker and
the harness process itself run with the same settings.
"""

from __future__ import annotations

import os

from example_site.settings import *  # type: ignore[import-not-found]  # noqa: F403
from example_site.settings import BABYSEA

BABYSEA = {
    **BABYSEA,
    # Short client deadlines: a fault that hangs must surface as a retryable error quickly.
    "TIMEOUT": float(os.environ.get("RELIABILITY_TIMEOUT", "3")),
    "MAX_RETRIES": int(os.environ.get("RELIABILITY_MAX_RETRIES", "0")),
    "MAX_RETRY_AFTER": 1,
    # The lease of a copy in progress is 2 * COPY_TIMEOUT + 60 s.
    "COPY_TIMEOUT": int(os.environ.get("RELIABILITY_COPY_TIMEOUT", "10")),
    "USER_DAILY_BUDGET": None,
    "RENDITIONS": False,
}

# A message a killed worker had taken (acks_late: not acknowledged) goes back to the queue
# after ``visibility_timeout`` seconds (Redis's default: an hour), found by a scan that by
# default runs every 10 x 10 s; the worker run asks for both in seconds.
_VISIBILITY = os.environ.get("RELIABILITY_VISIBILITY_TIMEOUT")
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "visibility_timeout": int(_VISIBILITY),
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
    }
    if _VISIBILITY
    else {}
)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    # Errors only: a run with injected faults would print a warning for each of them.
    "loggers": {"django_babysea": {"handlers": ["console"], "level": "ERROR"}},
}
