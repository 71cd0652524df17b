"""The example project run as a new user runs it: ``demo.py``, ``make demo`` and ``manage.py``
as separate processes, on files of the test's own (never the developer's demo files)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "example_project"
DEMO = EXAMPLE / "demo.py"
MANAGE = EXAMPLE / "manage.py"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def process_env(**extra: str) -> dict[str, str]:
    """This environment without anything that would point the example site elsewhere."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("BABYSEA_", "DJANGO_", "CELERY_"))
        and key not in {"DATABASE_URL", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"}
        and key.lower() not in {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}
    }
    return {**env, "PYTHONPATH": str(ROOT), **extra}


def run(
    args: list[str], env: dict[str, str], timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def demo(*args: str) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, str(DEMO), *args], process_env())


def make_demo(*variables: str) -> subprocess.CompletedProcess[str]:
    """``make demo VAR=VALUE...`` with this interpreter, never (re)building ``.venv``."""
    return run(
        ["make", "-s", "-o", ".venv/.installed", "demo", f"PY={sys.executable}", *variables],
        process_env(),
    )


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, str(MANAGE), *args], env, timeout=120)
