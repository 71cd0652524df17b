"""Runs each benchmark as its own process and turns what it prints into rows of the table."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

from benchmarks.table import Row

ROOT: Final = Path(__file__).resolve().parent.parent
ENV: Final = ("BABYSEA_BENCH_DATABASE_URL", "BABYSEA_TEST_DATABASE_URL")
SENDERS: Final = (1, 16, 64)
NUMBER: Final = r"([\d.]+)"


class RunError(Exception):
    """A benchmark broke (or printed something unexpected): its row says so."""


@dataclass(frozen=True)
class Sizes:
    """How much each benchmark does: the issue's sizes, or CI's."""

    deliveries: int
    ingest_rounds: int
    #: ``gunicorn`` (2 workers x 8 threads) or Django's ``threaded`` server in the process.
    ingest_server: str
    submissions: int
    submission_rounds: int
    copy_size: str
    copy_repeat: int
    generations: int
    admin_repeat: int
    synced: int
    sync_rounds: int
    stored: int
    sandbox_rounds: int
    sandbox_seconds: float

    @classmethod
    def full(cls) -> Sizes:
        return cls(
            deliveries=300,
            ingest_rounds=3,
            ingest_server="gunicorn",
            submissions=1000,
            submission_rounds=5,
            copy_size="512MiB",
            copy_repeat=3,
            generations=100_000,
            admin_repeat=15,
            synced=10_000,
            sync_rounds=1,
            stored=100_000,
            sandbox_rounds=3,
            sandbox_seconds=2.0,
        )

    @classmethod
    def quick(cls) -> Sizes:
        return cls(
            deliveries=32,
            ingest_rounds=1,
            ingest_server="threaded",  # gunicorn's start-up would be most of a small run
            submissions=60,
            submission_rounds=2,
            copy_size="8MB",
            copy_repeat=1,
            generations=200,
            admin_repeat=2,
            synced=60,
            sync_rounds=1,
            stored=1000,
            sandbox_rounds=1,
            sandbox_seconds=0.3,
        )


# -- processes and databases ------------------------------------------------------------------


def postgres_url(name: str) -> str | None:
    """The PostgreSQL server from the environment, with the database ``name``."""
    for variable in ENV:
        if os.environ.get(variable):
            return urlunsplit(urlsplit(os.environ[variable])._replace(path=f"/{name}"))
    return None


def database_vendor() -> str:
    return "postgresql" if postgres_url("x") else "sqlite"


@contextlib.contextmanager
def database_url(name: str) -> Iterator[str]:
    """The benchmark's own database: ``name`` on the PostgreSQL server, else a SQLite file in
    a temporary directory removed afterwards (the benchmark creates and drops the database)."""
    url = postgres_url(name)
    if url:
        yield url
        return
    with tempfile.TemporaryDirectory(prefix=f"{name}-") as scratch:
        yield f"sqlite:///{scratch}/bench.sqlite3"


def run(arguments: list[str], timeout: float = 1200) -> str:
    """A benchmark's stdout; :class:`RunError` with its last line when it fails."""
    env = dict(os.environ)
    env.pop("DJANGO_SETTINGS_MODULE", None)  # each benchmark configures Django itself
    env.pop("BABYSEA_BENCH_DATABASE_URL", None)  # databases are passed explicitly
    child = subprocess.Popen(  # noqa: S603 (our own interpreter and scripts)
        [sys.executable, *arguments],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        stdout, stderr = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        child.send_signal(signal.SIGINT)  # the child cleans up on SIGINT
        child.communicate(timeout=60)
        raise RunError(f"{arguments[0]} took over {timeout:.0f} s") from None
    except KeyboardInterrupt:
        # Ctrl-C reached the child too: give it the time to drop its database and stop
        # its servers rather than kill it (which subprocess.run would).
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.send_signal(signal.SIGINT)
            child.communicate(timeout=60)
        raise
    done = subprocess.CompletedProcess(arguments, child.returncode, stdout, stderr)
    if done.returncode != 0:
        last = (done.stdout + done.stderr).strip().splitlines()
        raise RunError(f"exit {done.returncode}: {last[-1] if last else 'no output'}")
    return done.stdout


def json_line(output: str) -> dict[str, Any]:
    for line in reversed(output.splitlines()):
        if line.startswith("json: "):
            result: dict[str, Any] = json.loads(line.removeprefix("json: "))
            return result
    raise RunError("no JSON line in the output")


def find(pattern: str, output: str) -> tuple[str, ...]:
    found = re.search(pattern, output, re.MULTILINE)
    if found is None:
        raise RunError(f"no line matching {pattern!r}")
    return found.groups()


def _ms(value: float) -> str:
    return f"{value:.1f} ms"


# -- 1. webhook ingest --------------------------------------------------------------------------


def webhook_ingest(sizes: Sizes) -> list[Row]:
    # One process, database and server for every sender count: only the rounds are measured.
    with database_url("babysea_bench_ingest") as url:
        output = run(
            [
                *("benchmarks/webhook_ingest.py", "--database-url", url),
                *("--senders", ",".join(map(str, SENDERS)), "--deliveries", str(sizes.deliveries)),
                *("--rounds", str(sizes.ingest_rounds), "--json"),
                *("--server", sizes.ingest_server),
            ]
        )
    result = json_line(output)
    rows = [row for each in result["runs"] for row in _ingest_rows(int(each["senders"]), each)]
    return rows + _statement_rows(result)


def _ingest_rows(senders: int, r: dict[str, Any]) -> list[Row]:
    def latency(name: str) -> str:
        return f"p50 {_ms(r[f'{name}_p50_ms'])}, p99 {_ms(r[f'{name}_p99_ms'])}"

    bare = f"bare INSERT view {r['bare_rps']:.0f}/s, {latency('bare')}"
    new = r["receiver_rps"] / r["bare_rps"]
    again = r["duplicate_rps"] / r["bare_rps"]
    return [
        Row(
            f"webhook ingest, new delivery, {senders} senders",
            f"{r['receiver_rps']:.0f}/s, {latency('receiver')}",
            bare,
            new,
            ">= 0.8x",
            new >= 0.8,
        ),
        Row(
            f"webhook ingest, duplicate delivery, {senders} senders",
            f"{r['duplicate_rps']:.0f}/s, {latency('duplicate')}",
            bare,
            again,
            ">= 0.9x",
            again >= 0.9,
        ),
        Row(
            f"webhook ingest floor: the receiver's 3 statements in raw SQL, {senders} senders",
            f"{r['floor_rps']:.0f}/s, {latency('floor')}",
            bare,
            r["floor_rps"] / r["bare_rps"],
        ),
    ]


def _statement_rows(r: dict[str, Any]) -> list[Row]:
    new, dup = r["new_statements"], r["duplicate_statements"]
    return [
        Row(
            "webhook statements, new delivery",
            f"{new} statements, {r['new_commits']} commit",
            "1 statement (bare INSERT)",
            float(new),
            "<= 4 statements, 1 commit",
            new <= 4 and r["new_commits"] == 1,
        ),
        Row(
            "webhook statements, duplicate delivery",
            f"{dup} statements, {r['duplicate_commits']} commit",
            "1 statement (bare INSERT)",
            float(dup),
            "<= 2 statements",
            dup <= 2,
        ),
    ]


# -- 2. submissions -----------------------------------------------------------------------------


def submissions(sizes: Sizes) -> list[Row]:
    with database_url("babysea_bench_submissions") as url:
        output = run(
            [
                *("-m", "benchmarks.submissions", "--database-url", url),
                *("--submissions", str(sizes.submissions)),
                *("--rounds", str(sizes.submission_rounds), "--json"),
            ]
        )
    r = json_line(output)
    ratio = r["service_ms"] / r["raw_ms"]
    count = r["submissions"]
    return [
        Row(
            f"{count} submissions (submit_generation)",
            f"{_ms(r['service_ms'])} per call",
            f"raw httpx loop {_ms(r['raw_ms'])}",
            ratio,
            "<= 1.5x",
            ratio <= 1.5,
        ),
        Row(
            f"{count} submissions: connections opened",
            str(r["service_connections"]),
            f"raw httpx loop {r['raw_connections']}",
            None,
            "1, reused",
            r["service_connections"] == 1,
        ),
    ]


# -- 3. the output copy -------------------------------------------------------------------------


def copy_output(sizes: Sizes) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="babysea-bench-copy-") as scratch:
        output = run(
            [
                "benchmarks/copy_large_output.py",
                *("--size", sizes.copy_size, "--repeat", str(sizes.copy_repeat)),
                *("--dir", scratch),
            ]
        )
    (copy,) = find(rf"^copy_output throughput: median {NUMBER} MB/s", output)
    (curl,) = find(rf"^curl -o throughput: median {NUMBER} MB/s", output)
    ratio, verdict = find(rf"^throughput ratio copy/curl: {NUMBER}x .*: (PASS|FAIL)$", output)
    base, growth, memory = find(
        rf"^peak memory .*: baseline RSS {NUMBER} MB, .* growth {NUMBER} MB .*: (PASS|FAIL)$",
        output,
    )
    return [
        Row(
            f"output copy ({sizes.copy_size})",
            f"{copy} MB/s",
            f"curl -o {curl} MB/s",
            float(ratio),
            ">= 0.8x",
            verdict == "PASS",
        ),
        Row(
            f"output copy ({sizes.copy_size}): peak memory",
            f"RSS growth {growth} MB",
            f"RSS before {base} MB",
            None,
            "< 64 MB",
            memory == "PASS",
        ),
    ]


# -- 4. the admin pages and the API list --------------------------------------------------------


def admin_pages(sizes: Sizes) -> list[Row]:
    with database_url("babysea_bench_admin") as url:
        output = run(
            [
                *("benchmarks/admin_pages.py", "--database-url", url),
                *("--generations", str(sizes.generations), "--repeat", str(sizes.admin_repeat)),
                "--api",
            ]
        )
    table = {
        cells[0]: cells[1:]
        for line in output.splitlines()
        if line.startswith("| ")
        and len(cells := [c.strip() for c in line.strip("|").split("|")]) == 4
    }
    baseline = next((cells for name, cells in table.items() if name.startswith("baseline")), None)
    if baseline is None:
        raise RunError("no baseline row in the admin table")
    rows = []
    for name, (queries, p50, ratio) in table.items():
        if name.startswith(("baseline", "---")) or name == "measured":
            continue
        rows.append(
            Row(
                f"{name} at {sizes.generations} generations",
                f"{queries} queries, p50 {p50} ms",
                f"one page of rows: {baseline[0]} query, p50 {baseline[1]} ms",
                float(ratio.rstrip("x")),
            )
        )
    return rows


# -- 5. sync ------------------------------------------------------------------------------------


def sync(sizes: Sizes) -> list[Row]:
    with database_url("babysea_bench_sync") as url:
        output = run(
            [
                *("-m", "benchmarks.sync", "--database-url", url),
                *("--generations", str(sizes.synced), "--rounds", str(sizes.sync_rounds)),
                "--json",
            ]
        )
    r = json_line(output)
    return [
        Row(
            f"babysea_sync of {r['generations']} remote generations",
            f"{r['sync_s']:.2f} s ({r['jobs']} copies left to a worker)",
            f"paging through list_generations {r['paging_s']:.2f} s",
            r["sync_s"] / r["paging_s"],
        )
    ]


# -- 6. the sandbox -----------------------------------------------------------------------------


def sandbox(sizes: Sizes) -> list[Row]:
    output = run(
        [
            "benchmarks/sandbox_creates.py",
            *("--stored", str(sizes.stored), "--rounds", str(sizes.sandbox_rounds)),
            *("--seconds", str(sizes.sandbox_seconds), "--clients", "1,16"),
        ]
    )
    trivial = dict(re.findall(rf"^\| trivial [^|]+\| - \| (\d+) \| {NUMBER} \|", output, re.M))
    rows = []
    cells = rf"^\| sandbox \| {sizes.stored} \| (\d+) \| {NUMBER} \| {NUMBER}x \|"
    for clients, rate, ratio in re.findall(cells, output, re.MULTILINE):
        if clients not in trivial:
            raise RunError(f"no trivial server figure at {clients} clients")
        rows.append(
            Row(
                f"sandbox creates, {sizes.stored} stored, {clients} clients",
                f"{float(rate):.0f} creates/s",
                f"trivial stdlib server {float(trivial[clients]):.0f}/s",
                float(ratio),
                ">= 500 creates/s",
                float(rate) >= 500,
            )
        )
    if len(rows) != 2:
        raise RunError("the sandbox table lacks a row")
    return rows
