"""The rows of the admin benchmark: many generations of a site in use, with their ledger and
outputs, spread over 90 days.

Every generation is drawn once in Python with a seeded ``random.Random`` (status, model, times,
error code, the state of its output copy); the same draws are then written two ways:

- PostgreSQL: the draws are copied (``COPY``) into a narrow temporary table, and each of the
  three tables is filled from it by one ``INSERT ... SELECT``: a few seconds for 100,000;
- SQLite (quick tries): ``bulk_create`` of model instances in batches.

Columns the draws do not decide take their model defaults, so a new field needs no change here.
"""

from __future__ import annotations

import contextlib
import itertools
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Final

BATCH: Final = 5_000
DAYS: Final = 90
PROMPT: Final = "A harbor seal pup asleep on a snowy ice floe"
FAILURE: Final = "Every provider of the chain failed"
SETTLED_AFTER: Final = timedelta(seconds=20)
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


@dataclass
class Counts:
    generations: int = 0
    ledger: int = 0
    outputs: int = 0


@dataclass(frozen=True, slots=True)
class Drawn:
    """One generation as drawn: what varies from row to row."""

    pk: uuid.UUID
    generation_id: uuid.UUID | None
    kind: str
    model: str
    price: Decimal
    status: str
    created: datetime
    error_code: str | None
    output_state: str | None  # None: no output (not succeeded)
    output_size: int | None

    def seed_row(self) -> tuple[Any, ...]:
        """The row of the seed table (``SEED_COLUMNS``)."""
        return (
            *(self.pk, self.generation_id, self.kind, self.model, self.price, self.status),
            *(self.created, self.error_code, self.output_state, self.output_size),
        )


NAMES: Final = tuple(status for status, _ in STATUSES)
CUMULATIVE: Final = tuple(itertools.accumulate(weight for _, weight in STATUSES))


def draw(rng: random.Random, now: datetime) -> Drawn:
    model, kind, price = rng.choice(MODELS)
    status = rng.choices(NAMES, cum_weights=CUMULATIVE)[0]
    created = now - timedelta(seconds=rng.uniform(0, DAYS * 86400))
    if status in ("pending", "processing", "created"):
        created = now - timedelta(seconds=rng.uniform(0, 3600))
    pk = uuid.UUID(int=rng.getrandbits(128), version=4)
    remote = None if status == "created" else uuid.UUID(int=rng.getrandbits(128), version=4)
    error_code = rng.choice(ERROR_CODES) if status == "failed" else None
    state = size = None
    if status == "succeeded":
        # Copies made long ago are stored; the last day's may still wait, fail or be under way.
        expired = created + SETTLED_AFTER + timedelta(days=1) < now
        state = (
            "stored" if expired else rng.choice(["stored"] * 7 + ["pending", "failed", "copying"])
        )
        size = rng.randint(200_000, 40_000_000) if state == "stored" else None
    return Drawn(pk, remote, kind, model, Decimal(price), status, created, error_code, state, size)


def insert_rows(total: int, seed: int = 1) -> Counts:
    """Insert ``total`` generations with their ledger and outputs, then ``ANALYZE``."""
    from django.db import connection, transaction
    from django.utils import timezone

    rng = random.Random(seed)
    now = timezone.now()
    drawn = [draw(rng, now) for _ in range(total)]
    with transaction.atomic():
        counts = _copy_postgres(drawn) if connection.vendor == "postgresql" else _bulk(drawn)
    with connection.cursor() as cursor:
        # Planner statistics, as a database in use has (autovacuum may lag a bulk load).
        cursor.execute("ANALYZE")
    return counts


# -- PostgreSQL: COPY the draws, INSERT ... SELECT the tables --------------------------------------

SEED_TABLE: Final = "bench_admin_seed"
SEED_COLUMNS: Final = (
    "id uuid, generation_id uuid, kind text, model text, price numeric(12, 3), status text, "
    "created timestamptz, error_code text, output_state text, output_size bigint"
)
EXT: Final = "CASE WHEN s.kind = 'video' THEN 'mp4' ELSE 'png' END"
SETTLED: Final = "s.created + interval '20 seconds'"


def _copy_postgres(drawn: list[Drawn]) -> Counts:
    from django.db import connection

    from django_babysea.models import CreditEvent, Generation, GenerationOutput

    _skip_foreign_key_checks()
    with connection.connection.cursor() as raw:
        raw.execute(f"CREATE TEMPORARY TABLE {SEED_TABLE} ({SEED_COLUMNS}) ON COMMIT DROP")
        with raw.copy(f"COPY {SEED_TABLE} FROM STDIN") as copy:
            for row in drawn:
                copy.write_row(row.seed_row())
    counts = Counts()
    counts.generations = _insert_select(Generation, _GENERATION, "TRUE")
    for kind, when, condition in (
        ("reserve", "s.created", "s.status <> 'created'"),
        ("charge", SETTLED, "s.status = 'succeeded'"),
        ("refund", SETTLED, "s.status IN ('failed', 'canceled')"),
    ):
        columns = {
            "kind": f"'{kind}'",
            "amount": "s.price",
            "generation_id": "s.id",
            "source": "'webhook'",
            "created_at": when,
        }
        counts.ledger += _insert_select(CreditEvent, columns, condition)
    counts.outputs = _insert_select(GenerationOutput, _OUTPUT, "s.output_state IS NOT NULL")
    return counts


def _skip_foreign_key_checks() -> None:
    """Every key points at a row of the same load: checking 270,000 of them at the commit takes
    seconds. Only a superuser may skip them (``session_replication_role``); others check."""
    from django.db import DatabaseError, connection, transaction

    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
    except DatabaseError:
        pass


# Column -> SQL over the seed row ``s``; every other column takes its model default.
_GENERATION: Final = {
    "id": "s.id",
    "generation_id": "s.generation_id",
    "kind": "s.kind",
    "model_identifier": "s.model",
    "prompt": f"'{PROMPT}'",
    "request": f"""'{{"generation_prompt": "{PROMPT}"}}'::jsonb""",
    "status": "s.status",
    "provider_used": "CASE WHEN s.status = 'succeeded' THEN split_part(s.model, '/', 1) "
    "ELSE '' END",
    "error_code": "coalesce(s.error_code, '')",
    "error_message": f"CASE WHEN s.status = 'failed' THEN '{FAILURE}' ELSE '' END",
    "cost_reserved": "s.price",
    "cost_charged": "CASE WHEN s.status = 'succeeded' THEN s.price END",
    "idempotency_key": "'django-babysea:' || s.id",
    "created_at": "s.created",
    "updated_at": "s.created",
}
_OUTPUT: Final = {
    "generation_id": "s.id",
    "index": "0",
    "source_url": f"'https://cdn.us.babysea.ai/' || s.generation_id || '/output-0.' || {EXT}",
    "state": "s.output_state",
    "storage": "'default'",
    "name": f"CASE WHEN s.output_state = 'stored' THEN 'babysea/' || s.id || '/0.' || {EXT} "
    "ELSE '' END",
    "size": "s.output_size",
    "content_type": "CASE WHEN s.kind = 'video' THEN 'video/mp4' ELSE 'image/png' END",
    "remote_expires_at": f"{SETTLED} + interval '1 day'",
    "stored_at": f"CASE WHEN s.output_state = 'stored' THEN {SETTLED} END",
    "created_at": SETTLED,
    "updated_at": SETTLED,
}


def _insert_select(model: Any, given: dict[str, str], condition: str) -> int:
    """``INSERT INTO <model's table> SELECT ... FROM the seed table WHERE condition``; the rows
    inserted."""
    from django.db import connection

    quote = connection.ops.quote_name
    columns, values, params = [], [], []
    for field in model._meta.concrete_fields:
        if field.column in given:
            values.append(given[field.column])
        elif field.primary_key:
            continue  # a serial key
        elif field.has_default() or not field.null:
            values.append("%s")
            params.append(field.get_db_prep_save(field.get_default(), connection))
        else:
            values.append("NULL")
        columns.append(quote(field.column))
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(columns)}) "  # noqa: S608
        f"SELECT {', '.join(values)} FROM {SEED_TABLE} s WHERE {condition}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)


# -- SQLite: bulk_create --------------------------------------------------------------------------


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


def _bulk(drawn: list[Drawn]) -> Counts:
    from django_babysea.models import CreditEvent, Generation, GenerationOutput

    generations = [_generation(row) for row in drawn]
    events: list[Any] = []
    outputs: list[Any] = []
    for row, generation in zip(drawn, generations, strict=True):
        if row.status == "created":
            continue
        events.append(_event("reserve", generation, row.created))
        settled = row.created + SETTLED_AFTER
        if row.status == "succeeded":
            events.append(_event("charge", generation, settled))
            outputs.append(_output(row, generation, settled))
        elif row.status in ("failed", "canceled"):
            events.append(_event("refund", generation, settled))
    with explicit_timestamps():
        Generation.objects.bulk_create(generations, batch_size=BATCH)
        CreditEvent.objects.bulk_create(events, batch_size=BATCH)
        GenerationOutput.objects.bulk_create(outputs, batch_size=BATCH)
    return Counts(len(generations), len(events), len(outputs))


def _generation(row: Drawn) -> Any:
    from django_babysea.models import Generation

    failed = row.status == "failed"
    return Generation(
        id=row.pk,
        generation_id=row.generation_id,
        kind=row.kind,
        model_identifier=row.model,
        prompt=PROMPT,
        request={"generation_prompt": PROMPT},
        status=row.status,
        provider_used=row.model.split("/")[0] if row.status == "succeeded" else "",
        error_code=row.error_code or "",
        error_message=FAILURE if failed else "",
        cost_reserved=row.price,
        cost_charged=row.price if row.status == "succeeded" else None,
        idempotency_key=f"django-babysea:{row.pk}",
        created_at=row.created,
        updated_at=row.created,
    )


def _event(kind: str, generation: Any, when: datetime) -> Any:
    from django_babysea.models import CreditEvent

    amount = generation.cost_reserved
    return CreditEvent(
        kind=kind, amount=amount, generation=generation, source="webhook", created_at=when
    )


def _output(row: Drawn, generation: Any, when: datetime) -> Any:
    from django_babysea.models import GenerationOutput

    assert row.output_state is not None  # drawn for every success
    ext = "mp4" if row.kind == "video" else "png"
    stored = row.output_state == "stored"
    return GenerationOutput(
        generation=generation,
        index=0,
        source_url=f"https://cdn.us.babysea.ai/{row.generation_id}/output-0.{ext}",
        state=row.output_state,
        storage="default",
        name=f"babysea/{row.pk}/0.{ext}" if stored else "",
        size=row.output_size,
        content_type="video/mp4" if ext == "mp4" else "image/png",
        remote_expires_at=when + timedelta(days=1),
        stored_at=when if stored else None,
        created_at=when,
        updated_at=when,
    )
