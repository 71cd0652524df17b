"""Error envelopes, their normalization (contract section 8) and the typed hierarchy."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

from django_babysea.client import (
    APIError,
    AuthenticationError,
    BabySea,
    BabySeaError,
    ConcurrencyLimitError,
    Generation,
    GenerationCreated,
    IdempotencyConflictError,
    InsufficientCreditsError,
    InvalidRequestError,
    NotCancelableError,
    NotFoundError,
    PermissionDeniedError,
    ProviderError,
    ProviderErrorInfo,
    RateLimitError,
    RateLimitInfo,
    ResponseValidationError,
    ServerError,
)

from .conftest import MakeClient
from .server import Reply, ScriptedServer, example

STATUS = "/v1/status"
GEN_ID = "8e2c4a61-5f3b-4d9e-a1c7-3b6f0d2e9a18"


@pytest.fixture
def once(make_client: MakeClient) -> BabySea:
    """A client that never retries, so each test sees exactly one response."""
    return make_client(max_retries=0)


def fail(client: BabySea) -> APIError:
    with pytest.raises(APIError) as caught:
        client.status()
    return caught.value


@pytest.mark.parametrize(
    ("name", "status", "cls"),
    [
        ("error_rate_limit", 429, RateLimitError),
        ("error_concurrency_limit", 429, ConcurrencyLimitError),
        ("error_insufficient_credits", 402, InsufficientCreditsError),
        ("error_invalid_input", 400, InvalidRequestError),
        ("error_idempotency_conflict", 409, IdempotencyConflictError),
        ("error_all_providers_failed", 502, ProviderError),
    ],
)
def test_example_error_bodies(
    once: BabySea, server: ScriptedServer, name: str, status: int, cls: type[APIError]
) -> None:
    server.script("GET", STATUS, Reply.example(name, status))
    body = example(name)
    error = fail(once)
    assert type(error) is cls
    assert isinstance(error, BabySeaError)
    assert error.status == status
    assert error.code == body["error"]["code"]
    assert error.type == body["error"]["type"]
    assert error.message == body["error"]["message"]
    assert error.retryable is body["error"]["retryable"]
    assert error.request_id == body["request_id"]
    assert error.details == body["error"].get("details")
    assert error.attempts == 1
    assert error.body == body
    assert len(server.seen()) == 1


def test_concurrency_limit_is_a_rate_limit(once: BabySea, server: ScriptedServer) -> None:
    server.script("GET", STATUS, Reply.example("error_concurrency_limit", 429))
    with pytest.raises(RateLimitError) as caught:
        once.status()
    assert caught.value.details == {"limit": 4, "in_flight": 4, "media_type": "video"}


def test_provider_errors_are_typed(once: BabySea, server: ScriptedServer) -> None:
    server.script("GET", STATUS, Reply.example("error_all_providers_failed", 502))
    error = fail(once)
    assert error.provider_errors == (
        ProviderErrorInfo(
            "replicate",
            "BSE4002",
            "provider_timeout",
            "Provider did not finish within the attempt timeout.",
            True,
        ),
        ProviderErrorInfo(
            "fal", "BSE4001", "provider_error", "Provider returned an upstream server error.", True
        ),
    )


def test_message_format(once: BabySea, server: ScriptedServer) -> None:
    server.script("GET", STATUS, Reply.example("error_insufficient_credits", 402))
    error = fail(once)
    assert str(error) == (
        "BSE1004 insufficient_credits (HTTP 402): The credit balance does not cover this "
        "generation. Add credits or wait for the next plan renewal. "
        "[request_id=req_3e7b1d5f9a0c2e68b4d1f3a9]"
    )


def envelope(code: str, retryable: bool = False, **error: Any) -> dict[str, Any]:
    return {
        "status": "error",
        "request_id": "req_synth",
        "error": {"code": code, "type": "t", "message": "m", "retryable": retryable, **error},
    }


@pytest.mark.parametrize(
    ("code", "status", "cls"),
    [
        ("BSE1001", 401, AuthenticationError),
        ("BSE1002", 401, AuthenticationError),
        ("BSE1003", 403, PermissionDeniedError),
        ("BSE1005", 429, RateLimitError),
        ("BSE1006", 429, RateLimitError),
        ("BSE1007", 403, PermissionDeniedError),
        ("BSE1008", 404, NotFoundError),
        *[(f"BSE20{n:02d}", 422, InvalidRequestError) for n in range(2, 10)],
        ("BSE2010", 413, InvalidRequestError),
        ("BSE2011", 404, NotFoundError),
        ("BSE2012", 409, NotCancelableError),
        ("BSE2013", 409, NotCancelableError),
        ("BSE2014", 404, NotFoundError),
        ("BSE2016", 409, IdempotencyConflictError),
        ("BSE4001", 502, ProviderError),
        ("BSE4006", 503, ProviderError),
        ("BSE4007", 422, ProviderError),
        ("BSE5001", 500, ServerError),
        ("BSE5002", 503, ServerError),
    ],
)
def test_class_by_code(
    once: BabySea, server: ScriptedServer, code: str, status: int, cls: type[APIError]
) -> None:
    server.script("GET", STATUS, Reply(status, envelope(code)))
    error = fail(once)
    assert type(error) is cls
    assert (error.code, error.status, error.request_id) == (code, status, "req_synth")


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, InvalidRequestError),
        (401, AuthenticationError),
        (402, InsufficientCreditsError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, APIError),
        (413, InvalidRequestError),
        (418, APIError),
        (422, InvalidRequestError),
        (429, RateLimitError),
        (500, ServerError),
        (503, ServerError),
        (504, ServerError),
    ],
)
def test_class_by_status_when_code_is_unknown(
    once: BabySea, server: ScriptedServer, status: int, cls: type[APIError]
) -> None:
    server.script("GET", STATUS, Reply(status, envelope("BSE9999")))
    assert type(fail(once)) is cls


def test_edge_firewall_plain_text_403(client: BabySea, server: ScriptedServer) -> None:
    server.script("GET", STATUS, Reply(403, "Forbidden"))
    error = fail(client)
    assert type(error) is PermissionDeniedError
    assert (error.code, error.type, error.message) == (
        "HTTP_403",
        "api_error",
        "HTTP 403 Forbidden",
    )
    assert error.retryable is False
    assert error.request_id is None
    assert error.details is None
    assert error.provider_errors == ()
    assert len(server.seen()) == 1  # not retryable, even with retries configured
    assert str(error) == "HTTP_403 api_error (HTTP 403): HTTP 403 Forbidden"


def test_proxy_html_502_is_a_retryable_server_error(
    client: BabySea, server: ScriptedServer
) -> None:
    html = Reply(
        502, "<html><body><h1>502 Bad Gateway</h1></body></html>", content_type="text/html"
    )
    server.script("GET", STATUS, html, html, html)
    error = fail(client)
    assert type(error) is ServerError
    assert (error.code, error.message, error.retryable) == (
        "HTTP_502",
        "HTTP 502 Bad Gateway",
        True,
    )
    assert error.attempts == 3
    assert len(server.seen()) == 3


def test_non_json_429_is_not_retryable(client: BabySea, server: ScriptedServer) -> None:
    server.script("GET", STATUS, Reply(429, "Too Many Requests"))
    error = fail(client)
    assert type(error) is RateLimitError
    assert error.retryable is False  # contract: non-JSON bodies are retryable only when >= 500
    assert len(server.seen()) == 1


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (400, {"error": {"code": "BSE2001"}}, ("BSE2001", "api_error", "HTTP 400", False)),
        (503, {"status": "error"}, ("HTTP_503", "api_error", "HTTP 503", True)),
        (
            429,
            {"error": {"code": "BSE1005", "message": "slow down"}},
            ("BSE1005", "api_error", "slow down", True),
        ),
        (400, [1, 2], ("HTTP_400", "api_error", "HTTP 400 Bad Request", False)),
        (
            401,
            {"error": "bse_invalid_api_key", "message": "Invalid API key"},
            ("HTTP_401", "api_error", "Invalid API key", False),
        ),
        (
            500,
            {"error": {"code": 5001, "retryable": "no"}},
            ("HTTP_500", "api_error", "HTTP 500", True),
        ),
    ],
)
def test_partial_json_is_filled_in(
    once: BabySea, server: ScriptedServer, status: int, body: Any, expected: tuple[Any, ...]
) -> None:
    server.script("GET", STATUS, Reply(status, body if isinstance(body, dict) else str(body)))
    error = fail(once)
    assert (error.code, error.type, error.message, error.retryable) == expected
    assert error.body["error"] == dict(
        zip(("code", "type", "message", "retryable"), expected, strict=True)
    )


def test_badly_typed_details_and_provider_errors_are_dropped(
    once: BabySea, server: ScriptedServer
) -> None:
    body = envelope(
        "BSE4003",
        details=["not", "an", "object"],
        provider_errors=[
            {"provider": "fal", "code": "BSE4001", "type": "x", "message": "y", "retryable": True},
            {"provider": "replicate", "code": 4002},
        ],
    )
    server.script("GET", STATUS, Reply(502, body))
    error = fail(once)
    assert error.details is None
    assert error.provider_errors == ()
    assert "details" not in error.body["error"]
    assert "provider_errors" not in error.body["error"]


def test_rate_limit_headers(once: BabySea, server: ScriptedServer) -> None:
    headers = {
        "Retry-After": "23",
        "X-RateLimit-Limit": "60",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": "1781107700",
    }
    server.script("GET", STATUS, Reply.example("error_rate_limit", 429, headers=headers))
    error = fail(once)
    assert error.rate_limit == RateLimitInfo(
        limit=60, remaining=0, reset=1781107700, retry_after=23
    )
    assert error.retry_after == 23.0


def test_rate_limit_only_when_limit_header_present(once: BabySea, server: ScriptedServer) -> None:
    server.script(
        "GET", STATUS, Reply.example("error_rate_limit", 429, headers={"Retry-After": "5"})
    )
    error = fail(once)
    assert error.rate_limit is None
    assert error.retry_after == 5.0


def test_rate_limit_defaults(once: BabySea, server: ScriptedServer) -> None:
    server.script(
        "GET", STATUS, Reply(400, envelope("BSE2001"), headers={"X-RateLimit-Limit": "60"})
    )
    assert fail(once).rate_limit == RateLimitInfo(limit=60, remaining=0, reset=0, retry_after=None)


def test_errors_survive_pickling(once: BabySea, server: ScriptedServer) -> None:
    server.script("GET", STATUS, Reply.example("error_all_providers_failed", 502))
    error = fail(once)
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own object
    assert type(copy) is ProviderError
    assert str(copy) == str(error)
    assert copy.provider_errors == error.provider_errors


# -- 2xx answers that are not what the contract promises -------------------------------------


@pytest.mark.parametrize(
    ("reply", "where", "request_id"),
    [
        (Reply(200, "<html>maintenance</html>", content_type="text/html"), None, None),
        (Reply(200, "[]"), None, None),
        (Reply(200, {"status": "success", "request_id": "req_1"}), "data", "req_1"),
        (Reply(200, {"status": "success", "request_id": "req_2", "data": []}), "data", "req_2"),
        (Reply(200, {"status": "error", "request_id": "req_3", "data": {}}), "status", "req_3"),
    ],
)
def test_broken_success_envelope(
    client: BabySea, server: ScriptedServer, reply: Reply, where: str | None, request_id: str | None
) -> None:
    server.script("GET", f"/v1/content/{GEN_ID}", reply)
    with pytest.raises(ResponseValidationError) as caught:
        client.get_generation(GEN_ID)
    error = caught.value
    assert isinstance(error, BabySeaError)
    assert (error.where, error.status, error.request_id) == (where, 200, request_id)
    assert len(server.seen()) == 1  # never retried


def broken_generation(**changes: Any) -> dict[str, Any]:
    body = example("content_get")
    for key, value in changes.items():
        if value is ...:
            del body["data"][key]
        else:
            body["data"][key] = value
    return body


@pytest.mark.parametrize(
    ("changes", "where", "text"),
    [
        ({"generation_status": 5}, "data.generation_status", "expected string, got number"),
        ({"generation_id": ...}, "data.generation_id", "required field is missing"),
        ({"generation_id": None}, "data.generation_id", "expected string, got null"),
        ({"generation_output_number": True}, "data.generation_output_number", "got boolean"),
        ({"generation_output_number": 1.5}, "data.generation_output_number", "got number"),
        ({"generation_output_file": "a.png"}, "data.generation_output_file", "got string"),
        ({"generation_provider_order": ["bfl", 3]}, "data.generation_provider_order[1]", "got"),
        ({"generation_created_at": "yesterday"}, "data.generation_created_at", "'yesterday'"),
        ({"generation_started_at": 1781107635}, "data.generation_started_at", "got number"),
        ({"generation_removed": "true"}, "data.generation_removed", "got string"),
    ],
)
def test_wrong_field_types(
    client: BabySea, server: ScriptedServer, changes: dict[str, Any], where: str, text: str
) -> None:
    server.script("GET", f"/v1/content/{GEN_ID}", Reply(200, broken_generation(**changes)))
    with pytest.raises(ResponseValidationError) as caught:
        client.get_generation(GEN_ID)
    assert caught.value.where == where
    assert text in str(caught.value)
    assert caught.value.request_id == "req_7e3a9c1d5b0f2e48a6c8d1b2"
    assert str(caught.value).startswith(f"Unexpected BabySea response: {where}: ")


def test_nested_item_errors_name_the_path(client: BabySea, server: ScriptedServer) -> None:
    body = example("content_list")
    body["data"]["generations"][1]["generation_id"] = 12
    server.script("GET", "/v1/content/list", Reply(200, body))
    with pytest.raises(ResponseValidationError) as caught:
        client.list_generations()
    assert caught.value.where == "data.generations[1].generation_id"


def test_list_without_total(client: BabySea, server: ScriptedServer) -> None:
    body = example("content_list")
    del body["total"]
    server.script("GET", "/v1/content/list", Reply(200, body))
    with pytest.raises(ResponseValidationError, match="required field is missing"):
        client.list_generations()


def test_created_normal_shape_requires_its_fields() -> None:
    data = example("generate_image")["data"]
    del data["generation_provider_order"]
    with pytest.raises(ResponseValidationError) as caught:
        GenerationCreated.from_data(data)
    assert caught.value.where == "data.generation_provider_order"


def test_from_data_accepts_integers_for_floats_and_naive_timestamps() -> None:
    data = example("content_get")["data"] | {
        "generation_metrics_total_time": 3,
        "generation_created_at": "2026-06-10T16:07:12",
    }
    generation = Generation.from_data(data, request_id="req_x")
    assert generation.generation_metrics_total_time == 3.0
    assert isinstance(generation.generation_metrics_total_time, float)
    assert generation.generation_created_at.utcoffset() is not None
    assert generation.request_id == "req_x"


def test_from_data_rejects_non_objects() -> None:
    with pytest.raises(ResponseValidationError, match="expected object, got array"):
        Generation.from_data([])  # type: ignore[arg-type]
