"""``make demo --once`` and ``demo.py --once`` as processes: every run succeeds, a taken port is
one line. The persistent mode (the default) is in test_persistent.py."""

from __future__ import annotations

import re
import socket
import sqlite3
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import demo, free_port, make_demo

pytestmark = pytest.mark.slow


@pytest.fixture
def files(tmp_path: Path) -> list[str]:
    """demo.py options putting its database and media under the test's own directory."""
    return ["--database", str(tmp_path / "db.sqlite3"), "--media-root", str(tmp_path / "media")]


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port something else listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def generated(done: subprocess.CompletedProcess[str]) -> list[str]:
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert not [line for line in lines if line.startswith("Copy ")], done.stdout
    stored = [line for line in lines if line.startswith("Stored: ")]
    assert [re.sub(r".* bytes, (.*)\) at .*", r"\1", line) for line in stored] == [
        "image/png",
        "video/mp4",
    ], done.stdout
    assert re.search(r"^webhook deliveries to the site: \d+, answered \[200\]$", done.stdout, re.M)
    return [line.split(": ")[1] for line in lines if line.startswith("Generation id: ")]


def test_every_run_succeeds_on_the_default_path(tmp_path: Path, files: list[str]) -> None:
    # make demo passes PORT through; the same seeded sandbox makes the same ids every run.
    first = make_demo(f"PORT={free_port()}", "DEMO_ARGS=--once " + " ".join(files))
    ids = generated(first)
    second = demo("--once", "--port", str(free_port()), *files)
    assert generated(second) == ids
    assert len(ids) == 2

    # Each run starts from an empty database; what the last one made is there to look at.
    with sqlite3.connect(tmp_path / "db.sqlite3") as db:
        rows = db.execute("SELECT generation_id FROM django_babysea_generation").fetchall()
    assert sorted(str(uuid.UUID(row[0])) for row in rows) == sorted(ids)
    files = [p for p in (tmp_path / "media").rglob("*") if p.is_file()]
    # The copies themselves (renditions and posters beside them are named 0.<width>w.<format>,
    # 0.poster.jpg...), one per generation of the last run only.
    assert sorted(p.name for p in files if re.fullmatch(r"\d+\.\w+", p.name)) == ["0.mp4", "0.png"]
    assert {p.parent.name for p in files} == set(ids)


def test_a_taken_port_is_one_line_and_a_non_zero_exit(
    tmp_path: Path, files: list[str], busy_port: int
) -> None:
    done = demo("--port", str(busy_port), *files)
    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    match = re.fullmatch(
        rf"Port {busy_port} is in use; run make demo PORT=(\d+) \(or demo\.py --port \1\)\.",
        lines[0],
    )
    assert match, lines[0]
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", int(match[1])))  # the port it suggests is free

    made = make_demo(f"PORT={busy_port}", "DEMO_ARGS=" + " ".join(files))
    assert made.returncode != 0
    assert made.stdout == ""
    assert made.stderr.splitlines()[0] == lines[0]

    sandbox = demo("--sandbox-port", str(busy_port), "--port", str(free_port()), *files)
    assert sandbox.returncode == 1
    assert re.fullmatch(
        rf"Port {busy_port} is in use; run make demo SANDBOX_PORT=(\d+) "
        r"\(or demo\.py --sandbox-port \1\)\.\n",
        sandbox.stderr,
    ), sandbox.stderr

    assert not (tmp_path / "db.sqlite3").exists()  # refused before touching anything
