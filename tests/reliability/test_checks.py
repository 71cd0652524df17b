"""The reliability runs' own checks and schedule, without the stack: a loss or a double in
the ledger is reported, and the schedule has the duplicates and reorderings it announces."""

from __future__ import annotations

import json
import random
from decimal import Decimal

import pytest

from benchmarks.reliability.deliveries import Delivery, _ledger_errors, schedule
from benchmarks.reliability.report import Report

BOOK = {"reserved": "0.005", "settlement": "charged"}


def _delivery(generation: int, event: str, number: int) -> Delivery:
    body = json.dumps({"webhook_event": event, "n": number}).encode()
    return Delivery(str(generation), event, f"d-{generation}-{number}", body, ())


def test_an_exact_ledger_passes() -> None:
    events = [("reserve", Decimal("0.005")), ("charge", Decimal("0.005"))]
    assert _ledger_errors("g", events, BOOK) == []


def test_a_doubled_charge_a_missing_refund_and_a_wrong_amount_are_reported() -> None:
    doubled = [("reserve", Decimal("0.005")), ("charge", Decimal("0.005"))]
    doubled.append(("charge", Decimal("0.005")))
    assert _ledger_errors("g", doubled, BOOK) == [
        "generation g: ledger {'reserve': 1, 'charge': 2}, expected {'reserve': 1, 'charge': 1}"
    ]
    refunded = {"reserved": "0.005", "settlement": "refunded"}
    assert (
        "expected {'reserve': 1, 'refund': 1}"
        in _ledger_errors("g", [("reserve", Decimal("0.005"))], refunded)[0]
    )
    wrong = [("reserve", Decimal("0.005")), ("charge", Decimal("0.050"))]
    assert _ledger_errors("g", wrong, BOOK) == [
        "generation g: charge of 0.050, the sandbox says 0.005"
    ]


def test_the_schedule_duplicates_and_reorders_what_it_says() -> None:
    received = [
        _delivery(g, event, n)
        for g in range(100)
        for n, event in enumerate(("generation.started", "generation.completed"))
    ]
    order, reordered = schedule(received, 300, random.Random(3))
    assert len(order) == 300
    assert {d.delivery_id for d in order} == {d.delivery_id for d in received}
    terminal_first = 0
    for g in range(100):
        first = next(d for d in order if d.generation_id == str(g))
        terminal_first += first.event != "generation.started"
    assert terminal_first == reordered
    assert 5 < reordered < 40  # about a fifth of 100


def test_a_report_with_losses_fails_and_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    report = Report("x", tried=["1 thing"], lost=["row 1 was never sent"])
    assert not report.ok
    report.print()
    out = capsys.readouterr().out
    assert "[x] LOST: row 1 was never sent" in out
    assert out.rstrip().endswith("[x] lost: 1")
