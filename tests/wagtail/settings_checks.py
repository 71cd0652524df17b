"""Settings that are wrong on purpose, for the system checks of the Wagtail integration
(tests/wagtail/library/test_checks.py runs ``manage.py check`` with them in a subprocess).

``BABYSEA_CHECK_CASE``: ``no_wagtail`` (the app without Wagtail's apps: E014) or ``late`` (the
app listed after ``wagtail.images``: W008).
"""

from __future__ import annotations

import os

from tests.settings import INSTALLED_APPS as BASE_APPS
from tests.settings import MIDDLEWARE as BASE_MIDDLEWARE
from tests.wagtail.settings import *  # noqa: F403
from tests.wagtail.settings import INSTALLED_APPS as WAGTAIL_APPS

APP = "django_babysea.contrib.wagtail"
CASE = os.environ.get("BABYSEA_CHECK_CASE", "")

if CASE == "no_wagtail":
    INSTALLED_APPS = [*BASE_APPS, APP]
    MIDDLEWARE = BASE_MIDDLEWARE
    ROOT_URLCONF = "tests.urls"
elif CASE == "late":
    INSTALLED_APPS = [*(app for app in WAGTAIL_APPS if app != APP), APP]
else:
    raise RuntimeError("Set BABYSEA_CHECK_CASE to 'no_wagtail' or 'late'.")
