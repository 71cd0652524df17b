"""Authentic deliveries whose payload can never be applied: stored as invalid, acknowledged,
replayable. Run on SQLite and on PostgreSQL (BABYSEA_TEST_DATABASE_URL): PostgreSQL refuses
NUL in text and JSON, and checks the decimal column's precision."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from django_babysea.models import CreditEvent, DeliveryState, Generation, WebhookDelivery

from .helpers import encode, nested_arrays, webhook_payload, with_raw_data

pytestmark = pytest.mark.django_db

Post = Callable[..., Any]
GENERATION_ID = uuid.UUID("5b0f3e1c-8a7d-4f6e-9c2b-1d3a5e7f9b04")


def completed(**data: Any) -> dict[str, Any]:
    payload = webhook_payload("generation.completed", GENERATION_ID)
    payload["webhook_data"].update(data)
    return payload


def without(key: str) -> dict[str, Any]:
    payload = completed()
    del payload["webhook_data"][key]
    return payload


def without_data() -> dict[str, Any]:
    payload = completed()
    del payload["webhook_data"]
    return payload


def low_balance(balance: Any) -> dict[str, Any]:
    return webhook_payload("credits.low_balance", current_balance=balance)


def raw_number(payload: dict[str, Any], key: str, text: str) -> bytes:
    """``payload`` with ``webhook_data[key]`` written as the bare JSON token ``text``."""
    data = json.dumps({**payload["webhook_data"], key: "@@@"}).replace('"@@@"', text)
    return with_raw_data(payload, data)


# name -> (body, a part of the stored reason)
INVALID: dict[str, tuple[bytes, str]] = {
    "no generation_id": (encode(without("generation_id")), "generation_id is missing"),
    "generation_id null": (encode(completed(generation_id=None)), "generation_id is not a UUID"),
    "generation_id a number": (
        encode(completed(generation_id=10**31)),  # its decimal digits would parse as hex
        "generation_id is not a UUID",
    ),
    "generation_id a small number": (
        encode(completed(generation_id=12)),
        "generation_id is not a UUID",
    ),
    "generation_id not a UUID": (
        encode(completed(generation_id="gen_8e2c4a61")),
        "generation_id is not a UUID",
    ),
    "generation_id a list": (
        encode(completed(generation_id=[str(GENERATION_ID)])),
        "generation_id is not a UUID",
    ),
    "NUL in a string": (
        encode(completed(generation_provider_used="bfl\x00")),
        "generation_provider_used contains NUL",
    ),
    "NUL in an output URL": (
        encode(completed(generation_output_file=["https://cdn.us.babysea.ai/a\x00.png"])),
        "generation_output_file[0] contains NUL",
    ),
    "NUL in a key": (encode(completed(**{"extra\x00": 1})), "A key in webhook_data contains"),
    "lone surrogate": (
        encode(completed(generation_prediction_id="bfl_\ud800")),
        "generation_prediction_id contains a lone surrogate",
    ),
    "lone surrogate deep down": (
        encode(completed(extra={"notes": [{"text": "\udfff"}]})),
        "webhook_data.extra.notes[0].text contains a lone surrogate",
    ),
    "NaN": (raw_number(completed(), "generation_cost", "NaN"), "is nan"),
    "Infinity": (raw_number(completed(), "generation_cost", "Infinity"), "is inf"),
    "-Infinity": (raw_number(completed(), "generation_cost", "-Infinity"), "is -inf"),
    "1e400": (raw_number(completed(), "generation_cost", "1e400"), "is inf"),
    "date past year 9999 in UTC": (
        encode(completed(generation_started_at="9999-12-31T23:00:00-05:00")),
        "generation_started_at is out of the range",
    ),
    "date before year 1 in UTC": (
        encode(completed(generation_started_at="0001-01-01T01:00:00+05:00")),
        "generation_started_at is out of the range",
    ),
    "too many outputs": (
        encode(completed(generation_output_file=["https://cdn.us.babysea.ai/a.png"] * 1001)),
        "lists more than 1000 files",
    ),
    "no webhook_data": (encode(without_data()), "webhook_data is not a JSON object"),
    "webhook_data a list": (
        with_raw_data(completed(), nested_arrays(63)),
        "webhook_data is not a JSON object",
    ),
    "balance of 1e10": (encode(low_balance(1e10)), "current_balance is too large"),
    "balance of 10**9": (encode(low_balance(10**9)), "current_balance is too large"),
    "balance rounding up to 10**9": (
        encode(low_balance(999_999_999.9999)),
        "current_balance is too large",
    ),
    "balance of 1e400": (raw_number(low_balance(0), "current_balance", "1e400"), "is inf"),
    "balance as text": (encode(low_balance("0.41")), "current_balance is not a number"),
    "balance true": (encode(low_balance(True)), "current_balance is not a number"),
    "thresholds not a list": (
        encode(webhook_payload("credits.low_balance", thresholds_crossed={"threshold": 1})),
        "thresholds_crossed is not a list of objects",
    ),
    "NUL in a low-balance field": (
        encode(webhook_payload("credits.low_balance", account_id="acct\x00")),
        "account_id contains NUL",
    ),
}


@pytest.mark.parametrize("name", list(INVALID))
def test_unappliable_payload_is_stored_as_invalid_and_acknowledged(
    name: str,
    post_webhook: Post,
    make_generation: Callable[..., Generation],
    caplog: pytest.LogCaptureFixture,
) -> None:
    body, reason = INVALID[name]
    generation = make_generation(GENERATION_ID)
    with caplog.at_level(logging.ERROR):
        response = post_webhook(body)
    assert response.status_code == 200, response.content
    answer = response.json()
    assert (answer["ok"], answer["state"]) == (False, "invalid")
    assert reason in answer["error"]
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == DeliveryState.INVALID
    assert reason in delivery.error
    assert delivery.error == answer["error"]
    assert delivery.processed_at is None
    # The text exactly as received: its escapes keep NUL and surrogates out of the column.
    assert delivery.body.encode() == body
    assert "can never be applied" in caplog.text
    assert reason in caplog.text
    # Nothing of it was applied.
    generation.refresh_from_db()
    assert generation.status == "created"
    assert generation.remote == {}
    assert not CreditEvent.objects.exists()
    # BabySea's duplicate of it is acknowledged the same way.
    assert post_webhook(body).json() == answer
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (DeliveryState.INVALID, 2)


def test_nesting_of_64_levels_is_still_read(post_webhook: Post) -> None:
    body = with_raw_data(webhook_payload("account.renamed"), nested_arrays(63))
    response = post_webhook(body)
    assert response.json() == {"ok": True, "state": "ignored"}
    assert WebhookDelivery.objects.get().body.encode() == body


@pytest.mark.parametrize("event", ["webhook.test", "account.renamed"])
def test_events_that_are_not_applied_are_not_judged_invalid(event: str, post_webhook: Post) -> None:
    payload = webhook_payload(event)
    payload["webhook_data"]["generation_id"] = "not-a-uuid"
    body = raw_number(payload, "x", "NaN")
    state = "processed" if event == "webhook.test" else "ignored"
    assert post_webhook(body).json() == {"ok": True, "state": state}


@pytest.mark.parametrize(
    ("event", "stored"),
    [("generation.completed\x00", "generation.completed\\x00"), ("\ud800", "\\ud800")],
)
def test_event_type_with_unstorable_characters_is_an_unknown_event(
    event: str, stored: str, post_webhook: Post, make_generation: Callable[..., Generation]
) -> None:
    make_generation(GENERATION_ID)
    payload = completed()
    payload["webhook_event"] = event
    body = encode(payload)
    assert post_webhook(body).json() == {"ok": True, "state": "ignored"}
    delivery = WebhookDelivery.objects.get()
    assert (delivery.event_type, delivery.body.encode()) == (stored, body)
    assert Generation.objects.get().status == "created"


def test_balance_just_under_the_column_limit_is_recorded(post_webhook: Post) -> None:
    assert post_webhook(low_balance(999_999_999.999)).json() == {"ok": True, "state": "processed"}
    assert str(CreditEvent.objects.get().balance) == "999999999.999"


def test_invalid_deliveries_are_replayed_after_a_fix(
    post_webhook: Post, make_generation: Callable[..., Generation]
) -> None:
    """An older version judged these invalid; after the fix a replay applies them once."""
    generation = make_generation(GENERATION_ID)
    assert post_webhook(completed()).json() == {"ok": True, "state": "processed"}
    assert post_webhook(encode(without("generation_id"))).json()["state"] == "invalid"
    broken = WebhookDelivery.objects.get(generation_id=None)
    judged = WebhookDelivery.objects.exclude(pk=broken.pk)
    assert judged.update(state=DeliveryState.INVALID, error="judged by an older version") == 1
    generation.refresh_from_db()
    assert generation.credit_events.count() == 2

    with pytest.raises(CommandError, match="1 of 2 deliveries failed again"):
        call_command("babysea_replay_webhooks", "--state", "invalid")
    assert WebhookDelivery.objects.get(pk=judged.get().pk).state == DeliveryState.PROCESSED
    assert WebhookDelivery.objects.get(pk=broken.pk).state == DeliveryState.INVALID
    assert generation.credit_events.count() == 2  # applied once, whatever the replays


def test_replay_names_the_reason_of_what_stays_invalid(
    post_webhook: Post, capsys: pytest.CaptureFixture[str]
) -> None:
    post_webhook(encode(low_balance(1e10)))
    delivery = WebhookDelivery.objects.get()
    with pytest.raises(CommandError, match="1 of 1 deliveries failed again"):
        call_command("babysea_replay_webhooks", "--state", "invalid", "--state", "failed")
    out, err = capsys.readouterr()
    assert f"{delivery.delivery_id} credits.low_balance: invalid: " in err
    assert "current_balance is too large for the ledger." in err
    assert out.splitlines()[-1] == "Replayed 1 deliveries, 1 failed."


def test_replay_refuses_an_unknown_state() -> None:
    with pytest.raises(CommandError, match="invalid choice: 'broken'"):
        call_command("babysea_replay_webhooks", "--state", "broken")
