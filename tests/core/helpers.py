"""Payloads built from the contract examples, signed the way BabySea signs them."""

from __future__ import annotations

import copy
import json
import time
import uuid
from functools import cache
from pathlib import Path
from typing import Any

from django.apps import apps

from django_babysea.client.webhooks import SIGNATURE_HEADER, sign
from tests import settings as test_settings

EXAMPLES = Path(__file__).resolve().parents[1] / "contract_examples"
WEBHOOK_PATH = "/babysea/webhook/"

EVENT_EXAMPLES = {
    "generation.started": "webhook_generation_started",
    "generation.completed": "webhook_generation_completed",
    "generation.failed": "webhook_generation_failed",
    "generation.canceled": "webhook_generation_canceled",
    "credits.low_balance": "webhook_credits_low_balance",
    "webhook.test": "webhook_webhook_test",
}
# One generation seen through every example: the examples describe different ones.
SAME_GENERATION = {
    "model_identifier": "bfl/flux-schnell",
    "generation_prediction_id": "bfl_7f3c2a91d04e",
}
# The terminal webhook and the poll record that report the same outcome.
TERMINAL_EVENTS = {
    "succeeded": ("generation.completed", "content_get"),
    "failed": ("generation.failed", "content_get_failed"),
    "canceled": ("generation.canceled", "content_get"),
}


@cache
def _example(name: str) -> Any:
    return json.loads((EXAMPLES / f"{name}.json").read_text())


def example(name: str) -> Any:
    return copy.deepcopy(_example(name))


def secret() -> str:
    """The signing secret of ``tests/settings.py`` (even inside ``override_settings``)."""
    return str(test_settings.BABYSEA["WEBHOOK_SECRETS"][0])


def webhook_payload(
    event: str,
    generation_id: uuid.UUID | str | None = None,
    *,
    delivery_id: uuid.UUID | str | None = None,
    **data: Any,
) -> dict[str, Any]:
    """A webhook envelope shaped like the contract example of ``event``, with fresh ids."""
    name = EVENT_EXAMPLES.get(event, "webhook_generation_started")
    payload: dict[str, Any] = example(name)
    payload["webhook_event"] = event
    payload["webhook_delivery_id"] = str(delivery_id or uuid.uuid4())
    if generation_id is not None:
        payload["webhook_data"]["generation_id"] = str(generation_id)
        for key, value in SAME_GENERATION.items():
            if key in payload["webhook_data"]:
                payload["webhook_data"][key] = value
    payload["webhook_data"].update(data)
    return payload


def create_data(generation_id: uuid.UUID | str) -> dict[str, Any]:
    """``data`` of a create response (generate_image.json) for ``generation_id``."""
    data: dict[str, Any] = example("generate_image")["data"]
    data["generation_id"] = str(generation_id)
    return data


def poll_data(status: str, generation_id: uuid.UUID | str) -> dict[str, Any]:
    """``data`` of GET /v1/content/{id} reporting ``status`` for ``generation_id``."""
    name = TERMINAL_EVENTS[status][1] if status in TERMINAL_EVENTS else "content_get"
    data: dict[str, Any] = example(name)["data"]
    data.update(SAME_GENERATION, generation_id=str(generation_id), generation_status=status)
    data["generation_provider_order"] = ["bfl", "replicate", "cloudflare"]
    if status != "succeeded":
        data["generation_output_file"] = None
    if status not in ("succeeded", "failed", "canceled"):
        data["generation_completed_at"] = None
        data["generation_provider_used"] = None
    return data


def encode(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def signed_headers(
    body: bytes, *, key: str | None = None, timestamp: int | None = None
) -> dict[str, str]:
    """The headers BabySea sends with ``body``, signed with ``key`` (default: the test secret)."""
    t = int(time.time()) if timestamp is None else timestamp
    headers = {SIGNATURE_HEADER: sign(key or secret(), body, t)}
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        return headers
    if isinstance(payload, dict):
        headers["X-BabySea-Event"] = str(payload.get("webhook_event", ""))
        headers["X-BabySea-Delivery-Id"] = str(payload.get("webhook_delivery_id", ""))
        headers["X-BabySea-Timestamp"] = str(payload.get("webhook_timestamp", ""))
    return headers


def row_counts() -> dict[str, int]:
    """Rows of every model of the app, to prove a request wrote nothing."""
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_app_config("django_babysea").get_models()
    }


# Requests that must be refused with 400 -> a part of the plain-text answer.
BAD_REQUESTS = {
    "no signature": "(missing_signature)",
    "empty signature": "(missing_signature)",
    "malformed signature": "(malformed_header)",
    "wrong digest": "(signature_mismatch)",
    "unknown secret": "(signature_mismatch)",
    "signature of another body": "(signature_mismatch)",
    "stale timestamp": "(timestamp_out_of_tolerance)",
    "future timestamp": "(timestamp_out_of_tolerance)",
    "timestamp of 400 digits": "(bad_timestamp)",
    "negative timestamp of 400 digits": "(bad_timestamp)",
    "signed timestamp": "(bad_timestamp)",
    "not JSON": "Body is not JSON.",
    "not UTF-8": "Body is not JSON.",
    "JSON array": "Body is not a JSON object.",
    "JSON string": "Body is not a JSON object.",
    "missing delivery id": "webhook_delivery_id",
    "delivery id not a UUID": "webhook_delivery_id",
    "delivery id a number": "webhook_delivery_id",
    "missing event": "webhook_event",
    "event of 101 characters": "webhook_event",
    "arrays nested 100,000 deep": "nests deeper than 64 levels",
    "objects nested 100,000 deep": "nests deeper than 64 levels",
    "nested 65 deep": "nests deeper than 64 levels",
    "oversized body": "too large",
}
DEEP = 100_000


def nested_arrays(depth: int) -> str:
    return "[" * depth + "]" * depth


def nested_objects(depth: int) -> str:
    return '{"a":' * depth + "{}" + "}" * depth


def with_raw_data(payload: dict[str, Any], raw_json: str) -> bytes:
    """``payload`` encoded with ``raw_json`` (JSON text, not re-encoded) as its webhook_data."""
    envelope = {key: value for key, value in payload.items() if key != "webhook_data"}
    return encode(envelope)[:-1] + b',"webhook_data":' + raw_json.encode() + b"}"


def bad_request(name: str) -> tuple[bytes, dict[str, str]]:
    """Body and headers of the bad request ``name`` (signed now, when a signature is wanted)."""
    payload = webhook_payload("generation.completed", uuid.uuid4())
    good = encode(payload)
    now = int(time.time())
    if name in ("missing delivery id", "missing event"):
        del payload["webhook_delivery_id" if name == "missing delivery id" else "webhook_event"]
        return _signed(encode(payload))
    overflowing = {
        "timestamp of 400 digits": "9" * 400,
        "negative timestamp of 400 digits": "-1" + "0" * 400,
        "signed timestamp": f"+{now}",
    }
    if name in overflowing:
        v1 = signed_headers(good, timestamp=now)[SIGNATURE_HEADER].split("v1=")[1]
        return good, {SIGNATURE_HEADER: f"t={overflowing[name]},v1={v1}"}
    unsigned = {
        "no signature": {},
        "empty signature": {SIGNATURE_HEADER: ""},
        "malformed signature": {SIGNATURE_HEADER: "garbage"},
        "wrong digest": {SIGNATURE_HEADER: f"t={now},v1={'0' * 64}"},
        "signature of another body": signed_headers(good + b" "),
    }
    if name in unsigned:
        return good, unsigned[name]
    signed: dict[str, tuple[bytes, dict[str, Any]]] = {
        "unknown secret": (good, {"key": "whsec_not_configured_here_000000"}),
        "stale timestamp": (good, {"timestamp": now - 3600}),
        "future timestamp": (good, {"timestamp": now + 3600}),
        "not JSON": (b"delivery: yes", {}),
        "not UTF-8": (b'{"webhook_event": "\xff"}', {}),
        "JSON array": (b'[{"webhook_event": "generation.completed"}]', {}),
        "JSON string": (b'"generation.completed"', {}),
        "delivery id not a UUID": (
            encode({**payload, "webhook_delivery_id": "delivery-1"}),
            {},
        ),
        # 32 decimal digits read as hex would make a UUID
        "delivery id a number": (encode({**payload, "webhook_delivery_id": 10**31}), {}),
        "event of 101 characters": (encode({**payload, "webhook_event": "e" * 101}), {}),
        "arrays nested 100,000 deep": (with_raw_data(payload, nested_arrays(DEEP)), {}),
        "objects nested 100,000 deep": (with_raw_data(payload, nested_objects(DEEP)), {}),
        "nested 65 deep": (with_raw_data(payload, nested_arrays(64)), {}),
        "oversized body": (encode({**payload, "padding": "x" * 1024 * 1024}), {}),
    }
    body, options = signed[name]
    return _signed(body, **options)


def _signed(body: bytes, **options: Any) -> tuple[bytes, dict[str, str]]:
    return body, signed_headers(body, **options)
