"""``manage.py babysea_status`` says which BabySea it talks to, even when it cannot reach it."""

from __future__ import annotations

from pathlib import Path

import pytest

from django_babysea.sandbox import Sandbox

from .conftest import manage, process_env

#: Nothing listens on port 9 (discard); connections to it are refused at once.
CLOSED = "http://127.0.0.1:9"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return process_env(
        BABYSEA_API_KEY="bye_status_test_key_0123456789",
        BABYSEA_WEBHOOK_SECRET="whsec_status_test_secret_0123456789",
        DJANGO_DATABASE_PATH=str(tmp_path / "db.sqlite3"),
        DJANGO_MEDIA_ROOT=str(tmp_path / "media"),
    )


def test_the_base_url_in_use(babysea_sandbox: Sandbox, env: dict[str, str]) -> None:
    env.update(
        BABYSEA_BASE_URL=babysea_sandbox.url,
        BABYSEA_API_KEY=babysea_sandbox.api_key,
        BABYSEA_WEBHOOK_SECRET=babysea_sandbox.webhook_secret,
    )
    done = manage("babysea_status", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == f"BabySea   {babysea_sandbox.url} (region us)"
    assert babysea_sandbox.api_key not in done.stdout + done.stderr


def test_an_unreachable_base_url_is_named_before_the_error(env: dict[str, str]) -> None:
    env["BABYSEA_BASE_URL"] = f"{CLOSED}/"
    done = manage("babysea_status", env=env)
    assert done.returncode == 1
    assert done.stdout == f"BabySea   {CLOSED} (region us)\n"
    assert done.stderr.strip().splitlines()[-1].startswith("CommandError: ")
    assert env["BABYSEA_API_KEY"] not in done.stdout + done.stderr


def test_without_base_url_the_regional_origin(env: dict[str, str]) -> None:
    # No BASE_URL: the region's origin. The HTTPS proxy refuses the connection, so the test
    # never leaves the machine; the origin is printed before the first call.
    env.update(BABYSEA_REGION="eu", HTTPS_PROXY=CLOSED)
    done = manage("babysea_status", env=env)
    assert done.returncode == 1
    assert done.stdout == "BabySea   https://api.eu.babysea.ai (region eu)\n"
    assert done.stderr.strip().splitlines()[-1].startswith("CommandError: ")
