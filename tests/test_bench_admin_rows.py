"""The admin benchmark's two ways of writing its rows (PostgreSQL's COPY and INSERT ... SELECT,
SQLite's bulk_create) write the same rows from the same draws."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import pytest
from django.conf import settings
from django.db import transaction

from benchmarks import admin_rows
from django_babysea.models import CreditEvent, Generation, GenerationOutput

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="the COPY path needs PostgreSQL (set BABYSEA_TEST_DATABASE_URL)",
    ),
]

NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


def written() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the three tables, serial ids aside, in a stable order."""

    def rows(model: Any, leave_out: tuple[str, ...]) -> list[tuple[Any, ...]]:
        names = [f.attname for f in model._meta.concrete_fields if f.attname not in leave_out]
        return sorted(model.objects.values_list(*names), key=repr)

    return {
        "generations": rows(Generation, ()),
        "ledger": rows(CreditEvent, ("id",)),
        "outputs": rows(GenerationOutput, ("id",)),
    }


def test_copy_and_bulk_create_write_the_same_rows() -> None:
    rng = random.Random(7)
    drawn = [admin_rows.draw(rng, NOW) for _ in range(400)]
    with transaction.atomic():
        copied = admin_rows._copy_postgres(drawn)
    by_copy = written()
    CreditEvent.objects.all().delete()
    Generation.objects.all().delete()
    with transaction.atomic():
        bulk = admin_rows._bulk(drawn)
    assert copied == bulk
    assert (copied.generations, copied.ledger, copied.outputs) == tuple(
        len(rows) for rows in by_copy.values()
    )
    assert written() == by_copy
    statuses = {row.status for row in drawn}
    assert {"succeeded", "failed", "created"} <= statuses
