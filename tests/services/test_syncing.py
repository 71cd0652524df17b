"""The sync applies a page of BabySea's list in a few statements, with the rules of apply_event."""

from __future__ import annotations

import math
import threading
import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from django_babysea.client import BabySea
from django_babysea.client import Generation as RemoteGeneration
from django_babysea.models import (
    CreditEvent,
    CreditEventKind,
    DeliveryState,
    Generation,
    GenerationOutput,
    WebhookDelivery,
)
from django_babysea.sandbox import Sandbox
from django_babysea.services import apply_event, submit_generation, sync_generations, syncing
from tests.core.helpers import WEBHOOK_PATH, encode, signed_headers, webhook_payload

from .conftest import MODEL, PROMPT

pytestmark = pytest.mark.django_db(transaction=True)

on_postgres = pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="concurrent transactions need PostgreSQL (set BABYSEA_TEST_DATABASE_URL)",
)
WAIT = 10
OUTCOMES = ("succeeded", "failed", "canceled", "processing", "pending")


def made_elsewhere(
    sandbox: Sandbox, remote: BabySea, count: int, statuses: tuple[str, ...] = OUTCOMES
) -> list[str]:
    """``count`` generations made by another client, in each of ``statuses`` in turn."""
    sandbox.auto_advance = False
    ids = []
    for index in range(count):
        created = remote.generate(MODEL, generation_prompt=f"Seal {index}")
        status = statuses[index % len(statuses)]
        if status != "pending":
            sandbox.advance(created.generation_id, to=status)
        ids.append(created.generation_id)
    return ids


def in_transaction(queries: CaptureQueriesContext) -> list[str]:
    """The statements of the page's transaction: what ran after its commit (the inline output
    copies) is not the sync's."""
    statements = [q["sql"] for q in queries.captured_queries]
    end = statements.index("COMMIT") if "COMMIT" in statements else len(statements)
    return [
        sql
        for sql in statements[:end]
        if not sql.upper().startswith(("BEGIN", "SAVEPOINT", "RELEASE"))
    ]


def inserts(model: type[Any], rows: int) -> int:
    """The INSERTs Django's ``bulk_create`` sends for ``rows`` rows of ``model``."""
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    if model is Generation:
        fields = list(model._meta.concrete_fields)
    batch = connection.ops.bulk_batch_size(fields, [model()] * rows) or rows
    return math.ceil(rows / batch)


def listed(remote: BabySea) -> list[RemoteGeneration]:
    return list(remote.list_generations(limit=100, offset=0).generations)


def snapshot() -> dict[str, Any]:
    """Everything the sync writes, keyed by BabySea id, without ids and clock readings."""
    rows: dict[str, Any] = {}
    for row in Generation.objects.order_by("generation_id"):
        rows[str(row.generation_id)] = {
            "fields": (
                row.status,
                row.kind,
                row.model_identifier,
                row.prompt,
                row.request,
                row.provider_order,
                row.provider_used,
                row.prediction_id,
                row.output_urls,
                row.error_code,
                row.error_message,
                row.cost_reserved,
                row.cost_charged,
                row.removed,
                row.remote,
                row.remote_created_at,
                row.started_at is None,
                row.completed_at is None,
            ),
            "ledger": sorted(
                (e.kind, e.amount, e.source, e.details) for e in row.credit_events.all()
            ),
            "outputs": sorted(
                (o.index, o.source_url, o.state, o.error, o.storage) for o in row.outputs.all()
            ),
        }
    return rows


def forget_everything() -> None:
    CreditEvent.objects.all().delete()
    Generation.objects.all().delete()


def test_a_new_page_is_what_apply_event_makes_row_by_row(sandbox: Sandbox, remote: BabySea) -> None:
    made_elsewhere(sandbox, remote, 10)
    records = listed(remote)
    result = syncing.apply_page(records)
    assert result.created == len(records)
    batched = snapshot()

    forget_everything()
    for record in records:  # the row-by-row path: a bare row, then the one apply function
        planned = syncing._plan(uuid.UUID(record.generation_id), record)
        Generation.objects.create(
            generation_id=planned.row.generation_id,
            kind=planned.row.kind,
            model_identifier=record.model_identifier,
            prompt=record.generation_prompt or "",
            request=planned.row.request,
        )
        apply_event(record.raw, source="sync")
    assert snapshot() == batched
    assert {row["fields"][0] for row in batched.values()} == set(OUTCOMES)
    charged = [row for row in batched.values() if row["fields"][0] == "succeeded"]
    assert charged
    assert all([kind for kind, *_ in row["ledger"]] == ["charge", "reserve"] for row in charged)
    assert all(row["outputs"] for row in charged)


def test_a_page_mixing_new_known_and_finished_rows(sandbox: Sandbox, remote: BabySea) -> None:
    sandbox.auto_advance = False
    running = submit_generation(MODEL, generation_prompt=PROMPT)
    finished = submit_generation(MODEL, generation_prompt="A walrus")
    sandbox.advance(str(finished.generation_id), to="succeeded")
    finished.refresh_from_db()
    # Canceled here (say, by an editor) while BabySea finished it: terminal stays final.
    Generation.objects.filter(pk=finished.pk).update(status="canceled")
    CreditEvent.objects.create(
        generation=finished, kind=CreditEventKind.REFUND, amount=Decimal(0), source="cancel"
    )
    sandbox.advance(str(running.generation_id), to="succeeded")
    new = made_elsewhere(sandbox, remote, 5)
    ledger_before = CreditEvent.objects.count()

    assert sync_generations() == (5, 1)
    running.refresh_from_db()
    assert running.status == "succeeded"
    assert sorted(running.credit_events.values_list("kind", flat=True)) == ["charge", "reserve"]
    assert running.outputs.count() == len(running.output_urls)
    kept = Generation.objects.get(pk=finished.pk)
    assert kept.status == "canceled"
    assert not kept.outputs.exists()
    assert sorted(kept.credit_events.values_list("kind", flat=True)) == ["refund", "reserve"]
    statuses = dict(
        Generation.objects.filter(generation_id__in=new).values_list("generation_id", "status")
    )
    assert sorted(statuses.values()) == sorted(OUTCOMES)
    # running: its charge; the five new: a reserve each, a settlement for the three finished.
    assert CreditEvent.objects.count() == ledger_before + 1 + 5 + 3

    ledger_after = CreditEvent.objects.count()
    outputs_after = GenerationOutput.objects.count()
    assert sync_generations() == (0, 0)
    assert (CreditEvent.objects.count(), GenerationOutput.objects.count()) == (
        ledger_after,
        outputs_after,
    )


@pytest.mark.parametrize("size", [3, 40])
def test_statements_per_page_do_not_grow_with_new_rows(
    sandbox: Sandbox, remote: BabySea, size: int
) -> None:
    made_elsewhere(sandbox, remote, size, OUTCOMES[:3])  # the plan caps those in flight
    records = listed(remote)
    with CaptureQueriesContext(connection) as queries:
        assert syncing.apply_page(records).created == size
    # The known rows, the generations, which of them were ours, the ledger, the outputs: one
    # statement each, an INSERT split only where the database caps the parameters (SQLite).
    statements = in_transaction(queries)
    expected = 2 + sum(
        inserts(model, model.objects.count())
        for model in (Generation, CreditEvent, GenerationOutput)
    )
    assert len(statements) == expected, "\n".join(sql[:120] for sql in statements)
    if connection.vendor == "postgresql":
        assert expected == 5


def test_statements_per_known_row_stay_few(sandbox: Sandbox, remote: BabySea) -> None:
    ids = made_elsewhere(sandbox, remote, 10)
    syncing.apply_page(listed(remote))
    for generation_id in ids[3::5]:  # the two that were still processing
        sandbox.advance(generation_id, to="succeeded")
    with CaptureQueriesContext(connection) as queries:
        result = syncing.apply_page(listed(remote))
    assert (result.created, result.updated) == (0, 2)
    # One locked read for the page; each known row at most its UPDATE, a charge, its outputs'
    # look-up and their INSERT.
    assert len(in_transaction(queries)) <= 1 + 10 * 2 + 2 * 2


@pytest.mark.postgres
@on_postgres
def test_a_webhook_during_the_sync_is_applied_once(
    sandbox: Sandbox, remote: BabySea, live_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox.auto_advance = False
    made = remote.generate(MODEL, generation_prompt="A sea otter")
    sandbox.advance(made.generation_id, to="succeeded")
    inserted, go_on = threading.Event(), threading.Event()
    real_insert = syncing._insert

    def insert_then_wait(planned: Any) -> Any:
        done = real_insert(planned)
        inserted.set()
        assert go_on.wait(WAIT)  # the page's transaction stays open meanwhile
        return done

    monkeypatch.setattr(syncing, "_insert", insert_then_wait)
    results: list[Any] = []
    syncing_thread = threading.Thread(target=lambda: results.append(sync_generations()))
    syncing_thread.start()
    assert inserted.wait(WAIT)

    payload = webhook_payload("generation.completed", made.generation_id)
    body = encode(payload)
    answer = httpx.post(
        live_server.url + WEBHOOK_PATH,
        content=body,
        headers={
            **signed_headers(body, key=sandbox.webhook_secret),
            "Content-Type": "application/json",
        },
        timeout=WAIT,
    )
    go_on.set()
    syncing_thread.join(WAIT)
    assert answer.status_code == 200, answer.text
    assert results == [(1, 0)]
    delivery = WebhookDelivery.objects.get(delivery_id=payload["webhook_delivery_id"])
    assert delivery.state == DeliveryState.PROCESSED
    row = Generation.objects.get(generation_id=made.generation_id)
    assert row.status == "succeeded"
    assert sorted(row.credit_events.values_list("kind", flat=True)) == ["charge", "reserve"]
    assert row.outputs.count() == len(row.output_urls)
