"""``python -m benchmarks`` (``make bench``): every benchmark, one table of ratios.

Each benchmark runs as its own process, started with a machine-readable ending (``--json``) or
read from its report, and measures its figure against a baseline measured in the same run,
interleaved, as the median of several rounds. What they need they start themselves: the
sandbox in its own process, the servers, and a database of their own, on the PostgreSQL server
of ``BABYSEA_BENCH_DATABASE_URL`` or ``BABYSEA_TEST_DATABASE_URL`` (each benchmark renames the
database to a ``babysea_bench_*`` one it creates and drops), else SQLite.

Targets are reported (PASS/FAIL), never asserted: the exit status is 0 when every benchmark
ran, 1 when one broke (its row says why), 2 on a bad option, 130 when interrupted.

    python -m benchmarks [--quick] [--only ingest,submissions,copy,admin,sync,sandbox]
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Final

from benchmarks import rows as measured
from benchmarks.table import Row, failed, render

ROOT: Final = Path(__file__).resolve().parent.parent

BENCHMARKS: Final[dict[str, Callable[[measured.Sizes], list[Row]]]] = {
    "ingest": measured.webhook_ingest,
    "submissions": measured.submissions,
    "copy": measured.copy_output,
    "admin": measured.admin_pages,
    "sync": measured.sync,
    "sandbox": measured.sandbox,
}


def names(text: str) -> list[str]:
    chosen = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in BENCHMARKS]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(
            f"unknown benchmark {', '.join(unknown) or repr(text)}; "
            f"choose from {', '.join(BENCHMARKS)}"
        )
    return chosen


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n")[0] if __doc__ else None
    )
    parser.add_argument("--quick", action="store_true", help="CI sizes: the whole run < 2 min")
    parser.add_argument("--only", type=names, default=list(BENCHMARKS), help="NAME[,NAME]")
    return parser.parse_args(argv)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    options = parse(argv)
    signal.signal(signal.SIGTERM, _interrupt)  # as Ctrl-C: each child cleans up
    sizes = measured.Sizes.quick() if options.quick else measured.Sizes.full()
    command = "python -m benchmarks" + (" --quick" if options.quick else "")
    if options.only != list(BENCHMARKS):
        command += " --only " + ",".join(options.only)
    print(
        f"benchmarks: {'quick' if options.quick else 'full'} sizes, "
        f"{measured.database_vendor()} databases, Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} CPUs",
        flush=True,
    )
    began = time.perf_counter()
    rows: list[Row] = []
    broke = False
    try:
        for name in options.only:
            started = time.perf_counter()
            print(f"running {name}...", file=sys.stderr, flush=True)
            try:
                rows.extend(BENCHMARKS[name](sizes))
            except (measured.RunError, ValueError, KeyError) as exc:
                broke = True  # the table still comes out, this row saying what broke
                rows.append(failed(name, str(exc) or type(exc).__name__))
            took = time.perf_counter() - started
            print(f"{name} took {took:.0f} s", file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        return 130
    for line in render(rows):
        print(line)
    print(f"command: {command} (took {time.perf_counter() - began:.0f} s)")
    return 1 if broke else 0


if __name__ == "__main__":
    sys.exit(main())
