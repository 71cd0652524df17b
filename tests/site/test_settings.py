"""The example site's settings: environment switches, and no demo credentials outside DEBUG."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from django_babysea.sandbox.defaults import DEMO_API_KEY, DEMO_WEBHOOK_SECRET

ROOT = Path(__file__).resolve().parents[2]
MANAGE = ROOT / "example_project" / "manage.py"
PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "tests-only-a-long-random-looking-secret-key-for-the-example-site",
    "BABYSEA_API_KEY": "bye_site_settings_key_0123",
    "BABYSEA_WEBHOOK_SECRET": "whsec_site_settings_secret_0123",
}
SETTINGS_OF_INTEREST = (
    "from django.conf import settings as s; "
    "print(s.DATABASES['default']['NAME'], s.MEDIA_ROOT, sorted(s.DATABASES['default']['OPTIONS']))"
)


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "example_site.settings",
        "PYTHONPATH": str(ROOT),
        **env,
    }
    for name in ("DATABASE_URL", "DJANGO_DEBUG", "BABYSEA_API_KEY", "BABYSEA_WEBHOOK_SECRET"):
        if name not in env:
            environment.pop(name, None)
    return subprocess.run(
        [sys.executable, str(MANAGE), *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_development_defaults_pass_the_checks() -> None:
    """The demo credentials are used on purpose under DEBUG (W004 silenced); SQLite is set up
    for concurrent writers (no W003)."""
    done = manage("check", "--fail-level", "WARNING")
    assert done.returncode == 0, done.stderr
    assert "W003" not in done.stdout + done.stderr


def test_database_and_media_from_the_environment(tmp_path: Path) -> None:
    database, media = tmp_path / "site.sqlite3", tmp_path / "media"
    done = manage(
        "shell",
        "--verbosity=0",
        "-c",
        SETTINGS_OF_INTEREST,
        DJANGO_DATABASE_PATH=str(database),
        DJANGO_MEDIA_ROOT=str(media),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [
        str(database),
        str(media),
        "['init_command',",
        "'timeout',",
        "'transaction_mode']",
    ]


def test_sqlite_from_database_url_gets_the_same_options(tmp_path: Path) -> None:
    done = manage(
        "shell",
        "--verbosity=0",
        "-c",
        SETTINGS_OF_INTEREST,
        DATABASE_URL=f"sqlite:///{tmp_path / 'url.db'}",
    )
    assert done.returncode == 0, done.stderr
    assert "['init_command', 'timeout', 'transaction_mode']" in done.stdout


def test_production_passes_the_deploy_checks() -> None:
    done = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("missing", ["BABYSEA_API_KEY", "BABYSEA_WEBHOOK_SECRET"])
def test_production_requires_real_credentials(missing: str) -> None:
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    done = manage("check", **env)
    assert done.returncode != 0
    assert (
        f"ImproperlyConfigured: {missing} must be set when DJANGO_DEBUG=0: outside development "
        "the example site does not fall back to the sandbox's public demo credentials."
    ) in done.stderr


def test_production_refuses_the_demo_credentials() -> None:
    env = {
        **PRODUCTION,
        "BABYSEA_API_KEY": DEMO_API_KEY,
        "BABYSEA_WEBHOOK_SECRET": DEMO_WEBHOOK_SECRET,
    }
    done = manage("check", **env)
    assert done.returncode != 0
    assert done.stderr.count("(django_babysea.E011)") == 2
    assert DEMO_API_KEY not in done.stderr
    assert DEMO_WEBHOOK_SECRET not in done.stderr
