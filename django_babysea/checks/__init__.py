"""System checks for the ``BABYSEA`` setting and what the app needs around it.

Ids: ``django_babysea.E0xx`` for errors that break the integration, ``W0xx`` for warnings. Each
message names the exact setting at fault and never contains the API key or a webhook secret.
Every check reads settings only: none touches the database, the network or the disk, so they run
wherever Django runs checks. All are tagged :data:`TAG` (``manage.py check --tag django_babysea``).

Importing this package registers the checks (done by the app config's ``ready()``).
"""

from __future__ import annotations

from .base import TAG
from .credentials import check_credentials, check_demo_credentials, check_settings_shape
from .database import check_sqlite
from .jobs import check_jobs
from .limits import check_limits
from .renditions import check_renditions
from .storage import check_storage

__all__ = [
    "TAG",
    "check_credentials",
    "check_demo_credentials",
    "check_jobs",
    "check_limits",
    "check_renditions",
    "check_settings_shape",
    "check_sqlite",
    "check_storage",
]
