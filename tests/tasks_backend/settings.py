"""Settings of the ``db_worker`` process: ``tests.settings`` with the jobs on the Tasks
framework's database backend, plus what only the environment can tell the worker (the sandbox
it talks to, the media root it shares with the test process)."""

from __future__ import annotations

import os
from typing import Any

from tests import settings as _base
from tests.settings import *  # noqa: F403
from tests.tasks_backend.frameworks import DATABASE_TASKS, QUEUE

TASKS = DATABASE_TASKS

BABYSEA: dict[str, Any] = {  # type: ignore[no-redef]  # overrides the star import
    **_base.BABYSEA,
    # Jobs the worker runs may queue further jobs: those go to the same queue.
    "JOB_BACKEND": "tasks",
    "TASKS_QUEUE": QUEUE,
    "MAX_RETRIES": 0,
}
if os.environ.get("BABYSEA_API_KEY"):
    BABYSEA["API_KEY"] = os.environ["BABYSEA_API_KEY"]
if os.environ.get("BABYSEA_BASE_URL"):
    BABYSEA["BASE_URL"] = os.environ["BABYSEA_BASE_URL"]
# Output copies go where the test process reads them (it made that directory and removes it).
if os.environ.get("BABYSEA_TEST_MEDIA_ROOT"):
    MEDIA_ROOT = os.environ["BABYSEA_TEST_MEDIA_ROOT"]
# db_worker runs the system checks: the session sandbox's demo key is expected here.
SILENCED_SYSTEM_CHECKS = ["django_babysea.E011"]
