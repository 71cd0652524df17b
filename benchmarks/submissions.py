"""Benchmark: ``submit_generation`` against the sandbox, vs a raw ``httpx.Client`` loop.

The sandbox runs in its own process (instant generations, limits out of the way). Django is
configured in this process on a database of the run's own (PostgreSQL from the environment, else
SQLite), ``USE_CELERY`` off, so every submission stores its row, commits, and sends the create
call inline. The baseline posts the same bodies (with an ``Idempotency-Key``, as the service
sends) to the same sandbox with one keep-alive ``httpx.Client``: what the HTTP round trip
alone costs. The two take turns, ``--rounds`` times, ``--submissions`` split over the rounds.

TCP connections are counted where they are opened (``socket.create_connection``, which httpx's
transport calls for every new connection) for both loops: the service must reuse one.

Printed: each round, the medians of the time per call, their ratio, and the connections.
The target (at most 1.5x the raw loop, one connection reused) is reported, never asserted.

    python -m benchmarks.submissions [--submissions 1000] [--rounds 5] [--database-url URL]
                                     [--quick] [--json]
"""

from __future__ import annotations

import argparse
import socket
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Final
from urllib.parse import urlsplit

import httpx

from benchmarks import site
from benchmarks.sandbox_creates import positive_int

MODEL: Final = "bfl/flux-schnell"
PROMPT: Final = "A harbor seal pup asleep on a snowy ice floe"
TARGET_RATIO: Final = 1.5
NAME: Final = "babysea_bench_submissions"


@contextmanager
def counting_connections(port: int) -> Iterator[list[int]]:
    """Counts the TCP connections opened to ``port`` while the block runs."""
    opened = [0]
    real = socket.create_connection

    def create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        if int(address[1]) == port:
            opened[0] += 1
        return real(address, *args, **kwargs)

    socket.create_connection = create_connection
    try:
        yield opened
    finally:
        socket.create_connection = real


def service_loop(count: int) -> None:
    from django_babysea.services import submit_generation

    for _ in range(count):
        generation = submit_generation(MODEL, generation_prompt=PROMPT)
        if generation.generation_id is None:
            raise site.BenchmarkError(f"a submission failed: {generation.error_message}")


def raw_loop(http: httpx.Client) -> Callable[[int], None]:
    def run(count: int) -> None:
        for _ in range(count):
            response = http.post(
                f"/v1/generate/image/{MODEL}",
                json={"generation_prompt": PROMPT},
                headers={"Idempotency-Key": str(uuid.uuid4())},
            )
            if response.status_code >= 300:
                raise site.BenchmarkError(f"the raw post answered {response.status_code}")

    return run


def timed(action: Callable[[int], None], count: int) -> float:
    began = time.perf_counter()
    action(count)
    return (time.perf_counter() - began) / count


def measure(url: str, total: int, rounds: int) -> dict[str, Any]:
    from django_babysea.sandbox.defaults import DEMO_API_KEY
    from django_babysea.services import refresh_catalog

    port = int(urlsplit(url).port or 80)
    per_round = max(1, total // rounds)
    headers = {"Authorization": f"Bearer {DEMO_API_KEY}"}
    service: list[float] = []
    raw: list[float] = []
    with counting_connections(port) as opened:
        # A site keeps BabySea's catalog (babysea_catalog, or the admin's first page): sends
        # price themselves from it, without an estimate request each.
        refresh_catalog()
        service_loop(1)  # warm-up: imports, the pool's first connection
        warm = opened[0]
        with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
            raw_loop(http)(1)
            raw_warm = opened[0] - warm
            service_opened = raw_opened = 0
            for number in range(rounds):
                before = opened[0]
                service.append(timed(service_loop, per_round))
                service_opened += opened[0] - before
                before = opened[0]
                raw.append(timed(raw_loop(http), per_round))
                raw_opened += opened[0] - before
                print(
                    f"round {number + 1}: submit_generation {service[-1] * 1000:.2f} ms, "
                    f"raw httpx {raw[-1] * 1000:.2f} ms per call",
                    flush=True,
                )
    return {
        "submissions": per_round * rounds,
        "service_ms": site.median(service) * 1000,
        "raw_ms": site.median(raw) * 1000,
        "service_connections": warm + service_opened,
        "raw_connections": raw_warm + raw_opened,
    }


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--submissions", type=positive_int, default=1000, help="in all")
    parser.add_argument("--rounds", type=positive_int, default=5)
    parser.add_argument("--database-url")
    parser.add_argument("--quick", action="store_true", help="100 submissions, 2 rounds")
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    args = parser.parse_args(argv)
    if args.quick:
        args.submissions, args.rounds = 100, 2
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    headline = (
        f"submissions: {args.submissions} submit_generation (inline send) vs raw "
        f"httpx posts, {args.rounds} interleaved rounds"
    )
    results = site.run_against_sandbox(
        NAME, args.database_url, headline, lambda url: measure(url, args.submissions, args.rounds)
    )
    if isinstance(results, int):
        return results
    ratio = results["service_ms"] / results["raw_ms"]
    verdict = "PASS" if ratio <= TARGET_RATIO and results["service_connections"] == 1 else "FAIL"
    print(f"submit_generation: median {results['service_ms']:.2f} ms per call")
    print(f"raw httpx loop: median {results['raw_ms']:.2f} ms per call")
    print(
        f"ratio submit/raw: {ratio:.2f}x; connections opened: submit_generation "
        f"{results['service_connections']}, raw loop {results['raw_connections']}; "
        f"target <= {TARGET_RATIO}x, one connection: {verdict}"
    )
    if args.json:
        site.emit_json(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
