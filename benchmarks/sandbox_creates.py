"""Benchmark: creates per second of the sandbox, empty and with many generations stored.

The sandbox runs in its own process (``python -m django_babysea.sandbox --port 0``, instant
generations, limits raised out of the way). Client threads, each with its own keep-alive
``httpx.Client``, send ``POST /v1/generate/image/bfl/flux-schnell`` for a fixed time to an empty
sandbox (reset before each turn) and to one where ``POST /_sandbox/seed`` stored ``--stored``
finished generations.
The baseline is a trivial stdlib ``ThreadingHTTPServer`` (also in its own process) answering a
fixed JSON body to the same requests from the same clients: what this machine, this client and
the stdlib server can do at all, so it is known never to bound the others. The three servers run
side by side and every cell is measured in turn, round after round; the median is printed.

Printed: creates/s per server, stored count and client count, the ratio to the trivial server
at the same client count, and the ratio of the stored-N run to the empty run. The target is
reported, not asserted: the exit status is 0 unless something broke (1), 130 when interrupted.

    python benchmarks/sandbox_creates.py [--stored 100000] [--rounds 5] [--seconds 2]
                                         [--clients 1,16] [--speed 0] [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any, Final

import httpx

import django_babysea

MODEL: Final = "bfl/flux-schnell"
CREATE_PATH: Final = f"/v1/generate/image/{MODEL}"
BODY: Final = {"generation_prompt": "A harbor seal pup asleep on a snowy ice floe"}
TARGET: Final = 500.0
TRIVIAL: Final = "trivial stdlib server (fixed JSON)"
STARTUP_TIMEOUT: Final = 30.0
TRIVIAL_BODY: Final = json.dumps(
    {"status": "success", "message": "Generation initialized", "data": {"generation_id": "x"}}
).encode()


class BenchmarkError(Exception):
    """Something broke: the figures would mean nothing."""


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be above zero, not {text}")
    return value


def client_counts(text: str) -> list[int]:
    return [positive_int(part) for part in text.split(",")]


# -- the trivial server (run as ``--trivial-server`` in its own process) -----------------------


class TrivialHandler(BaseHTTPRequestHandler):
    """Reads the body, answers one fixed JSON body; keep-alive and TCP_NODELAY like the sandbox."""

    protocol_version = "HTTP/1.1"
    wbufsize = 64 * 1024

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(TRIVIAL_BODY)))
        self.end_headers()
        self.wfile.write(TRIVIAL_BODY)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve_trivial() -> int:
    server = ThreadingHTTPServer(("127.0.0.1", 0), TrivialHandler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    print(f"trivial server on http://127.0.0.1:{server.server_address[1]}", flush=True)
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        server.serve_forever()
    return 0


# -- processes ----------------------------------------------------------------------------------


class Process:
    """A child in its own session (a Ctrl-C reaches this script only) whose first line of
    output names its URL; :meth:`stop` ends it."""

    def __init__(self, command: list[str]) -> None:
        self.command = command
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> str:
        self.process = subprocess.Popen(  # noqa: S603 (our own interpreter and scripts)
            self.command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        stdout = self.process.stdout
        assert stdout is not None
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(stdout.readline()), daemon=True)
        reader.start()
        reader.join(STARTUP_TIMEOUT)
        found = re.search(r"on (http://\S+)", line[0]) if line else None
        if found is None:
            self.stop()
            raise BenchmarkError(f"{' '.join(self.command[1:3])} did not start")
        return found[1]

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def sandbox_command(speed: float) -> list[str]:
    huge = "1000000000"
    return [
        sys.executable,
        "-m",
        "django_babysea.sandbox",
        *("--port", "0", "--speed", str(speed), "--seed", "1"),
        *("--rate-limit", huge, "--balance", huge, "--concurrency", f"{huge},{huge}"),
    ]


@contextlib.contextmanager
def running(command: list[str]) -> Iterator[str]:
    process = Process(command)
    try:
        yield process.start()
    finally:
        process.stop()


def control(url: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(f"{url}/_sandbox{path}", json=body, timeout=600)
    if response.status_code >= 400:
        raise BenchmarkError(f"sandbox control {path} answered {response.status_code}")
    result: dict[str, Any] = response.json()
    return result


# -- measuring ----------------------------------------------------------------------------------


def creates_per_second(url: str, api_key: str, clients: int, seconds: float) -> float:
    """Requests answered 2xx per second by ``clients`` threads over ``seconds``."""
    start = threading.Barrier(clients + 1)
    counts = [0] * clients
    errors: list[str] = []
    stop_at: list[float] = []
    headers = {"Authorization": f"Bearer {api_key}"}

    def worker(slot: int) -> None:
        with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
            try:
                http.post(CREATE_PATH, json=BODY)  # warm-up: the connection and first imports
            finally:
                start.wait()
            while time.perf_counter() < stop_at[0]:
                response = http.post(CREATE_PATH, json=BODY)
                if response.status_code >= 300:
                    errors.append(f"{response.status_code}: {response.text[:200]}")
                    return
                counts[slot] += 1

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    stop_at.append(time.perf_counter() + 3600)  # replaced once every client is warm
    start.wait()
    began = time.perf_counter()
    stop_at[0] = began + seconds
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if errors:
        raise BenchmarkError(f"a create failed: {errors[0]}")
    return sum(counts) / elapsed


@dataclass(frozen=True)
class Cell:
    server: str
    stored: int | None
    clients: int


def measure(options: argparse.Namespace) -> tuple[dict[Cell, float], float]:
    """The median creates/s of every cell. The three servers run side by side and the cells
    take turns round after round, so a burst of load elsewhere on the machine lands on all
    of them alike instead of on whichever was measured at that moment."""
    from django_babysea.sandbox.defaults import DEMO_API_KEY

    trivial = [sys.executable, str(Path(__file__).resolve()), "--trivial-server"]
    with (
        running(trivial) as trivial_url,
        running(sandbox_command(options.speed)) as empty_url,
        running(sandbox_command(options.speed)) as full_url,
    ):
        began = time.perf_counter()
        control(full_url, "/seed", {"count": options.stored})
        seeded = time.perf_counter() - began
        urls: dict[int | None, str] = {None: trivial_url, 0: empty_url, options.stored: full_url}
        cells = [
            Cell("sandbox" if stored is not None else TRIVIAL, stored, clients)
            for stored in urls
            for clients in options.clients
        ]
        samples: dict[Cell, list[float]] = {cell: [] for cell in cells}
        for _ in range(options.rounds):
            for cell in cells:
                if cell.stored == 0:
                    control(empty_url, "/reset", {})  # empty means empty at every turn
                rate = creates_per_second(
                    urls[cell.stored], DEMO_API_KEY, cell.clients, options.seconds
                )
                samples[cell].append(rate)
    return {cell: statistics.median(rates) for cell, rates in samples.items()}, seeded


def report(options: argparse.Namespace, rates: dict[Cell, float], seeded: float) -> None:
    trivial = {c.clients: rate for c, rate in rates.items() if c.stored is None}
    empty = {c.clients: rate for c, rate in rates.items() if c.stored == 0}
    print("| server | stored | clients | creates/s | ratio to trivial | stored vs empty |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for cell, rate in rates.items():
        stored = "-" if cell.stored is None else str(cell.stored)
        versus = "-" if cell.stored is None else f"{rate / empty[cell.clients]:.2f}x"
        print(
            f"| {cell.server} | {stored} | {cell.clients} | {rate:.1f} | "
            f"{rate / trivial[cell.clients]:.2f}x | {versus} |"
        )
    full = [rate for cell, rate in rates.items() if cell.stored == options.stored]
    verdict = "PASS" if all(rate >= TARGET for rate in full) else "FAIL"
    counts = " and ".join(str(c) for c in options.clients)
    print(f"seeded {options.stored} generations in {seeded:.1f} s")
    print(
        f"target >= {TARGET:.0f} creates/s at {counts} clients with {options.stored} "
        f"stored: {verdict}"
    )


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stored", type=positive_int, default=100_000, help="seeded generations")
    parser.add_argument("--seconds", type=positive_float, default=2.0, help="time per turn")
    parser.add_argument("--rounds", type=positive_int, default=5, help="turns of every cell")
    parser.add_argument("--clients", type=client_counts, default=[1, 16], help="e.g. 1,16")
    parser.add_argument("--speed", type=float, default=0.0, help="the sandbox's --speed")
    parser.add_argument("--quick", action="store_true", help="2,000 stored, one 0.5 s round")
    parser.add_argument("--trivial-server", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.quick:
        options.stored, options.seconds, options.rounds = 2000, 0.5, 1
    return options


def main(argv: list[str] | None = None) -> int:
    options = parse(argv)
    if options.trivial_server:
        return serve_trivial()

    def on_term(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    counts = ",".join(str(c) for c in options.clients)
    print(
        f"sandbox_creates: POST {CREATE_PATH} at {counts} clients, empty and with "
        f"{options.stored} generations stored, sandbox speed {options.speed:g}; median of "
        f"{options.rounds} interleaved rounds of {options.seconds:g} s per cell",
        flush=True,
    )
    version = ".".join(str(v) for v in sys.version_info[:3])
    print(f"code measured: {Path(django_babysea.__file__).parent}, Python {version}", flush=True)
    try:
        rates, seeded = measure(options)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        return 130
    except (BenchmarkError, httpx.HTTPError) as exc:
        print(f"error: {exc}", flush=True)
        return 1
    report(options, rates, seeded)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
