"""Round trips at the floor: SQL statements and commits per webhook delivery and per submission.

The counts are the contract of the receiver and the submit path (see docs/webhooks.md,
"Performance"): one transaction per delivery, a duplicate answered from the insert's conflict,
no SAVEPOINT where nothing needs one, and a submission that commits once before and once after
BabySea's create call, without an estimate request when the cached catalog prices it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from django.db import connection
from django.test import override_settings

from django_babysea.models import DeliveryState, Generation, WebhookDelivery
from django_babysea.sandbox import Sandbox
from django_babysea.services import apply_event, dispatch, refresh_catalog, submit_generation
from django_babysea.services.connection import clear_clients
from tests.services.conftest import sandbox_settings

from .helpers import webhook_payload

pytestmark = pytest.mark.django_db(transaction=True)

Post = Callable[..., Any]
_WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


@dataclass
class Trips:
    """What one block sent to the database."""

    statements: list[str] = field(default_factory=list)
    commits: int = 0

    @property
    def count(self) -> int:
        return len(self.statements)

    @property
    def savepoints(self) -> int:
        return sum(1 for sql in self.statements if sql.lstrip().upper().startswith("SAVEPOINT"))

    def __str__(self) -> str:
        lines = [f"{self.count} statements, {self.commits} commits:"]
        lines += [f"  {sql[:160]}" for sql in self.statements]
        return "\n".join(lines)

    __repr__ = __str__


@contextmanager
def counting() -> Iterator[Trips]:
    """Count the statements (SAVEPOINT and RELEASE included: they are round trips too) and the
    commits: explicit ones, and each write run in autocommit mode (its own transaction).

    SQLite's explicit ``BEGIN`` is not counted: PostgreSQL's driver opens the transaction
    without a statement of Django's, and the counts are the same on both databases.
    """
    trips = Trips()

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if sql.strip().upper() != "BEGIN":
            trips.statements.append(sql)
        if not connection.in_atomic_block and _WRITE.match(sql):
            trips.commits += 1
        return execute(sql, params, many, context)

    real_commit = connection.commit

    def commit() -> None:
        trips.commits += 1
        real_commit()

    connection.commit = commit  # type: ignore[method-assign]
    try:
        with connection.execute_wrapper(wrapper):
            yield trips
    finally:
        del connection.commit


def _no_copy(*args: Any) -> None:
    """Stands in for the copy job: copying is not the receiver's round trips."""


@pytest.fixture
def no_copies(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(dispatch.JOBS, "copy_outputs", f"{__name__}._no_copy")


# Budgets, on PostgreSQL and SQLite alike. Before the one-transaction receiver, a new
# generation.started cost 11 statements (7 without savepoints) and 2 commits, a duplicate 4,
# a generation.completed 22 and an invalid delivery 6.
STARTED_BUDGET = 3  # insert the delivery, lock the generation (with its ledger), update it
DUPLICATE_BUDGET = 1  # the insert's conflict counts the attempt and returns the stored state
COMPLETED_BUDGET = 7  # 6 today: + charge, output index read, output insert
INVALID_BUDGET = 1  # stored as invalid by the insert itself


def test_new_started_delivery(post_webhook: Post, make_generation: Callable[..., Any]) -> None:
    remote_id = uuid.uuid4()
    generation = make_generation(remote_id, status="pending")
    # The reserve is already recorded (the create response did it).
    post_webhook(webhook_payload("generation.started", remote_id, generation_status="pending"))
    payload = webhook_payload("generation.started", remote_id)
    with counting() as trips:
        response = post_webhook(payload)
    assert response.json() == {"ok": True, "state": "processed"}
    generation.refresh_from_db()
    assert generation.status == "processing"
    assert trips.count <= STARTED_BUDGET, trips
    assert trips.savepoints == 0, trips
    assert trips.commits == 1, trips


def test_duplicate_delivery(post_webhook: Post, make_generation: Callable[..., Any]) -> None:
    remote_id = uuid.uuid4()
    make_generation(remote_id)
    payload = webhook_payload("generation.started", remote_id)
    assert post_webhook(payload).json()["state"] == "processed"
    with counting() as trips:
        response = post_webhook(payload)
    assert response.json() == {"ok": True, "state": "processed"}
    assert WebhookDelivery.objects.get().attempts == 2
    assert trips.count <= DUPLICATE_BUDGET, trips
    assert trips.commits <= 1, trips


def test_new_completed_delivery(
    post_webhook: Post, make_generation: Callable[..., Any], no_copies: None
) -> None:
    remote_id = uuid.uuid4()
    generation = make_generation(remote_id)
    post_webhook(webhook_payload("generation.started", remote_id))
    with counting() as trips:
        response = post_webhook(webhook_payload("generation.completed", remote_id))
    assert response.json() == {"ok": True, "state": "processed"}
    generation.refresh_from_db()
    assert generation.status == "succeeded"
    assert sorted(generation.credit_events.values_list("kind", flat=True)) == [
        "charge",
        "reserve",
    ]
    assert generation.outputs.count() == 1
    assert trips.count <= COMPLETED_BUDGET, trips
    assert trips.savepoints == 0, trips
    assert trips.commits == 1, trips


def test_invalid_delivery_is_one_insert(post_webhook: Post) -> None:
    payload = webhook_payload("generation.completed", uuid.uuid4())
    payload["webhook_data"]["generation_id"] = "not-a-uuid"
    with counting() as trips:
        response = post_webhook(payload)
    assert response.json()["state"] == DeliveryState.INVALID
    assert trips.count <= INVALID_BUDGET, trips
    assert trips.commits == 1, trips


# -- the submit path ----------------------------------------------------------------------------

SUBMIT_BUDGET = 6  # before: 19 statements, 4 commits and an estimate request; then 8


@pytest.fixture
def priced_sandbox(babysea_sandbox: Sandbox) -> Iterator[Sandbox]:
    """The sandbox, with the site's catalog cached (so prices are known locally)."""
    babysea_sandbox.auto_advance = False
    with override_settings(BABYSEA=sandbox_settings(babysea_sandbox)):
        refresh_catalog()
        yield babysea_sandbox
    clear_clients()


@pytest.fixture
def requests_made(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bool]]:
    """Every BabySea request: (method and path, whether a transaction was open)."""
    seen: list[tuple[str, bool]] = []
    real = httpx.HTTPTransport.handle_request

    def handle_request(self: httpx.HTTPTransport, sent: httpx.Request) -> httpx.Response:
        seen.append((f"{sent.method} {sent.url.path}", connection.in_atomic_block))
        return real(self, sent)

    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", handle_request)
    return seen


def test_submit_generation(priced_sandbox: Sandbox, requests_made: list[tuple[str, bool]]) -> None:
    submit_generation("bfl/flux-schnell", generation_prompt="A seal pup")  # warm the client
    requests_made.clear()
    with counting() as trips:
        generation = submit_generation("bfl/flux-schnell", generation_prompt="A seal pup")
    assert generation.status == "pending"
    assert trips.commits == 2, trips
    assert trips.savepoints == 0, trips
    assert trips.count <= SUBMIT_BUDGET, trips
    assert [path for path, _ in requests_made] == ["POST /v1/generate/image/bfl/flux-schnell"]
    assert not any(in_transaction for _, in_transaction in requests_made)
    assert generation.cost_reserved is not None
    reserve = generation.credit_events.get(kind="reserve")
    assert reserve.amount == generation.cost_reserved
    assert reserve.details == {"amount_known": True}


def test_submit_without_a_cached_price_asks_for_an_estimate(
    babysea_sandbox: Sandbox, requests_made: list[tuple[str, bool]]
) -> None:
    babysea_sandbox.auto_advance = False
    with override_settings(BABYSEA=sandbox_settings(babysea_sandbox)):
        generation = submit_generation("bfl/flux-schnell", generation_prompt="A seal pup")
    clear_clients()
    paths = [path for path, _ in requests_made]
    assert paths[-1] == "POST /v1/generate/image/bfl/flux-schnell"
    assert any("estimate" in path for path in paths), paths
    assert generation.cost_reserved is not None
    assert Generation.objects.get().credit_events.get().amount == generation.cost_reserved


def test_the_ledger_read_with_the_lock_keeps_three_places(
    make_generation: Callable[..., Any],
) -> None:
    """The reserve amount comes from an annotation of the locked read; SQLite returns those
    unquantized, and the charge must still say 0.005, not 0.00500000000000000."""
    remote_id = uuid.uuid4()
    make_generation(remote_id)
    apply_event({"generation_id": str(remote_id), "generation_status": "pending"}, source="poll")
    done = apply_event(
        {"generation_id": str(remote_id), "generation_status": "succeeded"}, source="poll"
    )
    assert done is not None
    assert str(done.cost_charged) == "0.005"
