"""The webhook ingest benchmark runs: ``--quick`` prints its whole report and cleans up.

Only the shape of the report is checked; the figures belong to the machine that ran them. The
statement counts are held by tests/core/test_statement_budget.py.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "webhook_ingest.py"

REPORT = [
    r"webhook_ingest: (postgresql|sqlite) database \S+, 2 senders, 40 deliveries per round, "
    r"2 rounds, Django's threaded WSGI server in this process",
    r"round 1: receiver \d+ deliveries/s, bare insert view \d+ requests/s, "
    r"its 3 statements alone \d+ requests/s",
    r"round 2: receiver \d+ deliveries/s, bare insert view \d+ requests/s, "
    r"its 3 statements alone \d+ requests/s",
    r"receiver: median \d+ deliveries/s",
    r"bare insert view: median \d+ requests/s",
    r"ratio receiver/bare: [\d.]+x \(medians\)",
    r"statements per delivery: new generation\.started \d+ \(1 commit\), "
    r"duplicate \d+ \(1 commit\)",
    r"verified: 81 deliveries stored and processed, 81 generations processing",
]


def _environment() -> dict[str, str]:
    # The script configures Django itself; the test run's settings module must not leak in.
    env = dict(os.environ)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("BABYSEA_BENCH_DATABASE_URL", None)
    return env


@pytest.mark.slow
def test_quick_run_prints_every_line_and_drops_its_database() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick"],
        capture_output=True,
        text=True,
        timeout=600,
        env=_environment(),
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == len(REPORT), done.stdout
    for line, pattern in zip(lines, REPORT, strict=True):
        assert re.fullmatch(pattern, line), (pattern, line)
    database = re.match(r"webhook_ingest: (\w+) database (\S+),", lines[0])
    assert database is not None
    if database.group(1) == "sqlite":
        assert not Path(database.group(2)).exists()


def test_a_bad_option_is_one_line_and_exit_2() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--senders", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        env=_environment(),
        check=False,
    )
    assert done.returncode == 2
    assert "must be at least 1" in done.stderr
