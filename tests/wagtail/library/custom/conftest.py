"""These tests need their own settings (a custom image model, no wagtailmedia) and so their own
process: test_custom_image_model.py runs them with ``BABYSEA_TEST_CUSTOM_IMAGE=1`` and
``--ds tests.wagtail.settings_custom_image``; any other run leaves them out."""

from __future__ import annotations

import os

collect_ignore_glob = [] if os.environ.get("BABYSEA_TEST_CUSTOM_IMAGE") == "1" else ["test_*.py"]
