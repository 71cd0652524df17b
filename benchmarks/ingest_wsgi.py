"""The site of ``webhook_ingest.py --server gunicorn``, as gunicorn's workers import it.

The benchmark passes its database (created and migrated already) in ``BABYSEA_INGEST_DATABASE``;
the settings, the receiver and the bare view are the benchmark's own.
"""

from __future__ import annotations

import json
import os
from typing import Any

import django
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler

from benchmarks.ingest_site import DATABASE_ENV, _urls, django_settings

settings.configure(**django_settings(json.loads(os.environ[DATABASE_ENV]), __name__))
django.setup()

urlpatterns: list[Any] = _urls()
application = WSGIHandler()
