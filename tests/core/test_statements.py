"""The locked reads compiled once per process give what the ORM's own queryset gives."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from django_babysea.models import CreditEvent, CreditEventKind, Generation
from django_babysea.services import events, ledger, statements

pytestmark = pytest.mark.django_db(transaction=True)

LEDGER = (ledger.RESERVED_AMOUNT, ledger.SETTLED, ledger.BUDGET_STATE)


def _generation(remote: uuid.UUID | None = None, **fields: object) -> Generation:
    return Generation.objects.create(
        kind="image", model_identifier="bfl/flux-schnell", generation_id=remote, **fields
    )


def _facts(row: Generation) -> tuple[object, ...]:
    known = ledger._known(row)
    assert known is not None, "the ledger facts were not read with the row"
    return (row.pk, row.generation_id, row.status, row.request, row.created_at, known)


def _orm(condition: Q) -> list[Generation]:
    return list(ledger.with_ledger(Generation.objects.select_for_update().filter(condition)))


def test_a_locked_read_by_remote_id_equals_the_orm_one() -> None:
    remote = uuid.uuid4()
    row = _generation(remote, request={"generation_prompt": "a seal"}, status="processing")
    CreditEvent.objects.create(
        kind=CreditEventKind.RESERVE, amount=Decimal("0.005"), generation=row
    )
    _generation(uuid.uuid4())  # another row, never read
    with transaction.atomic():
        compiled = events.locked_generation(generation_id=remote)
        expected = _orm(Q(generation_id=remote))
    assert compiled is not None
    assert [_facts(compiled)] == [_facts(each) for each in expected]
    assert ledger._known(compiled) == ledger._Known(Decimal("0.005"), False, None)


def test_the_create_response_read_finds_both_rows_and_only_them() -> None:
    remote = uuid.uuid4()
    ours = _generation(None)
    orphan = _generation(remote)
    _generation(uuid.uuid4())
    with transaction.atomic():
        compiled = events.locked_sent_generations(str(ours.pk), remote)
        expected = _orm(Q(pk=ours.pk) | Q(generation_id=remote))
    assert sorted(map(_facts, compiled), key=str) == sorted(map(_facts, expected), key=str)
    assert {row.pk for row in compiled} == {ours.pk, orphan.pk}


def test_the_statement_is_compiled_once_and_takes_the_row_lock() -> None:
    remote = uuid.uuid4()
    _generation(remote)
    with transaction.atomic():
        events.locked_generation(generation_id=remote)
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        assert events.locked_generation(generation_id=uuid.uuid4()) is None
        assert events.locked_generation(generation_id=remote) is not None
    reads = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().startswith("SELECT")]
    assert len(reads) == 2
    if connection.features.has_select_for_update:
        assert all("FOR UPDATE" in sql for sql in reads)


def test_an_id_that_is_not_a_uuid_falls_back_to_the_orm() -> None:
    assert (
        statements.rows("t", Generation, lambda pk: Generation.objects.filter(pk=pk), pk="x")
        is None
    )
