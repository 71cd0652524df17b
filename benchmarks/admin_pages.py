"""Benchmark: the admin's generation change list and BabySea dashboard at many generations.

Creates its own database (PostgreSQL, or SQLite for a quick try), bulk-inserts ``--generations``
realistic rows (statuses, models, error codes, outputs waiting to be copied, the credit ledger)
spread over 90 days, and renders, as a logged-in superuser through Django's test client:

- the baseline: ``list(Generation.objects.order_by("-created_at")[:100])``, one page of rows;
- the generation change list (``admin:django_babysea_generation_changelist``), whatever it shows;
- the dashboard page (``admin:django_babysea_dashboard_changelist``), its remote figures served
  from the cache (a sandbox in this process answers the one fetch);
- the dashboard's aggregate queries alone (``local_figures()``).

Printed: queries per page and the median (p50) time of each, and its ratio to the baseline. No
target is asserted: the exit status is 0 unless something broke. The database is dropped at
the end, also on Ctrl-C.

    python benchmarks/admin_pages.py [--generations 100000] [--database-url URL] [--repeat 15]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import signal
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from types import FrameType
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

import django_babysea

DEFAULT_GENERATIONS: Final = 100_000
DEFAULT_NAME: Final = "babysea_bench"
BATCH: Final = 5_000
DAYS: Final = 90
ENV: Final = ("BABYSEA_BENCH_DATABASE_URL", "BABYSEA_TEST_DATABASE_URL")
BASELINE: Final = 'list(Generation.objects.order_by("-created_at")[:100])'
MODELS: Final = (
    ("bfl/flux-schnell", "image", "0.003"),
    ("bfl/flux-1.1-pro", "image", "0.040"),
    ("openai/gpt-image-1", "image", "0.042"),
    ("google/imagen-4", "image", "0.040"),
    ("recraft/recraft-v3", "image", "0.040"),
    ("ideogram/ideogram-v3", "image", "0.060"),
    ("google/veo-2", "video", "2.500"),
    ("kwaivgi/kling-v2.1", "video", "1.400"),
    ("minimax/hailuo-02", "video", "0.450"),
    ("runway/gen4-turbo", "video", "0.250"),
)
#: Status weights of a site in steady use: mostly successes, a few failures and cancels.
STATUSES: Final = (
    ("succeeded", 80),
    ("failed", 8),
    ("canceled", 4),
    ("processing", 3),
    ("pending", 3),
    ("created", 2),
)
ERROR_CODES: Final = ("BSE4003", "BSE4001", "BSE4002", "BSE3001", "BSE4005")


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


def database_url(given: str | None) -> str:
    """``--database-url``, else the benchmark's or the tests' variable with the database name
    replaced by ``babysea_bench`` (the tests' own database is never touched)."""
    if given:
        return given
    for name in ENV:
        value = os.environ.get(name)
        if value:
            if name == ENV[0]:
                return value
            parts = urlsplit(value)
            return urlunsplit(parts._replace(path=f"/{DEFAULT_NAME}"))
    raise BenchmarkError(
        f"no database: pass --database-url postgres://USER@HOST:PORT/babysea_bench or set {ENV[0]}"
    )


class OwnDatabase:
    """A database this run creates (refusing one that exists) and drops at the end."""

    def __init__(self, url: str) -> None:
        import dj_database_url

        self.config: dict[str, Any] = dict(dj_database_url.parse(url))
        self.vendor = "sqlite" if "sqlite" in self.config["ENGINE"] else "postgresql"
        self.name = str(self.config["NAME"])
        self.created = False

    def describe(self) -> str:
        return f"{self.vendor} database {self.name}"

    def _admin_connection(self) -> Any:
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
            if self.name in ("", ":memory:") or Path(self.name).exists():
                raise BenchmarkError(f"give a new SQLite file, not {self.name!r}")
            self.created = True
            return
        with self._admin_connection() as admin:
            exists = admin.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (self.name,)
            ).fetchone()
            if exists:
                raise BenchmarkError(
                    f"database {self.name} exists; drop it or name another in the URL"
                )
            admin.execute(f'CREATE DATABASE "{self.name}"')
        self.created = True

    def drop(self) -> None:
        if not self.created:
            return
        from django.db import connections

        connections.close_all()
        if self.vendor == "sqlite":
            for suffix in ("", "-wal", "-shm", "-journal"):
                with contextlib.suppress(FileNotFoundError):
                    Path(self.name + suffix).unlink()
        else:
            with self._admin_connection() as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{self.name}"')
        self.created = False


# -- Django -------------------------------------------------------------------------------------

urlpatterns: list[Any] = []


def configure_django(
    database: dict[str, Any], sandbox_url: str, api_key: str, api: bool = False
) -> None:
    import secrets

    import django
    from django.conf import settings
    from django.core.management import call_command

    settings.configure(
        SECRET_KEY=secrets.token_urlsafe(50),
        DEBUG=False,
        USE_TZ=True,
        TIME_ZONE="UTC",
        ALLOWED_HOSTS=["testserver"],
        ROOT_URLCONF=__name__,
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        INSTALLED_APPS=[
            "django.contrib.admin",
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sessions",
            "django.contrib.messages",
            "django.contrib.staticfiles",
            "django_babysea",
            # The REST API's list, with --api.
            *(["rest_framework", "django_filters"] if api else []),
        ],
        MIDDLEWARE=[
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.middleware.common.CommonMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
            "django.contrib.messages.middleware.MessageMiddleware",
        ],
        TEMPLATES=[
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "APP_DIRS": True,
                "OPTIONS": {
                    "context_processors": [
                        "django.template.context_processors.request",
                        "django.contrib.auth.context_processors.auth",
                        "django.contrib.messages.context_processors.messages",
                    ]
                },
            }
        ],
        DATABASES={"default": database},
        STATIC_URL="/static/",
        BABYSEA={"API_KEY": api_key, "BASE_URL": sandbox_url, "MAX_RETRIES": 0},
        LOGGING_CONFIG=None,
    )
    django.setup()
    from django.contrib import admin
    from django.urls import include, path

    urlpatterns[:] = [path("admin/", admin.site.urls)]
    if api:
        urlpatterns.append(path("babysea/", include("django_babysea.urls")))
    call_command("migrate", verbosity=0)


# -- rows ---------------------------------------------------------------------------------------


@contextlib.contextmanager
def explicit_timestamps() -> Iterator[None]:
    """Let bulk_create keep the timestamps given (spread over days) instead of now."""
    from django_babysea.models import CreditEvent, Generation, GenerationOutput

    fields = [
        f
        for model in (Generation, CreditEvent, GenerationOutput)
        for f in model._meta.concrete_fields
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    saved = [(f, f.auto_now, f.auto_now_add) for f in fields]  # type: ignore[attr-defined]
    for f in fields:
        f.auto_now = f.auto_now_add = False  # type: ignore[attr-defined]
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add  # type: ignore[attr-defined]


@dataclass
class Counts:
    generations: int = 0
    ledger: int = 0
    outputs: int = 0


def insert_rows(total: int, seed: int = 1) -> Counts:
    from django.utils import timezone

    counts = Counts()
    rng = random.Random(seed)
    now = timezone.now()
    with explicit_timestamps():
        for start in range(0, total, BATCH):
            _insert_batch(rng, now, min(BATCH, total - start), counts)
    analyze()
    return counts


def analyze() -> None:
    """Give the planner statistics, as a database in use has (autovacuum may lag a bulk load)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _insert_batch(rng: random.Random, now: Any, size: int, counts: Counts) -> None:
    import uuid

    from django_babysea.models import CreditEvent, Generation, GenerationOutput

    statuses = [s for s, _ in STATUSES]
    weights = [w for _, w in STATUSES]
    generations, events, outputs = [], [], []
    for _ in range(size):
        model, kind, price = rng.choice(MODELS)
        status = rng.choices(statuses, weights)[0]
        created = now - timedelta(seconds=rng.uniform(0, DAYS * 86400))
        if status in ("pending", "processing", "created"):
            created = now - timedelta(seconds=rng.uniform(0, 3600))
        pk = uuid.UUID(int=rng.getrandbits(128), version=4)
        cost = Decimal(price)
        failed = status == "failed"
        generation = Generation(
            id=pk,
            generation_id=None
            if status == "created"
            else uuid.UUID(int=rng.getrandbits(128), version=4),
            kind=kind,
            model_identifier=model,
            prompt="A harbor seal pup asleep on a snowy ice floe",
            request={"generation_prompt": "A harbor seal pup asleep on a snowy ice floe"},
            status=status,
            provider_used=model.split("/")[0] if status == "succeeded" else "",
            error_code=rng.choice(ERROR_CODES) if failed else "",
            error_message="Every provider of the chain failed" if failed else "",
            cost_reserved=cost,
            cost_charged=cost if status == "succeeded" else None,
            idempotency_key=f"django-babysea:{pk}",
            created_at=created,
            updated_at=created,
        )
        generations.append(generation)
        if status == "created":
            continue
        events.append(_event("reserve", cost, generation, created))
        if status == "succeeded":
            settled = created + timedelta(seconds=20)
            events.append(_event("charge", cost, generation, settled))
            outputs.append(_output(rng, generation, now, settled))
        elif status in ("failed", "canceled"):
            events.append(_event("refund", cost, generation, created + timedelta(seconds=20)))
    Generation.objects.bulk_create(generations)
    CreditEvent.objects.bulk_create(events)
    GenerationOutput.objects.bulk_create(outputs)
    counts.generations += len(generations)
    counts.ledger += len(events)
    counts.outputs += len(outputs)


def _event(kind: str, amount: Decimal, generation: Any, when: Any) -> Any:
    from django_babysea.models import CreditEvent

    return CreditEvent(
        kind=kind, amount=amount, generation=generation, source="webhook", created_at=when
    )


def _output(rng: random.Random, generation: Any, now: Any, when: Any) -> Any:
    from django_babysea.models import GenerationOutput

    expires = when + timedelta(days=1)
    # Copies made long ago are stored; the last day's may still wait, fail or be under way.
    state = (
        "stored" if expires < now else rng.choice(["stored"] * 7 + ["pending", "failed", "copying"])
    )
    ext = "mp4" if generation.kind == "video" else "png"
    return GenerationOutput(
        generation=generation,
        index=0,
        source_url=f"https://cdn.us.babysea.ai/{generation.generation_id}/output-0.{ext}",
        state=state,
        storage="default",
        name=f"babysea/{generation.id}/0.{ext}" if state == "stored" else "",
        size=rng.randint(200_000, 40_000_000) if state == "stored" else None,
        content_type=f"video/{ext}" if ext == "mp4" else "image/png",
        remote_expires_at=expires,
        stored_at=when if state == "stored" else None,
        created_at=when,
        updated_at=when,
    )


# -- measuring ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measure:
    name: str
    queries: int
    seconds: list[float]

    @property
    def p50(self) -> float:
        return statistics.median(self.seconds)


def measure(name: str, action: Callable[[], Any], repeat: int) -> Measure:
    from django.db import connection

    action()  # warm-up: templates, first connections, caches
    executed: list[str] = []

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        executed.append(sql)
        return execute(sql, params, many, context)

    # A wrapper rather than the debug query log, which keeps at most 9000 entries.
    with connection.execute_wrapper(count):
        action()
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        seconds.append(time.perf_counter() - started)
    return Measure(name, len(executed), seconds)


def page(client: Any, url: str) -> Callable[[], Any]:
    def get() -> Any:
        response = client.get(url)
        if response.status_code != 200:
            raise BenchmarkError(f"{url} answered {response.status_code}")
        return response.content

    return get


def run(repeat: int, api: bool = False) -> list[Measure]:
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    from django_babysea.models import Generation
    from django_babysea.services.dashboard import local_figures

    user = get_user_model().objects.create_superuser("bench", "bench@example.com", "bench")
    client = Client()
    client.force_login(user)
    return [
        measure(
            f"baseline: {BASELINE}",
            lambda: list(Generation.objects.order_by("-created_at")[:100]),
            repeat,
        ),
        measure(
            "generation change list",
            page(client, reverse("admin:django_babysea_generation_changelist")),
            repeat,
        ),
        measure(
            "dashboard page",
            page(client, reverse("admin:django_babysea_dashboard_changelist")),
            repeat,
        ),
        measure("dashboard aggregates: local_figures()", local_figures, repeat),
        *(
            [
                measure(
                    "API generations list (staff)",
                    page(client, "/babysea/api/generations/"),
                    repeat,
                )
            ]
            if api
            else []
        ),
    ]


def table(measures: list[Measure]) -> list[str]:
    base = measures[0].p50
    lines = [
        "| measured | queries | p50 ms | ratio to baseline |",
        "| --- | ---: | ---: | ---: |",
    ]
    for m in measures:
        lines.append(f"| {m.name} | {m.queries} | {m.p50 * 1000:.1f} | {m.p50 / base:.1f}x |")
    return lines


# -- main ---------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python benchmarks/admin_pages.py",
        description="Render the generation change list and the BabySea dashboard over many "
        "generations; print queries per page and p50 times as ratios to a bare page of rows.",
    )
    parser.add_argument(
        "--generations",
        type=positive_int,
        default=DEFAULT_GENERATIONS,
        help=f"generations to insert (default {DEFAULT_GENERATIONS})",
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help=f"database to create and drop (default: {ENV[0]}, or {ENV[1]} with the name "
        f"{DEFAULT_NAME}); it must not exist",
    )
    parser.add_argument(
        "--repeat", type=positive_int, default=15, help="timed renders of each (default 15)"
    )
    parser.add_argument(
        "--api",
        action="store_true",
        help="also the REST API's generations list (/babysea/api/generations/) as staff",
    )
    return parser


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    options = build_parser().parse_args(argv)

    def say(text: str) -> None:
        print(text, flush=True)

    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    database: OwnDatabase | None = None
    sandbox: Any = None
    try:
        database = OwnDatabase(database_url(options.database_url))
        say(
            f"admin_pages: {options.generations} generations, {database.describe()}, "
            f"{options.repeat} timed runs each"
        )
        from django_babysea.sandbox import Sandbox

        sandbox = Sandbox(speed=0, rate_limit=1_000_000)
        sandbox.start()
        database.create()
        configure_django(database.config, sandbox.url, sandbox.api_key, options.api)
        import django

        package = Path(django_babysea.__file__).parent
        say(
            f"code measured: {package}, Python {sys.version.split()[0]}, "
            f"Django {django.get_version()}"
        )
        started = time.perf_counter()
        counts = insert_rows(options.generations)
        say(
            f"rows: {counts.generations} generations, {counts.ledger} ledger rows, "
            f"{counts.outputs} outputs over {DAYS} days (inserted in "
            f"{time.perf_counter() - started:.1f} s)"
        )
        for line in table(run(options.repeat, options.api)):
            say(line)
    except BenchmarkError as exc:
        say(f"error: {exc}")
        return 1
    except KeyboardInterrupt:
        say("interrupted")
        return 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if sandbox is not None:
            sandbox.stop()
        if database is not None:
            database.drop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
