"""The processes the demo starts (the site, the Celery worker), and stopping all of them.

Each child runs in a session of its own, so the terminal's Ctrl-C reaches only the demo, which
then stops its children in reverse order: SIGTERM to the child's whole process group (anything
the child started goes too), SIGKILL after a grace period. No child outlives the demo.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit, urlunsplit

#: Seconds a child gets to stop after SIGTERM (a worker finishes its running tasks).
GRACE = 10.0


class Children:
    """The demo's child processes; leaving the ``with`` block stops every one of them."""

    def __init__(self) -> None:
        self.running: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(
        self,
        name: str,
        command: Sequence[str],
        env: dict[str, str],
        cwd: Path | None = None,
        quiet: bool = False,
    ) -> subprocess.Popen[bytes]:
        """Start ``command``; its output goes to the demo's own (only problems are logged),
        or nowhere when ``quiet``."""
        output = subprocess.DEVNULL if quiet else None
        process = subprocess.Popen(
            command, env=env, cwd=cwd, stdout=output, stderr=output, start_new_session=True
        )
        self.running.append((name, process))
        return process

    def wait_for_any(self, interval: float = 0.5) -> str:
        """Block until one child exits; its name."""
        while True:
            for name, process in self.running:
                if process.poll() is not None:
                    return name
            time.sleep(interval)

    def stop(self) -> None:
        # A second Ctrl-C while stopping would leave children behind: wait for them instead.
        previous = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            while self.running:
                _, process = self.running.pop()
                terminate(process)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def __enter__(self) -> Children:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def terminate(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the process group, SIGKILL if it is still there after :data:`GRACE`."""
    for signum, wait in ((signal.SIGTERM, GRACE), (signal.SIGKILL, GRACE)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signum)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=wait)
            return


def celery_unavailable(broker: str) -> str | None:
    """Why no worker can run on ``broker`` (Celery or redis-py missing, Redis not answering),
    or None when one can."""
    try:
        import celery  # noqa: F401
        import redis
    except ImportError as exc:
        return f"{exc.name} is not installed"
    try:
        redis.Redis.from_url(broker, socket_connect_timeout=1, socket_timeout=1).ping()
    except (redis.RedisError, OSError) as exc:
        return f"Redis at {shown(broker)} does not answer: {type(exc).__name__}"
    return None


def shown(url: str) -> str:
    """``url`` without its password, for printing."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def worker_command(queue: str, port: int) -> list[str]:
    """A Celery worker of the example site on ``queue``: threads (cheap, and fine for the
    demo's I/O-bound work), only warnings and errors logged."""
    return [
        sys.executable,
        "-m",
        "celery",
        "--quiet",  # no banner
        "-A",
        "example_site",
        "worker",
        "--pool",
        "threads",
        "--concurrency",
        "2",
        "--queues",
        queue,
        "--hostname",
        f"babysea-demo-{port}@%h",
        "--loglevel",
        "WARNING",
        "--without-gossip",
        "--without-mingle",
    ]
