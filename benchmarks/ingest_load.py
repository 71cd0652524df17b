"""The servers and the senders of the webhook ingest benchmark: gunicorn in its own processes or
Django's threaded server in the benchmark's, and threads posting deliveries over keep-alive
connections."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

from benchmarks.database import BenchmarkError
from benchmarks.ingest_site import DATABASE_ENV, signed

GUNICORN: Final = ("--workers", "2", "--threads", "8", "--worker-class", "gthread")


@contextlib.contextmanager
def serving(server: str, database: dict[str, Any]) -> Iterator[str]:
    if server == "gunicorn":
        with gunicorn(database) as url:
            yield url
    else:
        with threaded() as url:
            yield url


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def gunicorn(database: dict[str, Any]) -> Iterator[str]:
    """gunicorn in its own processes (2 workers of 8 threads) serving the same site
    (``benchmarks/ingest_wsgi.py``) on the same database."""
    port = free_port()
    env = {**os.environ, DATABASE_ENV: json.dumps(database, default=str)}
    root = Path(__file__).resolve().parent.parent
    process = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
        [
            *(sys.executable, "-m", "gunicorn", *GUNICORN, "--bind", f"127.0.0.1:{port}"),
            *("--backlog", "256", "--log-level", "warning", "benchmarks.ingest_wsgi:application"),
        ],
        cwd=root,
        env=env,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise BenchmarkError("gunicorn did not start")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def threaded() -> Iterator[str]:
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler

    class QuietHandler(WSGIRequestHandler):
        # Headers and body go out in separate writes: without this, Nagle's algorithm and the
        # client's delayed ACK add 40 ms to every keep-alive request, on both sides alike.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            pass

    class Server(ThreadedWSGIServer):
        # Every sender connects at once: the default backlog (10) resets the rest at 64.
        request_queue_size = 256

    server = Server(("127.0.0.1", 0), QuietHandler, allow_reuse_address=False)
    server.set_app(WSGIHandler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One context for every sender's client: httpx otherwise loads the certificates for each
    (over 0.1 s of CPU on a busy machine, 64 senders x 3 streams per round), for plain HTTP."""
    return ssl.create_default_context()


def send_all(
    url: str,
    bodies: list[bytes],
    senders: int,
    sign_them: bool,
    latencies: list[float] | None = None,
) -> float:
    """Post every body from ``senders`` threads; the rate in requests per second. Each
    request's seconds are appended to ``latencies`` when given."""
    import httpx

    chunks = [bodies[i::senders] for i in range(senders)]
    problems: list[str] = []
    start = threading.Barrier(senders + 1)

    def run(chunk: list[bytes]) -> None:
        with httpx.Client(timeout=30, verify=_tls_context()) as client:
            start.wait()
            for body in chunk:
                headers = signed(body) if sign_them else {"Content-Type": "application/json"}
                sent = time.perf_counter()
                try:
                    response = client.post(url, content=body, headers=headers)
                except httpx.HTTPError as exc:  # counted, not lost with the thread
                    problems.append(f"{type(exc).__name__}: {exc}")
                    return
                if latencies is not None:
                    latencies.append(time.perf_counter() - sent)
                if response.status_code != 200 or not response.json().get("ok"):
                    problems.append(f"{response.status_code} {response.text[:200]}")

    threads = [threading.Thread(target=run, args=(chunk,)) for chunk in chunks]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if problems:
        raise BenchmarkError(f"{len(problems)} requests failed, e.g. {problems[0]}")
    return len(bodies) / elapsed
