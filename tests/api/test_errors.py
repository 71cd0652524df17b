"""BabySea's errors become API answers a client can act on; never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings
from rest_framework.test import APIClient  # type: ignore[import-untyped]

from django_babysea.models import Generation, GenerationStatus
from django_babysea.sandbox import Sandbox
from tests.services.conftest import sandbox_settings

from .conftest import MODEL, PROMPT, url

pytestmark = pytest.mark.django_db(transaction=True)


def create(client: APIClient, **headers: Any) -> Any:
    body = {"model": MODEL, "generation_prompt": PROMPT}
    return client.post(url("generations"), body, format="json", **headers)


def test_insufficient_credits_is_402(catalog: Sandbox, alice_client: APIClient) -> None:
    catalog.set_balance("0")
    response = create(alice_client)
    assert response.status_code == 402
    body = response.json()
    assert body["code"] == "insufficient_credits"
    assert body["detail"]
    assert Generation.objects.get(pk=body["id"]).status == GenerationStatus.FAILED


@pytest.mark.parametrize(
    ("fault", "code"),
    [
        ({"kind": "rate_limited", "retry_after": 7}, "rate_limited"),
        ({"kind": "http_error", "status": 429, "code": "BSE1009"}, "concurrency_limit"),
    ],
)
def test_limits_are_429_with_retry_after(
    catalog: Sandbox, alice_client: APIClient, fault: dict[str, Any], code: str
) -> None:
    catalog.inject({**fault, "path": "/v1/generate/*"})
    response = create(alice_client)
    assert response.status_code == 429
    assert response.json()["code"] == code
    assert int(response["Retry-After"]) >= 1
    if fault["kind"] == "rate_limited":
        assert response["Retry-After"] == "7"
    # The row is kept, to be sent again later; the client learns its id.
    assert Generation.objects.filter(pk=response.json()["id"]).exists()


def test_idempotency_conflict_at_babysea_is_409(catalog: Sandbox, alice_client: APIClient) -> None:
    catalog.inject(
        {"kind": "http_error", "status": 409, "code": "BSE2015", "path": "/v1/generate/*"}
    )
    response = create(alice_client)
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_conflict"


@pytest.mark.parametrize(
    "kind", ["server_error", "service_unavailable", "bad_gateway_html", "drop"]
)
def test_babysea_down_is_503(catalog: Sandbox, alice_client: APIClient, kind: str) -> None:
    catalog.inject({"kind": kind, "path": "/v1/generate/*"})
    response = create(alice_client, HTTP_IDEMPOTENCY_KEY="retry-me")
    assert response.status_code == 503
    body = response.json()
    assert body["code"] == "babysea_unavailable"
    assert catalog.api_key not in response.content.decode()
    # Retrying with the same key finds the stored row instead of creating another.
    again = create(alice_client, HTTP_IDEMPOTENCY_KEY="retry-me")
    assert again.status_code == 200
    assert again.json()["id"] == body["id"]
    assert Generation.objects.count() == 1


def test_timeout_is_503(babysea_sandbox: Sandbox, alice_client: APIClient) -> None:
    from django_babysea.services import refresh_catalog
    from django_babysea.services.connection import clear_clients

    with override_settings(BABYSEA=sandbox_settings(babysea_sandbox, TIMEOUT=0.5)):
        refresh_catalog()
        babysea_sandbox.inject({"kind": "timeout", "seconds": 2, "path": "/v1/generate/*"})
        response = create(alice_client)
    clear_clients()
    assert response.status_code == 503
    assert response.json()["code"] == "babysea_unavailable"


def test_catalog_unavailable_is_503(sandbox: Sandbox, alice_client: APIClient) -> None:
    sandbox.inject({"kind": "server_error", "path": "/v1/library/models", "times": None})
    response = alice_client.get(url("models"))
    assert response.status_code == 503
    assert response.json()["code"] == "catalog_unavailable"
    assert response["Retry-After"]


def test_estimate(sandbox: Sandbox, alice_client: APIClient) -> None:
    response = alice_client.get(url("estimate"), {"model": MODEL, "count": 2})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["model_identifier"] == MODEL
    assert body["assets_count"] == 2
    assert body["cost_total_consumed"] == pytest.approx(2 * body["cost_per_generation"])


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({}, "model"),
        ({"model": MODEL, "count": "two"}, "count"),
        ({"model": MODEL, "audio": "x"}, "audio"),
    ],
)
def test_estimate_bad_query(
    sandbox: Sandbox, alice_client: APIClient, query: dict[str, str], field: str
) -> None:
    response = alice_client.get(url("estimate"), query)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_estimate_unknown_model(sandbox: Sandbox, alice_client: APIClient) -> None:
    response = alice_client.get(url("estimate"), {"model": "nobody/nothing"})
    assert 400 <= response.status_code < 500
    assert response.json()["code"]


def test_estimate_when_babysea_is_down(sandbox: Sandbox, alice_client: APIClient) -> None:
    sandbox.inject({"kind": "drop", "path": "/v1/estimate/*"})
    response = alice_client.get(url("estimate"), {"model": MODEL})
    assert response.status_code == 503


def test_throttle_scopes(sandbox: Sandbox, alice_client: APIClient) -> None:
    rates = {"babysea_read": "2/min", "babysea_submit": "1/min"}
    with override_settings(REST_FRAMEWORK={"DEFAULT_THROTTLE_RATES": rates}):
        assert alice_client.get(url("generations")).status_code == 200
        assert alice_client.get(url("generations")).status_code == 200
        limited = alice_client.get(url("generations"))
        assert limited.status_code == 429
        assert limited.json()["code"] == "throttled"
        assert limited["Retry-After"]
    # Without rates configured, nothing is throttled.
    assert alice_client.get(url("generations")).status_code == 200
