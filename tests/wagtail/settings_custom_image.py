"""The Wagtail suite's settings with a custom image model and without wagtailmedia
(``tests/wagtail/library/custom``, run in its own process by test_custom_image_model.py)."""

from __future__ import annotations

from tests.wagtail.settings import *  # noqa: F403
from tests.wagtail.settings import INSTALLED_APPS as WAGTAIL_APPS

INSTALLED_APPS = [
    *(app for app in WAGTAIL_APPS if app != "wagtailmedia"),
    "tests.wagtail.customimage",
]
WAGTAILIMAGES_IMAGE_MODEL = "customimage.CustomImage"
