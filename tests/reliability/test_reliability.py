"""The reduced reliability runs (``python -m benchmarks.reliability <run> --quick``), each in a
subprocess against real PostgreSQL, gunicorn, the sandbox (and, for the worker run, Redis and
a Celery worker): what was lost or doubled is asserted to be nothing; timings are not.

They run in ``make test-postgres`` (PostgreSQL) and the worker run in ``make test-celery``;
a SQLite run skips them (each needs a PostgreSQL server of its own to create databases on).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATABASE_URL = os.environ.get("BABYSEA_TEST_DATABASE_URL", "")
ON_POSTGRES = urlsplit(DATABASE_URL).scheme.startswith("postgres")
CELERY = os.environ.get("BABYSEA_TEST_CELERY") == "1"
TIMEOUT = 300

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.skipif(
        not ON_POSTGRES,
        reason="the reliability runs need PostgreSQL: set BABYSEA_TEST_DATABASE_URL "
        "(make test-postgres)",
    ),
]


def _run(name: str, database: str) -> str:
    """Run ``name --quick`` on its own database of the tests' server; its output."""
    env = dict(os.environ)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env["BABYSEA_RELIABILITY_DATABASE_URL"] = urlunsplit(
        urlsplit(DATABASE_URL)._replace(path=f"/{database}")
    )
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.reliability", name, "--quick"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert f"[{name}] lost: 0" in result.stdout.splitlines(), output
    assert f"[{name}] LOST:" not in output
    assert f"[{name}] tried: " in output
    return result.stdout


def test_deliveries_lose_nothing() -> None:
    output = _run("deliveries", "babysea_rel_1")
    tried = re.search(r"tried: (\d+) deliveries \((\d+) duplicates, (\d+) of (\d+) gen", output)
    assert tried, output
    total, duplicates, reordered, generations = map(int, tried.groups())
    assert (total, duplicates) == (300, 90), output
    assert reordered > 0, output
    answers = re.search(r"answers: \{([^}]*)\}", output)
    assert answers, output
    assert answers.group(1) == f"200: {total}", output  # every post answered 200: no 5xx
    assert f"deliveries stored: {total - duplicates}" in output, output
    states = re.search(r"final states: \{'failed': (\d+), 'succeeded': (\d+)\}", output)
    assert states, output
    assert sum(map(int, states.groups())) == generations, output


def test_submissions_lose_and_double_nothing() -> None:
    output = _run("submissions", "babysea_rel_2")
    assert "local rows: 50; remote generations: 50; rows with a BabySea id: 50" in output, output
    first = re.search(r"first sends: \{([^}]*)\}", output)
    assert first, output
    assert "accepted" in first.group(1), output


@pytest.mark.celery
@pytest.mark.skipif(
    not CELERY, reason="the worker run needs Redis and a Celery worker: BABYSEA_TEST_CELERY=1"
)
def test_killed_worker_loses_and_doubles_nothing() -> None:
    output = _run("worker", "babysea_rel_3")
    assert "kill 1: SIGKILL to the worker with " in output, output
    assert "remote generations: 12; outputs stored: 12; files in storage: 12" in output, output
    assert "all done after" in output, output
