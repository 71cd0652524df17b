"""Runs tests/wagtail/library/custom in a process of its own: a custom image model and a site
without wagtailmedia need other settings (and other tables) than the rest of the suite.

The child process uses SQLite in memory whatever this run uses: on PostgreSQL it would create
the same test database as this process. Run that directory by hand on PostgreSQL with
``BABYSEA_TEST_CUSTOM_IMAGE=1 pytest tests/wagtail/library/custom
--ds tests.wagtail.settings_custom_image`` when nothing else uses the database.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_the_custom_image_model_suite() -> None:
    env = {**os.environ, "BABYSEA_TEST_WAGTAIL": "1", "BABYSEA_TEST_CUSTOM_IMAGE": "1"}
    env.pop("BABYSEA_TEST_DATABASE_URL", None)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/wagtail/library/custom",
            "--ds",
            "tests.wagtail.settings_custom_image",
            "-q",
            "-p",
            "no:cacheprovider",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-2000:]
    assert "2 passed" in completed.stdout
