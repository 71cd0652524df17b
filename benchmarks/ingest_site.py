"""The site the webhook ingest benchmark serves: its settings (shared with the gunicorn workers
of ``ingest_wsgi.py``), the receiver and the bare one-INSERT view, the generations waiting for
their deliveries, the signed deliveries themselves, and the statements one of them costs."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from benchmarks.database import BenchmarkError

SECRET: Final = "whsec_benchmark_only_0000000000000000"  # noqa: S105 - signs local requests only
MODEL: Final = "bfl/flux-schnell"
BARE_TABLE: Final = "bench_bare_delivery"
#: How the benchmark hands its database to gunicorn's workers.
DATABASE_ENV: Final = "BABYSEA_INGEST_DATABASE"


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


def floor_view(request: Any) -> Any:
    """The receiver's database work alone: its three statements (insert the delivery, lock the
    generation, update it) in one transaction of raw SQL; no signature, no validation, no ORM.
    What the receiver could reach if its Python cost nothing."""
    from django.db import connection, transaction
    from django.http import JsonResponse
    from django.utils import timezone

    body = request.body.decode()
    remote = uuid.UUID(json.loads(body)["webhook_data"]["generation_id"])
    # UUID columns: native on PostgreSQL, 32 hex characters on SQLite (as Django stores them).
    key = str(remote) if connection.vendor == "postgresql" else remote.hex
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    table = "django_babysea_generation"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {BARE_TABLE} (delivery_id, body) VALUES (%s, %s)",  # noqa: S608
            [str(uuid.uuid4()), body],
        )
        cursor.execute(f"SELECT id, status FROM {table} WHERE generation_id = %s{lock}", [key])  # noqa: S608
        cursor.execute(
            f"UPDATE {table} SET status = %s, updated_at = %s WHERE generation_id = %s",  # noqa: S608
            ["processing", timezone.now(), key],
        )
    return JsonResponse({"ok": True})


def _urls() -> list[Any]:
    from django.urls import include, path
    from django.views.decorators.csrf import csrf_exempt

    return [
        path("babysea/", include("django_babysea.urls")),
        path("bare/", csrf_exempt(bare_view)),
        path("floor/", csrf_exempt(floor_view)),
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


# -- statements ---------------------------------------------------------------------------------


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
