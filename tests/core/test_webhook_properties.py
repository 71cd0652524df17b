"""Properties of the webhook view under arbitrary input (hypothesis), through Django's test
client: never a 5xx, nothing written for anything unsigned, and every signed envelope ends in a
state a retry would not change (never ``failed``)."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from django_babysea.client.webhooks import SIGNATURE_HEADER, compute_signature, sign
from django_babysea.models import Generation, GenerationKind, WebhookDelivery

from .helpers import WEBHOOK_PATH, row_counts, secret

pytestmark = pytest.mark.django_db

KNOWN_ID = "3c9d2b7e-6f1a-4e8b-9d0c-5a7f1e3b2c64"
SETTLED = {"processed", "deferred", "ignored", "invalid"}
PROPERTY_SETTINGS = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
EVENTS = [
    "generation.started",
    "generation.completed",
    "generation.failed",
    "generation.canceled",
    "credits.low_balance",
    "webhook.test",
]
KEYS = [
    "generation_id",
    "generation_status",
    "generation_output_file",
    "generation_error",
    "generation_error_code",
    "generation_prediction_id",
    "generation_provider_used",
    "generation_started_at",
    "generation_removed",
    "credits_refunded",
    "current_balance",
    "thresholds_crossed",
    "model_identifier",
]
# The values that once made a signed delivery fail forever.
BAD = [
    float("nan"),
    float("inf"),
    float("-inf"),
    1e10,
    10**31,
    -(10**20),
    "\x00",
    "bfl\x00",
    "\ud800",
    "a\udfffb",
    "",
    "not-a-uuid",
    "9999-12-31T23:00:00-05:00",
    "0001-01-01T01:00:00+05:00",
    "2026-06-10T16:07:15Z",
    "https://example.invalid/out.png",
]
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(BAD)
    | st.sampled_from([KNOWN_ID, str(uuid.UUID(int=0))])
    | st.sampled_from(["pending", "processing", "succeeded", "failed", "canceled", "created"])
)
keys = st.sampled_from(KEYS) | st.text(max_size=8) | st.sampled_from(["k\x00", "\ud83d"])
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=4),
    max_leaves=10,
)
webhook_data = st.dictionaries(keys, json_values, max_size=8) | json_values
envelopes = st.fixed_dictionaries(
    {
        "webhook_event": st.sampled_from(EVENTS) | st.text(min_size=1, max_size=20),
        "webhook_delivery_id": st.uuids().map(str),
        "webhook_data": webhook_data,
    },
    optional={"webhook_timestamp": st.text(max_size=30)},
)
header_text = st.text(
    st.characters(min_codepoint=32, max_codepoint=0x7E) | st.sampled_from("\u0661\uff11\ud7ff"),
    max_size=80,
)
signature_headers = (
    st.none()
    | header_text
    | st.builds(
        "t={},v1={}".format,
        st.integers(-(10**15), 10**15) | st.text(max_size=5),
        st.text("0123456789abcdef", min_size=64, max_size=64),
    )
)


def post(client: Client, body: bytes, signature: str | None, **extra: str) -> Any:
    headers = dict(extra)
    if signature is not None:
        headers[SIGNATURE_HEADER] = signature
    return client.post(WEBHOOK_PATH, data=body, content_type="application/json", headers=headers)


def known_generation() -> None:
    Generation.objects.get_or_create(
        generation_id=uuid.UUID(KNOWN_ID),
        defaults={"kind": GenerationKind.IMAGE, "model_identifier": "bfl/flux-schnell"},
    )


@PROPERTY_SETTINGS
@given(
    body=st.binary(max_size=600) | envelopes.map(lambda e: json.dumps(e).encode()),
    signature=signature_headers,
    event=st.none() | header_text,
)
def test_unsigned_requests_are_refused_and_write_nothing(
    client: Client, body: bytes, signature: str | None, event: str | None
) -> None:
    before = row_counts()
    extra = {} if event is None else {"X-BabySea-Event": event}
    response = post(client, body, signature, **extra)
    assert response.status_code == 400, response.content
    assert row_counts() == before


@PROPERTY_SETTINGS
@given(body=st.binary(max_size=600))
def test_signed_arbitrary_bytes_never_fail(client: Client, body: bytes) -> None:
    before = row_counts()
    response = post(client, body, sign(secret(), body))
    assert response.status_code in (200, 400), response.content
    if response.status_code == 400:
        assert row_counts() == before
    else:
        assert response.json()["state"] in SETTLED


@PROPERTY_SETTINGS
@given(envelope=envelopes)
def test_signed_envelopes_are_settled_never_failed(client: Client, envelope: Any) -> None:
    known_generation()
    WebhookDelivery.objects.all().delete()  # examples may repeat a delivery id
    body = json.dumps(envelope).encode()
    response = post(client, body, sign(secret(), body))
    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["state"] in SETTLED, answer
    delivery = WebhookDelivery.objects.get(delivery_id=envelope["webhook_delivery_id"])
    assert delivery.state == answer["state"]
    assert delivery.body.encode() == body
    assert answer["ok"] is (answer["state"] != "invalid")


@PROPERTY_SETTINGS
@given(t_value=st.text(max_size=500) | st.integers().map(str) | st.just("9" * 400))
def test_any_timestamp_text_is_a_clean_answer(client: Client, t_value: str) -> None:
    body = json.dumps({"webhook_event": "webhook.test"}).encode()
    now = int(time.time())
    v1 = compute_signature(secret(), body, now)
    response = post(client, body, f"t={t_value},v1={v1}")
    assert response.status_code == 400, response.content
    assert not WebhookDelivery.objects.exists()
