"""The Celery app of the worker tests, set up the way a site sets up its own.

The worker runs ``celery -A tests.celery.app worker`` with ``DJANGO_SETTINGS_MODULE`` set to
``tests.celery.settings``; the test process imports this module under ``tests.settings``. Both
read the broker and the queue from the environment so they meet on the same Redis queue.
"""

from __future__ import annotations

import os
from typing import Final

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.celery.settings")

BROKER_URL: Final = os.environ.get("BABYSEA_TEST_BROKER_URL", "redis://127.0.0.1:6379/15")
QUEUE: Final = os.environ.get("BABYSEA_TEST_CELERY_QUEUE", "django-babysea-tests")
#: Retry quickly in tests: the policy is the same, only the first wait is shorter.
FAST_RETRIES: Final = {"retry_backoff": 0.2, "retry_backoff_max": 1}

app = Celery("django_babysea_tests")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    broker_url=BROKER_URL,
    result_backend=BROKER_URL,
    task_default_queue=QUEUE,
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    result_expires=600,
    broker_connection_retry_on_startup=True,
    task_annotations={
        "*": FAST_RETRIES,
        "django_babysea.celery_tests_always_failing": {"max_retries": 2},
    },
    worker_hijack_root_logger=False,
)
app.autodiscover_tasks(["django_babysea"])  # what a site writes: finds django_babysea.tasks
# The test-only jobs, registered once Django is set up (they add their tasks on import).
app.autodiscover_tasks(["tests.celery"], related_name="jobs")
