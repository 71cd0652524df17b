"""``python -m benchmarks --quick`` runs every benchmark and prints one row per figure.

Only the table's shape is checked (every row there, each with a ratio or a count, each target
judged PASS or FAIL): the figures belong to the machine that ran them. On PostgreSQL when
``BABYSEA_TEST_DATABASE_URL`` is set (databases ``babysea_bench_*``), else on SQLite files.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RATIO = r"[\d.]+x"

#: The first cell of every row, and whether it carries a ratio and a verdict.
ROWS = [
    *(
        row
        for senders in (1, 16, 64)
        for row in (
            *(
                (rf"webhook ingest, {kind} delivery, {senders} senders", RATIO, "PASS|FAIL")
                for kind in ("new", "duplicate")
            ),
            (
                rf"webhook ingest floor: the receiver's 3 statements in raw SQL, {senders} senders",
                RATIO,
                "-",
            ),
        )
    ),
    (r"webhook statements, new delivery", RATIO, "PASS|FAIL"),
    (r"webhook statements, duplicate delivery", RATIO, "PASS|FAIL"),
    (r"\d+ submissions \(submit_generation\)", RATIO, "PASS|FAIL"),
    (r"\d+ submissions: connections opened", "-", "PASS|FAIL"),
    (r"output copy \(8MB\)", RATIO, "PASS|FAIL"),
    (r"output copy \(8MB\): peak memory", "-", "PASS|FAIL"),
    (r"generation change list at \d+ generations", RATIO, "-"),
    (r"dashboard page at \d+ generations", RATIO, "-"),
    (r"dashboard aggregates: local_figures\(\) at \d+ generations", RATIO, "-"),
    (r"API generations list \(staff\) at \d+ generations", RATIO, "-"),
    (r"babysea_sync of \d+ remote generations", RATIO, "-"),
    (r"sandbox creates, \d+ stored, 1 clients", RATIO, "PASS|FAIL"),
    (r"sandbox creates, \d+ stored, 16 clients", RATIO, "PASS|FAIL"),
]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path("/proc/self/status").exists() or shutil.which("curl") is None,
        reason="the copy benchmark reads /proc (Linux) and compares with curl",
    ),
]


def _run(*options: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("DJANGO_SETTINGS_MODULE", None)  # each benchmark configures Django itself
    env.pop("BABYSEA_BENCH_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "benchmarks", *options],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_quick_run_prints_every_row_with_a_ratio() -> None:
    done = _run("--quick")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    vendor = "postgresql" if os.environ.get("BABYSEA_TEST_DATABASE_URL") else "sqlite"
    assert re.fullmatch(rf"benchmarks: quick sizes, {vendor} databases, .+", lines[0])
    assert lines[1] == "| benchmark | figure | baseline | ratio | target | verdict |"
    assert lines[2] == "| --- | --- | --- | ---: | --- | --- |"
    rows = lines[3:-1]
    assert len(rows) == len(ROWS), done.stdout
    for line, (name, ratio, verdict) in zip(rows, ROWS, strict=True):
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        assert len(cells) == 6, line
        assert re.fullmatch(name, cells[0]), (name, line)
        assert re.fullmatch(ratio, cells[3]), (ratio, line)
        assert re.fullmatch(verdict, cells[5]), (verdict, line)
    assert re.fullmatch(r"command: python -m benchmarks --quick \(took \d+ s\)", lines[-1])


def test_a_broken_benchmark_is_a_row_saying_why_and_exit_1(tmp_path: Path) -> None:
    # A database URL of an unknown scheme: the benchmark refuses it, the table still comes out.
    env_url = f"nosuchdb://{tmp_path}/x"
    env = dict(os.environ, BABYSEA_TEST_DATABASE_URL=env_url)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("BABYSEA_BENCH_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--only", "sync"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    row = done.stdout.splitlines()[3]
    assert row.startswith("| sync | error: exit "), row
    assert row.endswith("| - | - | - | FAIL |"), row


def test_an_unknown_benchmark_is_one_line_and_exit_2() -> None:
    done = _run("--only", "sync,nonesuch")
    assert done.returncode == 2
    assert "unknown benchmark nonesuch; choose from ingest, submissions" in done.stderr
