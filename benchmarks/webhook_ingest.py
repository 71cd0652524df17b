"""Benchmark: signed webhook deliveries per second through a real HTTP server.

Creates its own database (PostgreSQL; a SQLite file for ``--quick`` when no PostgreSQL URL is
given), inserts one ``Generation`` per delivery to come, starts one server (Django's threaded
WSGI server in this process, or gunicorn in its own) and has ``--senders`` threads post
deliveries over HTTP, in interleaved rounds, for each sender count in turn:

- the receiver: ``POST /babysea/webhook/`` with a signed, new ``generation.started`` for a
  known generation (verify, store, apply, answer);
- the baseline: ``POST /bare/``, a bare Django view that reads the body and does one INSERT.

Printed: the rate of each round, the medians and their ratio, and the SQL statements and
commits of one new and one duplicate delivery (through Django's test client). No target is
asserted: the exit status is 0 unless something broke. The database is dropped at the end.

One database, one server and one warm-up serve every sender count of ``--senders 1,16,64``:
creating and dropping a database (a checkpoint) and starting gunicorn are not measurement.

    python benchmarks/webhook_ingest.py [--database-url URL] [--senders 8[,N...]]
                                        [--deliveries 2000] [--rounds 3] [--quick]
                                        [--server threaded|gunicorn] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from benchmarks.database import BenchmarkError, OwnDatabase, database_url, positive_int
from benchmarks.ingest_load import GUNICORN, send_all, serving
from benchmarks.ingest_site import (
    Trips,
    configure_django,
    make_generations,
    started,
    statements_per_delivery,
)

__all__ = ["BenchmarkError", "OwnDatabase", "main"]

DEFAULT_NAME: Final = "babysea_bench_ingest"


def sender_counts(text: str) -> list[int]:
    return [positive_int(part) for part in text.split(",")]


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--database-url")
    parser.add_argument(
        "--senders", type=sender_counts, default=[8], help="client threads: N or N,N,..."
    )
    parser.add_argument("--deliveries", type=positive_int, default=2000, help="per round")
    parser.add_argument("--rounds", type=positive_int, default=3)
    parser.add_argument("--quick", action="store_true", help="2 senders, 40 deliveries, 2 rounds")
    parser.add_argument(
        "--server",
        choices=("threaded", "gunicorn"),
        default="threaded",
        help="Django's threaded server in this process, or gunicorn (2 workers x 8 threads)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="also time duplicate deliveries and end with one JSON line (latencies included)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.senders, args.deliveries, args.rounds = [2], 40, 2
    return args


@dataclass
class Streams:
    """The rates of each round and every request's seconds, per stream, for one sender count."""

    senders: int
    receiver: list[float] = field(default_factory=list)
    bare: list[float] = field(default_factory=list)
    duplicates: list[float] = field(default_factory=list)
    #: The receiver's three statements alone, in raw SQL (``floor_view``).
    floor: list[float] = field(default_factory=list)
    waits: dict[str, list[float]] = field(
        default_factory=lambda: {"receiver": [], "bare": [], "duplicate": [], "floor": []}
    )


def run_rounds(url: str, ids: list[str], args: argparse.Namespace, senders: int) -> Streams:
    """``args.rounds`` interleaved rounds at ``senders``; one generation of ``ids`` per delivery."""
    streams = Streams(senders)
    waits = streams.waits
    for number in range(args.rounds):
        batch = ids[number * args.deliveries : (number + 1) * args.deliveries]
        bodies = [started(g) for g in batch]
        streams.receiver.append(
            send_all(f"{url}/babysea/webhook/", bodies, senders, True, waits["receiver"])
        )
        bare = [started(g) for g in batch]
        streams.bare.append(send_all(f"{url}/bare/", bare, senders, False, waits["bare"]))
        floor = [started(g) for g in batch]
        streams.floor.append(send_all(f"{url}/floor/", floor, senders, False, waits["floor"]))
        if args.json:  # the same deliveries again: each one a duplicate
            streams.duplicates.append(
                send_all(f"{url}/babysea/webhook/", bodies, senders, True, waits["duplicate"])
            )
        print(
            f"round {number + 1}: receiver {streams.receiver[-1]:.0f} deliveries/s, "
            f"bare insert view {streams.bare[-1]:.0f} requests/s, "
            f"its 3 statements alone {streams.floor[-1]:.0f} requests/s",
            flush=True,
        )
    ratio = statistics.median(streams.receiver) / statistics.median(streams.bare)
    print(f"receiver: median {statistics.median(streams.receiver):.0f} deliveries/s")
    print(f"bare insert view: median {statistics.median(streams.bare):.0f} requests/s")
    print(f"ratio receiver/bare: {ratio:.2f}x (medians)", flush=True)
    return streams


def run(args: argparse.Namespace, database: OwnDatabase) -> None:
    configure_django(database.config)
    from django_babysea.models import Generation, WebhookDelivery

    per_count = args.deliveries * args.rounds
    total = per_count * len(args.senders)
    counts = ",".join(str(senders) for senders in args.senders)
    print(
        f"webhook_ingest: {database.vendor} database {database.name}, {counts} senders, "
        f"{args.deliveries} deliveries per round, {args.rounds} rounds, "
        + (
            "gunicorn, 2 workers x 8 threads"
            if args.server == "gunicorn"
            else "Django's threaded WSGI server in this process"
        )
    )
    # gunicorn's workers import and connect on their first requests: a warm-up pays for it.
    warm = 4 * int(GUNICORN[1]) if args.server == "gunicorn" else 0
    ids = make_generations(total + 1 + warm)
    new, duplicate = statements_per_delivery(ids.pop())
    warm_ids, ids = ids[:warm], ids[warm:]
    runs: list[Streams] = []
    with serving(args.server, database.config) as url:
        if warm:
            send_all(f"{url}/babysea/webhook/", [started(g) for g in warm_ids], warm, True)
            send_all(f"{url}/bare/", [started(g) for g in warm_ids], warm, False)
        for index, senders in enumerate(args.senders):
            if len(args.senders) > 1:
                print(f"{senders} senders:", flush=True)
            mine = ids[index * per_count : (index + 1) * per_count]
            runs.append(run_rounds(url, mine, args, senders))
    print(
        f"statements per delivery: new generation.started {new.statements} "
        f"({new.commits} commit), duplicate {duplicate.statements} ({duplicate.commits} commit)"
    )
    processed = WebhookDelivery.objects.filter(state="processed").count()
    moved = Generation.objects.filter(status="processing").count()
    if processed != total + 1 + warm or moved != total + 1 + warm:
        raise BenchmarkError(f"{processed} deliveries processed, {moved} generations moved")
    print(f"verified: {processed} deliveries stored and processed, {moved} generations processing")
    if args.json:
        print_json(runs, new, duplicate)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def summary(streams: Streams) -> dict[str, Any]:
    """One sender count's medians and p50/p99 in ms."""
    results: dict[str, Any] = {
        "senders": streams.senders,
        "receiver_rps": statistics.median(streams.receiver),
        "bare_rps": statistics.median(streams.bare),
        "duplicate_rps": statistics.median(streams.duplicates),
        "floor_rps": statistics.median(streams.floor),
    }
    for name, values in streams.waits.items():
        results[f"{name}_p50_ms"] = percentile(values, 0.50) * 1000
        results[f"{name}_p99_ms"] = percentile(values, 0.99) * 1000
    return results


def print_json(runs: list[Streams], new: Trips, duplicate: Trips) -> None:
    """One line for ``python -m benchmarks``: each sender count's figures (``runs``), and the
    statements and commits of one delivery."""
    results: dict[str, Any] = {
        "runs": [summary(streams) for streams in runs],
        "new_statements": new.statements,
        "new_commits": new.commits,
        "duplicate_statements": duplicate.statements,
        "duplicate_commits": duplicate.commits,
    }
    print("json: " + json.dumps(results, separators=(",", ":")), flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    try:
        url = database_url(args.database_url, DEFAULT_NAME, sqlite=args.quick)
        database = OwnDatabase(url)
        database.create()
    except BenchmarkError as exc:
        print(f"webhook_ingest: {exc}", file=sys.stderr)
        return 2
    try:
        run(args, database)
    except BenchmarkError as exc:
        print(f"webhook_ingest: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("webhook_ingest: interrupted", file=sys.stderr)
        return 130
    finally:
        database.drop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
