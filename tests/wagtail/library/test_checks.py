"""System checks of the installation, as ``manage.py check`` reports them (subprocess: each
case needs other INSTALLED_APPS), and silence when the installation is right."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.checks import run_checks

ROOT = Path(__file__).resolve().parents[3]


def check(case: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BABYSEA_CHECK_CASE": case}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, "-m", "django", "check", "--settings", "tests.wagtail.settings_checks"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_without_wagtail_the_check_names_the_missing_apps() -> None:
    completed = check("no_wagtail")
    assert completed.returncode != 0
    assert "django_babysea.E014" in completed.stderr
    for app in ("'wagtail'", "'wagtail.admin'", "'wagtail.images'", "'taggit'"):
        assert app in completed.stderr


def test_listed_after_wagtail_images_is_a_warning() -> None:
    completed = check("late")
    assert completed.returncode == 0, completed.stderr
    output = completed.stdout + completed.stderr
    assert "django_babysea.W008" in output
    assert "Move 'django_babysea.contrib.wagtail' above 'wagtail.images'" in output


@pytest.mark.django_db
def test_the_suite_s_installation_passes() -> None:
    ids = {message.id for message in run_checks(tags=["django_babysea"])}
    assert not ids & {"django_babysea.E014", "django_babysea.W008"}
