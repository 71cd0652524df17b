"""The Celery app of the example site: ``celery -A example_site worker -Q babysea-example``.

Tasks run only when ``BABYSEA_USE_CELERY=1`` and ``CELERY_BROKER_URL`` are set (``make demo``
sets both when Redis answers); ``autodiscover_tasks`` finds ``django_babysea.tasks``.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_site.settings")

app = Celery("example_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
