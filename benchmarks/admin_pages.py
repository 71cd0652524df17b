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
import signal
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, Final

import django_babysea
from benchmarks.admin_rows import DAYS, insert_rows
from benchmarks.database import ENV, BenchmarkError, OwnDatabase, database_url, positive_int

DEFAULT_GENERATIONS: Final = 100_000
DEFAULT_NAME: Final = "babysea_bench"
BASELINE: Final = 'list(Generation.objects.order_by("-created_at")[:100])'
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
        database = OwnDatabase(database_url(options.database_url, DEFAULT_NAME))
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
