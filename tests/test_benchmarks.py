"""The benchmarks run: each script, at a tiny size, prints its whole report and cleans up.

Only the shape of the report is checked; the figures belong to the machine that ran them.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
COPY_LARGE_OUTPUT = ROOT / "benchmarks" / "copy_large_output.py"

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/status").exists() or shutil.which("curl") is None,
    reason="the benchmark reads /proc (Linux) and compares with curl",
)

REPORT = [
    r"copy_large_output: 8000000 bytes \(7\.6 MiB\), 2 rounds of curl -o then copy_output; "
    r"files in .+",
    r"code measured: .+django_babysea, Python 3\.\d+\.\d+",
    r"source: http://127\.0\.0\.1:\d+/files/[0-9a-f-]{36}/output-0\.mp4 "
    r"\(sandbox in its own process\)",
    r"warm-up: refresh_generation with its inline copy [\d.]+ s, RSS [\d.]+ MB -> peak [\d.]+ MB"
    r" \(first imports and connections included\)",
    r"round 1: curl [\d.]+ MB/s \([\d.]+ s, CPU [\d.]+ s\), copy [\d.]+ MB/s "
    r"\([\d.]+ s, CPU [\d.]+ s\), RSS growth [\d.]+ MB",
    r"round 2: .+",
    r"curl -o throughput: median [\d.]+ MB/s, best [\d.]+ MB/s, CPU median [\d.]+ s",
    r"copy_output throughput: median [\d.]+ MB/s, best [\d.]+ MB/s, CPU median [\d.]+ s",
    r"throughput ratio copy/curl: [\d.]+x \(medians; best [\d.]+x\), "
    r"target >= 0\.8x: (PASS|FAIL)",
    r"peak memory of the copying process: baseline RSS [\d.]+ MB, peak RSS [\d.]+ MB, "
    r"growth [\d.]+ MB \(worst round; .+\), target < 64 MB: (PASS|FAIL)",
    r"verified: every stored copy has curl's size \(8000000 bytes\) and sha256",
]


def _command(tmp_path: Path, repeat: int) -> list[str]:
    return [
        sys.executable,
        str(COPY_LARGE_OUTPUT),
        *("--size", "8MB", "--repeat", str(repeat), "--dir", str(tmp_path)),
    ]


def _environment() -> dict[str, str]:
    # The script configures Django itself; the test run's settings module must not leak in.
    env = dict(os.environ)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


def test_copy_large_output_prints_its_report(tmp_path: Path) -> None:
    done = subprocess.run(
        _command(tmp_path, repeat=2),
        cwd=ROOT,
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == len(REPORT), done.stdout
    for line, pattern in zip(lines, REPORT, strict=True):
        assert re.fullmatch(pattern, line), (pattern, line)
    assert list(tmp_path.iterdir()) == []


def test_copy_large_output_cleans_up_when_interrupted(tmp_path: Path) -> None:
    process = subprocess.Popen(
        _command(tmp_path, repeat=100_000),
        cwd=ROOT,
        env=_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        seen = []
        for line in process.stdout:
            seen.append(line)
            if line.startswith("round 1:"):
                break
        source = next((s for s in seen if s.startswith("source: ")), "")
        assert source, "".join(seen)
        process.send_signal(signal.SIGINT)
        rest = process.stdout.read()
        assert process.wait(60) == 130, "".join(seen) + rest
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert rest.splitlines()[-1] == "interrupted"
    assert list(tmp_path.iterdir()) == []
    # The sandbox process is gone with its port.
    with pytest.raises(httpx.ConnectError):
        httpx.get(source.split()[1], timeout=5)


ADMIN_PAGES = ROOT / "benchmarks" / "admin_pages.py"
ADMIN_PAGES_REPORT = [
    r"admin_pages: 120 generations, sqlite database .+bench\.sqlite3, 2 timed runs each",
    r"code measured: .+django_babysea, Python 3\.\d+\.\d+, Django \d+\.\d+.*",
    r"rows: 120 generations, \d+ ledger rows, \d+ outputs over 90 days \(inserted in [\d.]+ s\)",
    r"\| measured \| queries \| p50 ms \| ratio to baseline \|",
    r"\| --- \| ---: \| ---: \| ---: \|",
    r"\| baseline: list\(Generation\.objects\.order_by\(\"-created_at\"\)\[:100\]\) \| 1 \| "
    r"[\d.]+ \| 1\.0x \|",
    r"\| generation change list \| \d+ \| [\d.]+ \| [\d.]+x \|",
    r"\| dashboard page \| \d+ \| [\d.]+ \| [\d.]+x \|",
    r"\| dashboard aggregates: local_figures\(\) \| 6 \| [\d.]+ \| [\d.]+x \|",
]


def test_admin_pages_prints_its_table_and_drops_its_database(tmp_path: Path) -> None:
    database = tmp_path / "bench.sqlite3"
    command = [sys.executable, str(ADMIN_PAGES), "--generations", "120", "--repeat", "2"]
    done = subprocess.run(
        [*command, "--database-url", f"sqlite:///{database}"],
        cwd=ROOT,
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == len(ADMIN_PAGES_REPORT), done.stdout
    for line, pattern in zip(lines, ADMIN_PAGES_REPORT, strict=True):
        assert re.fullmatch(pattern, line), (pattern, line)
    assert list(tmp_path.iterdir()) == []
    # A database that exists already is refused, and left as it was.
    database.write_bytes(b"not ours")
    refused = subprocess.run(
        [*command, "--database-url", f"sqlite:///{database}"],
        cwd=ROOT,
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 1
    assert refused.stdout.splitlines()[-1].startswith("error: give a new SQLite file")
    assert database.read_bytes() == b"not ours"
