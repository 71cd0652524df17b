"""Benchmark: ``sync_generations`` (``babysea_sync``) of many remote generations, vs merely
paging through them.

The sandbox runs in its own process and stores ``--generations`` finished generations at once
(``POST /_sandbox/seed``). Django is configured in this process on a database of the run's own
(PostgreSQL from the environment, else SQLite). The two take turns, ``--rounds`` times:

- the baseline: the client's ``list_generations`` page after page (100 per page), nothing stored;
- the sync: ``sync_generations()`` on an empty table, which walks the same pages and creates a
  local row for every generation (the table is emptied again after each turn).

Printed: each round, the medians and their ratio. No target: the ratio says what storing costs
on top of the transfer.

    python -m benchmarks.sync [--generations 10000] [--rounds 3] [--database-url URL] [--quick]
                              [--json]
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any, Final

from benchmarks import site
from benchmarks.sandbox_creates import control, positive_int

NAME: Final = "babysea_bench_sync"
PAGE: Final = 100


def page_through() -> int:
    from django_babysea.services.connection import get_client

    client = get_client()
    seen = offset = 0
    while True:
        page = client.list_generations(limit=PAGE, offset=offset)
        seen += len(page.generations)
        offset += len(page.generations)
        if not page.generations or offset >= page.total:
            return seen


def sync_once(expected: int) -> int:
    """One sync into empty tables; returns the copy jobs it left for a worker (the copy
    benchmark measures copying), which are then dropped with the rows."""
    from django_babysea.models import GenerationOutput, OutputState
    from django_babysea.services import dispatch, sync_generations

    # The inline jobs (copying every output) wait for the end of a response that never comes
    # here, as a worker's queue would hold them; the next round's call starts a new list.
    dispatch.defer_until_response_sent()
    created, _updated = sync_generations()
    if created != expected:
        raise site.BenchmarkError(f"the sync created {created} rows, not {expected}")
    # One copy job per generation with outputs waiting to be copied.
    waiting = GenerationOutput.objects.filter(state=OutputState.PENDING)
    return waiting.values("generation").distinct().count()


def empty_tables() -> None:
    """Every row the sync wrote (the catalog aside), foreign keys checked at the commit."""
    from django.apps import apps
    from django.db import connection, transaction

    tables = [
        model._meta.db_table
        for model in apps.get_app_config("django_babysea").get_models()
        if model.__name__ != "CatalogModel" and not model._meta.proxy
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")  # noqa: S608


def timed(action: Any, *args: Any) -> float:
    began = time.perf_counter()
    action(*args)
    return time.perf_counter() - began


def measure(url: str, count: int, rounds: int) -> dict[str, Any]:
    control(url, "/seed", {"count": count})
    seen = page_through()  # warm-up: the connection, first imports
    if seen != count:
        raise site.BenchmarkError(f"the sandbox listed {seen} generations, not {count}")
    paging: list[float] = []
    syncing: list[float] = []
    jobs = 0
    for number in range(rounds):
        paging.append(timed(page_through))
        began = time.perf_counter()
        jobs = sync_once(count)
        syncing.append(time.perf_counter() - began)
        empty_tables()
        print(
            f"round {number + 1}: paging {paging[-1]:.2f} s, sync {syncing[-1]:.2f} s "
            f"({jobs} copy jobs left to a worker)",
            flush=True,
        )
    return {
        "generations": count,
        "jobs": jobs,
        "sync_s": site.median(syncing),
        "paging_s": site.median(paging),
    }


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--generations", type=positive_int, default=10_000)
    parser.add_argument("--rounds", type=positive_int, default=3)
    parser.add_argument("--database-url")
    parser.add_argument("--quick", action="store_true", help="500 generations, 1 round")
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    args = parser.parse_args(argv)
    if args.quick:
        args.generations, args.rounds = 500, 1
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    headline = (
        f"sync: sync_generations of {args.generations} remote generations vs paging "
        f"through them, {args.rounds} interleaved rounds"
    )
    results = site.run_against_sandbox(
        NAME, args.database_url, headline, lambda url: measure(url, args.generations, args.rounds)
    )
    if isinstance(results, int):
        return results
    ratio = results["sync_s"] / results["paging_s"]
    print(f"sync_generations: median {results['sync_s']:.2f} s")
    print(f"paging through list_generations: median {results['paging_s']:.2f} s")
    print(f"ratio sync/paging: {ratio:.2f}x")
    if args.json:
        site.emit_json(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
