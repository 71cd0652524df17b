"""Without the ``[sandbox]`` extra (Pillow, imageio-ffmpeg) every way of starting the sandbox
stops at once with one line that says what to install."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from django_babysea.sandbox.extra import MISSING_EXTRA

ROOT = Path(__file__).resolve().parents[2]

#: Makes ``import <module>`` fail as if the package were not installed.
BLOCKER = textwrap.dedent(
    """
    import sys

    class Blocker:
        def find_spec(self, name, path=None, target=None):
            if name == BLOCKED or name.startswith(BLOCKED + "."):
                raise ImportError(f"No module named {name!r}")
            return None

    sys.meta_path.insert(0, Blocker())
    """
)


def run_without(module: str, code: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": str(ROOT)}
    script = f"BLOCKED = {module!r}\n{BLOCKER}\n{textwrap.dedent(code)}"
    try:
        return subprocess.run(
            [sys.executable, "-c", script],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=15,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"still running after 15 s (it started anyway): {exc.stdout!r}")


@pytest.mark.parametrize("module", ["PIL", "imageio_ffmpeg"])
def test_the_module_command_line(module: str) -> None:
    result = run_without(
        module,
        """
        import runpy
        sys.argv = ["python -m django_babysea.sandbox", "--port", "0"]
        runpy.run_module("django_babysea.sandbox", run_name="__main__")
        """,
    )
    assert result.returncode == 1
    assert result.stderr == MISSING_EXTRA + "\n"
    assert result.stdout == ""


@pytest.mark.parametrize("module", ["PIL", "imageio_ffmpeg"])
def test_the_management_command(module: str) -> None:
    result = run_without(
        module,
        """
        from django.core.management import execute_from_command_line
        execute_from_command_line(["manage.py", "babysea_sandbox", "--port", "0"])
        """,
    )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert result.stderr.rstrip("\n").endswith(MISSING_EXTRA)
    assert "Traceback" not in result.stderr


def test_the_pytest_fixture(tmp_path: Path) -> None:
    (tmp_path / "test_uses_the_sandbox.py").write_text(
        "def test_it(babysea_sandbox):\n    assert babysea_sandbox.url\n"
    )
    result = run_without(
        "PIL",
        """
        import pytest
        sys.exit(pytest.main(["-q", "-p", "no:cacheprovider", "-p", "no:django"]))
        """,
        cwd=tmp_path,
    )
    assert result.returncode == 1, result.stdout
    assert MISSING_EXTRA in result.stdout
    assert "1 error" in result.stdout


def test_sandbox_start_in_python() -> None:
    result = run_without(
        "imageio_ffmpeg",
        """
        from django_babysea.sandbox import Sandbox
        from django_babysea.sandbox.extra import MissingExtra
        sandbox = Sandbox(port=0)
        try:
            sandbox.start()
        except MissingExtra as exc:
            print(exc)
            sys.exit(3)
        """,
    )
    assert (result.returncode, result.stdout) == (3, MISSING_EXTRA + "\n")
