from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from django_babysea.sandbox import Sandbox
from tests.services.conftest import (
    MODEL,
    PROMPT,
    no_remote_call_in_a_transaction,
    remote,
    sandbox,
)

__all__ = [
    "MODEL",
    "PROMPT",
    "Manage",
    "manage",
    "no_remote_call_in_a_transaction",
    "remote",
    "sandbox",
]

ROOT = Path(__file__).resolve().parents[2]
MANAGE = ROOT / "example_project" / "manage.py"

#: ``manage(*args)`` runs the example project's manage.py; ``manage.env`` is its environment.
Manage = Callable[..., "subprocess.CompletedProcess[str]"]


@pytest.fixture
def manage(sandbox: Sandbox, tmp_path: Path) -> Manage:
    """The example project's ``manage.py`` as a separate process, on a SQLite file of the
    test's own, talking to the sandbox (tests may edit ``manage.env``)."""
    env = {
        **os.environ,
        "BABYSEA_API_KEY": sandbox.api_key,
        "BABYSEA_BASE_URL": sandbox.url,
        "BABYSEA_WEBHOOK_SECRET": sandbox.webhook_secret,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(MANAGE), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    run.env = env  # type: ignore[attr-defined]
    return run
