"""The Wagtail suite (tests/wagtail) needs Wagtail and its own settings: it runs only when asked
(``make test-wagtail`` sets ``BABYSEA_TEST_WAGTAIL=1`` and ``--ds tests.wagtail.settings``)."""

from __future__ import annotations

import os

collect_ignore = [] if os.environ.get("BABYSEA_TEST_WAGTAIL") == "1" else ["wagtail"]
