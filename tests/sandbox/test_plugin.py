"""The pytest plugin: fixtures, marker, and a light import."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest

from django_babysea.sandbox import Sandbox


def test_fixture_gives_a_running_instant_sandbox(babysea_sandbox: Sandbox) -> None:
    headers = {"Authorization": f"Bearer {babysea_sandbox.api_key}"}
    with httpx.Client(base_url=babysea_sandbox.url, headers=headers) as api:
        created = api.post(
            "/v1/generate/image/bfl/flux-schnell", json={"generation_prompt": "fixture"}
        )
        babysea_sandbox.run_until_idle()
        generation_id = created.json()["data"]["generation_id"]
        record = api.get(f"/v1/content/{generation_id}").json()["data"]
    assert record["generation_status"] == "succeeded"
    assert babysea_sandbox.webhook_secret.startswith("whsec_")
    assert not babysea_sandbox.url.endswith("/")


@pytest.mark.babysea_sandbox(plan="free", rate_limit=2)
def test_marker_overrides_options(babysea_sandbox: Sandbox) -> None:
    headers = {"Authorization": f"Bearer {babysea_sandbox.api_key}"}
    with httpx.Client(base_url=babysea_sandbox.url, headers=headers) as api:
        assert api.get("/v1/user/billing").json()["data"]["billing_plan"] == "Free"
        assert api.get("/v1/status").status_code == 200
        assert api.get("/v1/status").status_code == 429


def test_session_fixture(babysea_sandbox_session: Sandbox) -> None:
    babysea_sandbox_session.reset()
    assert babysea_sandbox_session.received() == []


def test_plugin_import_is_light() -> None:
    code = (
        "import sys, django_babysea.sandbox.pytest_plugin as p\n"
        "heavy = {'django', 'PIL', 'httpx', 'imageio_ffmpeg'}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True
    )
    assert result.stdout.strip() == "[]"


def test_plugin_is_registered_for_other_projects(tmp_path: Path) -> None:
    (tmp_path / "test_outside.py").write_text(
        textwrap.dedent(
            """
            import urllib.request

            def test_outside(babysea_sandbox):
                request = urllib.request.Request(
                    babysea_sandbox.url + "/v1/status",
                    headers={"Authorization": "Bearer " + babysea_sandbox.api_key},
                )
                with urllib.request.urlopen(request) as response:
                    assert response.status == 200
            """
        )
    )
    # Another project has no Django settings of ours: drop the ones pytest-django exported.
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
