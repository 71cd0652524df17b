"""Settings of the test worker: ``tests.settings`` plus what only the worker process can be told
through its environment (the sandbox it talks to, the queue it consumes, the media root it
shares with the test process)."""

from __future__ import annotations

import os
from typing import Any

from tests import settings as _base
from tests.settings import *  # noqa: F403

BABYSEA: dict[str, Any] = {  # type: ignore[no-redef]  # overrides the star import
    **_base.BABYSEA,
    # Jobs the worker runs may queue further jobs: those go to Celery too.
    "USE_CELERY": True,
}
# The sandbox the test session started, when it started one.
if os.environ.get("BABYSEA_API_KEY"):
    BABYSEA["API_KEY"] = os.environ["BABYSEA_API_KEY"]
if os.environ.get("BABYSEA_BASE_URL"):
    BABYSEA["BASE_URL"] = os.environ["BABYSEA_BASE_URL"]
# Output copies go where the test process reads them (it made that directory and removes it).
if os.environ.get("BABYSEA_TEST_MEDIA_ROOT"):
    MEDIA_ROOT = os.environ["BABYSEA_TEST_MEDIA_ROOT"]
