"""Command line: ``python -m benchmarks.reliability [deliveries|submissions|worker|all]``.

Each run prints ``[run] tried: ...`` lines, its figures, one ``LOST:`` line per loss or double
and ``[run] lost: N``; the exit status is 1 when anything was lost, 2 when the run could not be
set up. ``all`` runs each in its own process (each configures Django for itself).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from typing import Final

from .harness import HarnessError, stack

RUNS: Final = ("deliveries", "submissions", "worker")
#: Full sizes (the issue's) and --quick sizes (CI, under a minute each).
SIZES: Final = {
    "deliveries": (10_000, 300),
    "submissions": (1_000, 50),
    "worker": (200, 12),
}


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.reliability")
    parser.add_argument("run", nargs="?", default="all", choices=(*RUNS, "all"))
    parser.add_argument("--quick", action="store_true", help="the reduced sizes of CI")
    parser.add_argument("--count", type=_positive, default=None, help="size of the run")
    return parser.parse_args(argv)


def run_one(name: str, count: int, quick: bool) -> int:
    from . import deliveries, submissions, worker

    try:
        if name == "deliveries":
            with stack() as run:
                report = deliveries.run(run, count)
        elif name == "submissions":
            with stack() as run:
                report = submissions.run(run, count)
        else:
            report = worker.run(count, kills=1 if quick else 3, quick=quick)
    except HarnessError as exc:
        print(f"[{name}] could not run: {exc}", file=sys.stderr)
        return 2
    report.print()
    return 0 if report.ok else 1


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.run != "all":
        count = args.count or SIZES[args.run][1 if args.quick else 0]
        return run_one(args.run, count, args.quick)
    worst = 0
    for name in RUNS:
        command = [sys.executable, "-m", "benchmarks.reliability", name]
        command += ["--quick"] if args.quick else []
        command += ["--count", str(args.count)] if args.count else []
        worst = max(worst, subprocess.call(command))  # noqa: S603 - this module
    return worst


if __name__ == "__main__":
    sys.exit(main())
