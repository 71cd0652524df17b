"""The live test server as the sandbox's webhook peer: a way to wait until it is idle.

A test that lets the sandbox deliver webhooks to the live server must not end, nor read the
database on in-memory SQLite, while the server is still handling one: the work the webhook view
defers until its response is sent (copying outputs) runs on after the sandbox has its answer,
and a flush at teardown would deadlock with it on PostgreSQL.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.signals import request_finished, request_started
from django.db import connection, connections

if TYPE_CHECKING:
    from django_babysea.sandbox import Sandbox


@dataclass
class LiveSite:
    """The live test server, and a way to wait until it is idle."""

    url: str
    sandbox: Sandbox | None = None
    _idle: threading.Condition = field(default_factory=threading.Condition)
    _started: int = 0
    _finished: int = 0

    def request_started(self, **kwargs: Any) -> None:
        with self._idle:
            self._started += 1

    def request_finished(self, **kwargs: Any) -> None:
        # Connected after django_babysea's own receiver, so it runs after the deferred jobs.
        with self._idle:
            self._finished += 1
            self._idle.notify_all()

    def settle(self, quiet: float = 0.05, timeout: float = 30) -> None:
        """Wait until every request the server began has finished, and none began for
        ``quiet`` seconds (a browser's last request may still be on its way)."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while True:
                left = deadline - time.monotonic()
                done = self._idle.wait_for(lambda: self._finished >= self._started, left)
                assert done, f"the live server is still busy after {timeout} s"
                seen = self._started
                quiet_until = time.monotonic() + quiet
                while self._started == seen and (left := quiet_until - time.monotonic()) > 0:
                    self._idle.wait(left)
                if self._started == seen:
                    return

    def finish(self, timeout: float = 10) -> None:
        """Let the sandbox finish every in-flight generation, deliver its webhooks to the
        site, and wait until the site has handled them."""
        assert self.sandbox is not None, "use the site_sandbox fixture"
        self.sandbox.run_until_idle(timeout=timeout)
        self.settle()


@contextmanager
def watching(url: str) -> Iterator[LiveSite]:
    """Count the live server's requests while the block runs; wait for them to finish at its end."""
    site = LiveSite(url)
    request_started.connect(site.request_started)
    request_finished.connect(site.request_finished)
    try:
        with one_request_at_a_time():
            yield site
            site.settle()
    finally:
        request_started.disconnect(site.request_started)
        request_finished.disconnect(site.request_finished)


@contextmanager
def one_request_at_a_time() -> Iterator[None]:
    """On in-memory SQLite the live server's threads share one connection, so two requests at
    once (the sandbox delivers webhooks of different generations in parallel) would interleave
    their transactions: the server handles them one after the other, each with the work it
    defers until its response is sent. PostgreSQL keeps them parallel."""
    if connection.vendor != "sqlite":
        yield
        return
    lock = threading.Lock()
    holding = threading.local()

    def started(**kwargs: object) -> None:
        holding.lock = lock.acquire(timeout=30)

    def finished(**kwargs: object) -> None:
        if getattr(holding, "lock", False):
            holding.lock = False
            lock.release()

    request_started.connect(started)
    request_finished.connect(finished)  # after django_babysea's own: its deferred work runs first
    try:
        yield
    finally:
        request_started.disconnect(started)
        request_finished.disconnect(finished)


def in_parallel(jobs: Sequence[Callable[[], Any]]) -> list[Any]:
    """Run ``jobs`` in threads released at the same moment; re-raise the first error."""
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)
    errors: list[BaseException] = []

    def run(index: int, job: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = job()
        except BaseException as exc:  # handed to the test thread below
            errors.append(exc)
        finally:
            connections.close_all()  # this thread's own connections, if it opened any

    threads = [threading.Thread(target=run, args=item) for item in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    if errors:
        raise errors[0]
    return results
