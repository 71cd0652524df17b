"""``demo.py`` in its persistent mode, as a test drives it: started on free ports with its files
in a temporary directory, read until it prints the site's URLs and the login, stopped with the
signal Ctrl-C sends, and checked for processes it left behind."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from .conftest import DEMO, ROOT, free_port, process_env

#: One row of the table the demo prints once the site is ready: ``  gallery   http://...``.
ROW = re.compile(r"^  (gallery|generate|admin|API|login|sandbox|worker) +(.*)$")
READY_TIMEOUT = 180.0


@dataclass
class RunningDemo:
    """A running ``demo.py``: what it printed, the rows of its table, and its process tree."""

    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    rows: dict[str, str] = field(default_factory=dict)
    ready: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        return self.rows["gallery"].rstrip("/")

    @property
    def login(self) -> tuple[str, str]:
        username, password = self.rows["login"].split(" / ")
        return username, password

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def read(self) -> None:
        """The reader thread: every line, and the table once the last row (worker) arrived."""
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            match = ROW.match(line.rstrip("\n"))
            if match:
                self.rows[match[1]] = match[2]
                if match[1] == "worker":
                    self.ready.set()
        self.ready.set()  # the demo ended: nobody should wait any longer

    def wait_until_ready(self, timeout: float = READY_TIMEOUT) -> None:
        assert self.ready.wait(timeout), f"the demo did not get ready:\n{self.output}"
        assert "worker" in self.rows, f"the demo stopped before it was ready:\n{self.output}"

    def descendants(self) -> set[int]:
        """Every process started by the demo, however deep (children run in their own
        sessions, so the process group would not find them)."""
        found: set[int] = set()
        todo = [self.process.pid]
        while todo:
            pid = todo.pop()
            for task in Path(f"/proc/{pid}/task").glob("*"):
                with suppress(OSError):
                    for child in (task / "children").read_text().split():
                        if int(child) not in found:
                            found.add(int(child))
                            todo.append(int(child))
        return found

    def stop(self, signum: int = signal.SIGINT, timeout: float = 60) -> int:
        self.process.send_signal(signum)
        return self.process.wait(timeout=timeout)


def alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie waiting for its parent does not count)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def kill_leftovers(pids: set[int]) -> None:
    for pid in pids:
        with suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


@contextmanager
def persistent_demo(tmp_path: Path, *args: str) -> Iterator[RunningDemo]:
    """``demo.py`` (persistent) on free ports, database and media under ``tmp_path``, ready.

    Whatever the test does, the demo is stopped at the end (SIGINT, then SIGKILL) and so is
    anything it left running, so a failing test never leaves a server behind."""
    command = [
        sys.executable,
        str(DEMO),
        "--port",
        str(free_port()),
        "--database",
        str(tmp_path / "db.sqlite3"),
        "--media-root",
        str(tmp_path / "media"),
        *args,
    ]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=process_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    demo = RunningDemo(process)
    reader = threading.Thread(target=demo.read, daemon=True)
    reader.start()
    seen: set[int] = set()
    try:
        demo.wait_until_ready()
        seen = demo.descendants()
        yield demo
    finally:
        seen |= demo.descendants()
        if process.poll() is None:
            with suppress(subprocess.TimeoutExpired):
                demo.stop(timeout=30)
        if process.poll() is None:
            process.kill()
            process.wait()
        deadline = time.monotonic() + 5
        while any(alive(pid) for pid in seen) and time.monotonic() < deadline:
            time.sleep(0.1)
        kill_leftovers({pid for pid in seen if alive(pid)})
        reader.join(timeout=5)
