"""Benchmark: signed webhook deliveries per second through a real HTTP server.

Creates its own database (PostgreSQL; a SQLite file for ``--quick`` when no PostgreSQL URL is
given), inserts one ``Generation`` per delivery to come, starts Django's threaded WSGI server in
this process (keep-alive connections, persistent database connections), and has ``--senders``
threads post deliveries over HTTP, in interleaved rounds:

- the receiver: ``POST /babysea/webhook/`` with a signed, new ``generation.started`` for a
  known generation (verify, store, apply, answer);
- the baseline: ``POST /bare/``, a bare Django view that reads the body and does one INSERT.

Printed: the rate of each round, the medians and their ratio, and the SQL statements and
commits of one new and one duplicate delivery (through Django's test client). No target is
asserted: the exit status is 0 unless something broke. The database is dropped at the end.

    python benchmarks/webhook_ingest.py [--database-url URL] [--senders 8] [--deliveries 2000]
                                        [--rounds 3] [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

DEFAULT_NAME: Final = "babysea_bench_ingest"
ENV: Final = ("BABYSEA_BENCH_DATABASE_URL", "BABYSEA_TEST_DATABASE_URL")
SECRET: Final = "whsec_benchmark_only_0000000000000000"  # noqa: S105 - signs local requests only
MODEL: Final = "bfl/flux-schnell"
BARE_TABLE: Final = "bench_bare_delivery"


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


# -- the database -------------------------------------------------------------------------------


def database_url(given: str | None, quick: bool) -> str:
    """``--database-url``, else the benchmark's variable, else the tests' one with the database
    name replaced (the tests' own database is never touched); ``--quick`` falls back to SQLite."""
    if given:
        return given
    if os.environ.get(ENV[0]):
        return os.environ[ENV[0]]
    if os.environ.get(ENV[1]):
        parts = urlsplit(os.environ[ENV[1]])
        return urlunsplit(parts._replace(path=f"/{DEFAULT_NAME}"))
    if quick:
        return f"sqlite:///{tempfile.mkdtemp(prefix='babysea-ingest-')}/bench.sqlite3"
    raise BenchmarkError(f"no database: pass --database-url postgres://... or set {ENV[0]}")


class OwnDatabase:
    """A database this run creates (refusing one that exists) and drops at the end."""

    def __init__(self, url: str) -> None:
        import dj_database_url

        self.config: dict[str, Any] = dict(dj_database_url.parse(url))
        self.vendor = "sqlite" if "sqlite" in self.config["ENGINE"] else "postgresql"
        self.name = str(self.config["NAME"])
        self.created = False

    def _admin(self) -> Any:
        import psycopg

        return psycopg.connect(
            host=self.config.get("HOST") or None,
            port=self.config.get("PORT") or None,
            user=self.config.get("USER") or None,
            password=self.config.get("PASSWORD") or None,
            dbname="postgres",
            autocommit=True,
        )

    def create(self) -> None:
        if self.vendor == "sqlite":
            if Path(self.name).exists():
                raise BenchmarkError(f"give a new SQLite file, not {self.name!r}")
        else:
            with self._admin() as admin:
                found = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.name,))
                if found.fetchone():
                    raise BenchmarkError(f"database {self.name} exists; drop it or name another")
                admin.execute(f'CREATE DATABASE "{self.name}"')
        self.created = True

    def drop(self) -> None:
        if not self.created:
            return
        from django.conf import settings
        from django.db import connections

        if settings.configured:
            connections.close_all()
        if self.vendor == "sqlite":
            for suffix in ("", "-wal", "-shm", "-journal"):
                with contextlib.suppress(FileNotFoundError):
                    Path(self.name + suffix).unlink()
        else:
            with self._admin() as admin:
                # The server's threads may still hold connections: FORCE ends them.
                admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        self.created = False


# -- Django -------------------------------------------------------------------------------------


def bare_view(request: Any) -> Any:
    """The floor: read the body, one INSERT, answer."""
    from django.db import connection
    from django.http import JsonResponse

    body = request.body.decode()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {BARE_TABLE} (delivery_id, body) VALUES (%s, %s)",  # noqa: S608
            [str(uuid.uuid4()), body],
        )
    return JsonResponse({"ok": True})


def _urls() -> list[Any]:
    from django.urls import include, path
    from django.views.decorators.csrf import csrf_exempt

    return [
        path("babysea/", include("django_babysea.urls")),
        path("bare/", csrf_exempt(bare_view)),
    ]


urlpatterns: list[Any] = []


def django_settings(database: dict[str, Any], urlconf: str) -> dict[str, Any]:
    """The settings of this process and of the gunicorn workers (``ingest_wsgi.py``)."""
    return {
        "SECRET_KEY": "benchmark-only-not-secret",
        "DEBUG": False,
        "USE_TZ": True,
        "TIME_ZONE": "UTC",
        "ALLOWED_HOSTS": ["*"],
        "ROOT_URLCONF": urlconf,
        "DEFAULT_AUTO_FIELD": "django.db.models.BigAutoField",
        "INSTALLED_APPS": ["django.contrib.auth", "django.contrib.contenttypes", "django_babysea"],
        "MIDDLEWARE": ["django.middleware.common.CommonMiddleware"],
        "DATABASES": {"default": {**database, "CONN_MAX_AGE": None, "OPTIONS": _options(database)}},
        "BABYSEA": {"API_KEY": "bye_benchmark_only", "WEBHOOK_SECRETS": [SECRET]},
        "LOGGING_CONFIG": None,
    }


def configure_django(database: dict[str, Any]) -> None:
    import django
    from django.conf import settings
    from django.core.management import call_command

    settings.configure(**django_settings(database, __name__))
    django.setup()
    urlpatterns.extend(_urls())
    call_command("migrate", verbosity=0)
    from django.db import connection

    key = "bigserial" if connection.vendor == "postgresql" else "integer"
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE {BARE_TABLE} (id {key} PRIMARY KEY, "
            "delivery_id varchar(36) UNIQUE NOT NULL, body text NOT NULL)"
        )


def _options(database: dict[str, Any]) -> dict[str, Any]:
    # SQLite: concurrent writers wait for each other instead of failing at once.
    return {"timeout": 30} if "sqlite" in database["ENGINE"] else {}


# -- deliveries ---------------------------------------------------------------------------------


def make_generations(count: int) -> list[str]:
    """``count`` pending generations (their reserve recorded, as the create response does),
    each waiting for its ``generation.started``."""
    from decimal import Decimal

    from django_babysea.models import CreditEvent, CreditEventKind, Generation, GenerationKind

    price = Decimal("0.003")
    rows = [
        Generation(
            generation_id=uuid.uuid4(),
            kind=GenerationKind.IMAGE,
            model_identifier=MODEL,
            prompt="A harbor seal pup asleep on a snowy ice floe",
            status="pending",
            idempotency_key=f"bench:{uuid.uuid4()}",
            cost_reserved=price,
        )
        for _ in range(count)
    ]
    Generation.objects.bulk_create(rows, batch_size=1000)
    reserves = [
        CreditEvent(
            generation=row,
            kind=CreditEventKind.RESERVE,
            amount=price,
            source="create",
            details={"amount_known": True},
        )
        for row in rows
    ]
    CreditEvent.objects.bulk_create(reserves, batch_size=1000)
    return [str(row.generation_id) for row in rows]


def started(generation_id: str) -> bytes:
    payload = {
        "webhook_event": "generation.started",
        "webhook_timestamp": "2026-06-10T16:07:12.702Z",
        "webhook_delivery_id": str(uuid.uuid4()),
        "webhook_data": {
            "model_identifier": MODEL,
            "generation_status": "processing",
            "generation_prediction_id": "bfl_7f3c2a91d04e",
            "generation_id": generation_id,
        },
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def signed(body: bytes) -> dict[str, str]:
    from django_babysea.client.webhooks import SIGNATURE_HEADER, sign

    return {SIGNATURE_HEADER: sign(SECRET, body), "Content-Type": "application/json"}


# -- the server and the senders -----------------------------------------------------------------


GUNICORN: Final = ("--workers", "2", "--threads", "8", "--worker-class", "gthread")
DATABASE_ENV: Final = "BABYSEA_INGEST_DATABASE"


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
        with httpx.Client(timeout=30) as client:
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


# -- statements -----------------------------------------------------------------------------------


@dataclass
class Trips:
    statements: int = 0
    commits: int = 0


def count_trips(action: Callable[[], Any]) -> Trips:
    """Statements (SQLite's explicit BEGIN aside) and commits of ``action`` on this thread."""
    from django.db import connection

    trips = Trips()
    writes = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if sql.strip().upper() != "BEGIN":
            trips.statements += 1
            if not connection.in_atomic_block and writes.match(sql):
                trips.commits += 1
        return execute(sql, params, many, context)

    real_commit = connection.commit

    def commit() -> None:
        trips.commits += 1
        real_commit()

    connection.commit = commit  # type: ignore[method-assign]
    try:
        with connection.execute_wrapper(wrapper):
            action()
    finally:
        del connection.commit
    return trips


def statements_per_delivery(generation_id: str) -> tuple[Trips, Trips]:
    from django.test import Client

    client = Client()
    body = started(generation_id)

    def post() -> None:
        response = client.post("/babysea/webhook/", data=body, **_meta(signed(body)))
        if response.status_code != 200:
            raise BenchmarkError(f"the receiver answered {response.status_code}")

    return count_trips(post), count_trips(post)


def _meta(headers: dict[str, str]) -> dict[str, Any]:
    meta: dict[str, Any] = {"content_type": headers.pop("Content-Type")}
    meta["headers"] = headers
    return meta


# -- the run ------------------------------------------------------------------------------------


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--database-url")
    parser.add_argument("--senders", type=positive_int, default=8)
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
        args.senders, args.deliveries, args.rounds = 2, 40, 2
    return args


def run(args: argparse.Namespace, database: OwnDatabase) -> None:
    configure_django(database.config)
    from django_babysea.models import Generation, WebhookDelivery

    total = args.deliveries * args.rounds
    print(
        f"webhook_ingest: {database.vendor} database {database.name}, {args.senders} senders, "
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
    receiver: list[float] = []
    bare: list[float] = []
    duplicates: list[float] = []
    waits: dict[str, list[float]] = {"receiver": [], "bare": [], "duplicate": []}
    with serving(args.server, database.config) as url:
        if warm:
            send_all(f"{url}/babysea/webhook/", [started(g) for g in warm_ids], warm, True)
            send_all(f"{url}/bare/", [started(g) for g in warm_ids], warm, False)
        for number in range(args.rounds):
            batch = ids[number * args.deliveries : (number + 1) * args.deliveries]
            bodies = [started(g) for g in batch]
            receiver.append(
                send_all(f"{url}/babysea/webhook/", bodies, args.senders, True, waits["receiver"])
            )
            bare.append(
                send_all(
                    f"{url}/bare/", [started(g) for g in batch], args.senders, False, waits["bare"]
                )
            )
            if args.json:  # the same deliveries again: each one a duplicate
                duplicates.append(
                    send_all(
                        f"{url}/babysea/webhook/", bodies, args.senders, True, waits["duplicate"]
                    )
                )
            print(
                f"round {number + 1}: receiver {receiver[-1]:.0f} deliveries/s, "
                f"bare insert view {bare[-1]:.0f} requests/s"
            )
    ratio = statistics.median(receiver) / statistics.median(bare)
    print(f"receiver: median {statistics.median(receiver):.0f} deliveries/s")
    print(f"bare insert view: median {statistics.median(bare):.0f} requests/s")
    print(f"ratio receiver/bare: {ratio:.2f}x (medians)")
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
        print_json(args.senders, receiver, bare, duplicates, waits, new, duplicate)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def print_json(
    senders: int,
    receiver: list[float],
    bare: list[float],
    duplicates: list[float],
    waits: dict[str, list[float]],
    new: Trips,
    duplicate: Trips,
) -> None:
    """One line for ``python -m benchmarks``: medians, p50/p99 in ms, statements, commits."""
    results: dict[str, Any] = {
        "senders": senders,
        "receiver_rps": statistics.median(receiver),
        "bare_rps": statistics.median(bare),
        "duplicate_rps": statistics.median(duplicates),
        "new_statements": new.statements,
        "new_commits": new.commits,
        "duplicate_statements": duplicate.statements,
        "duplicate_commits": duplicate.commits,
    }
    for name, values in waits.items():
        results[f"{name}_p50_ms"] = percentile(values, 0.50) * 1000
        results[f"{name}_p99_ms"] = percentile(values, 0.99) * 1000
    print("json: " + json.dumps(results, separators=(",", ":")), flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    try:
        database = OwnDatabase(database_url(args.database_url, args.quick))
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
