"""Retry policy of contract section 8, proven by counting the requests the server saw."""

from __future__ import annotations

import socket

import httpx
import pytest

from django_babysea.client import (
    BabySea,
    InvalidRequestError,
    NetworkError,
    RateLimitError,
    RequestTimeoutError,
    RetryPolicy,
    ServerError,
)

from .conftest import API_KEY, FakeTime, MakeClient
from .server import Reply, ScriptedServer

STATUS = "/v1/status"
GENERATE = "/v1/generate/image/bfl/flux-schnell"


def unavailable(request_id: str = "req_503", retryable: bool = True) -> Reply:
    return Reply(
        503,
        {
            "status": "error",
            "request_id": request_id,
            "error": {
                "code": "BSE5002",
                "type": "service_unavailable",
                "message": "Storage is down.",
                "retryable": retryable,
            },
        },
    )


def test_retryable_error_then_success(
    client: BabySea, server: ScriptedServer, fake_time: FakeTime
) -> None:
    server.script("GET", STATUS, unavailable(), Reply.example("status"))
    assert client.status().apikey_prefix == "bye_Q7mZ2"
    assert len(server.seen()) == 2
    assert fake_time.sleeps == [0.5]  # random() 0.5 * min(1 * 2**0, 30)


def test_full_jitter_backoff_doubles_and_is_capped(
    make_client: MakeClient, server: ScriptedServer, fake_time: FakeTime
) -> None:
    client = make_client(max_retries=7, random=lambda: 1.0)
    server.script("GET", STATUS, *[unavailable() for _ in range(7)], Reply.example("status"))
    client.status()
    assert fake_time.sleeps == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    assert len(server.seen()) == 8


def test_retry_after_is_honoured(
    client: BabySea, server: ScriptedServer, fake_time: FakeTime
) -> None:
    limited = Reply.example("error_rate_limit", 429, headers={"Retry-After": "7"})
    server.script("GET", STATUS, limited, Reply.example("status"))
    client.status()
    assert fake_time.sleeps == [7.0]
    assert len(server.seen()) == 2


def test_retry_after_above_the_cap_raises_instead_of_sleeping(
    make_client: MakeClient, server: ScriptedServer, fake_time: FakeTime
) -> None:
    client = make_client(max_retries=3, max_retry_after=10)
    limited = Reply.example("error_rate_limit", 429, headers={"Retry-After": "11"})
    server.script("GET", STATUS, limited)
    with pytest.raises(RateLimitError) as caught:
        client.status()
    assert caught.value.retry_after == 11
    assert fake_time.sleeps == []
    assert len(server.seen()) == 1
    # At the cap it still waits.
    at_cap = Reply.example("error_rate_limit", 429, headers={"Retry-After": "10"})
    server.script("GET", STATUS, at_cap, Reply.example("status"))
    client.status()
    assert fake_time.sleeps == [10.0]


def test_default_retry_after_cap_is_a_minute(
    client: BabySea, server: ScriptedServer, fake_time: FakeTime
) -> None:
    limited = Reply.example("error_rate_limit", 429, headers={"Retry-After": "3600"})
    server.script("GET", STATUS, limited)
    with pytest.raises(RateLimitError):
        client.status()
    assert fake_time.sleeps == []
    assert RetryPolicy().max_retry_after == 60.0


def test_non_retryable_error_is_raised_at_once(
    client: BabySea, server: ScriptedServer, fake_time: FakeTime
) -> None:
    server.script("GET", STATUS, Reply.example("error_invalid_input", 400), Reply.example("status"))
    with pytest.raises(InvalidRequestError) as caught:
        client.status()
    assert caught.value.attempts == 1
    assert len(server.seen()) == 1
    assert fake_time.sleeps == []


def test_retryable_flag_false_on_5xx_is_trusted(client: BabySea, server: ScriptedServer) -> None:
    server.script("GET", STATUS, unavailable(retryable=False), Reply.example("status"))
    with pytest.raises(ServerError):
        client.status()
    assert len(server.seen()) == 1


def test_exhausted_retries_raise_the_last_error(
    client: BabySea, server: ScriptedServer, fake_time: FakeTime
) -> None:
    server.script(
        "GET",
        STATUS,
        unavailable("req_1"),
        unavailable("req_2"),
        unavailable("req_3"),
        unavailable(),
    )
    with pytest.raises(ServerError) as caught:
        client.status()
    error = caught.value
    assert error.request_id == "req_3"
    assert error.attempts == 3
    assert str(error).endswith("[request_id=req_3] after 3 attempts")
    assert len(server.seen()) == 3  # max_retries + 1
    assert fake_time.sleeps == [0.5, 1.0]


def test_zero_retries_still_raise_the_typed_error(
    make_client: MakeClient, server: ScriptedServer
) -> None:
    client = make_client(max_retries=0)
    server.script("GET", STATUS, Reply.example("error_rate_limit", 429), Reply.example("status"))
    with pytest.raises(RateLimitError) as caught:
        client.status()
    assert caught.value.attempts == 1
    assert caught.value.retryable is True
    assert len(server.seen()) == 1


def test_api_errors_are_retried_for_a_post_without_key(
    client: BabySea, server: ScriptedServer
) -> None:
    server.script("POST", GENERATE, unavailable(), Reply.example("generate_image"))
    client.generate("bfl/flux-schnell", generation_prompt="x")
    assert len(server.seen()) == 2  # as the official SDK does: the API said retryable


def test_dropped_connection_on_get_is_retried(
    client: BabySea, server: ScriptedServer, fake_time: FakeTime
) -> None:
    server.script("GET", STATUS, Reply(drop=True), Reply.example("status"))
    assert client.status().account_id == "3f6b2a9e-1c4d-4e7a-9b2f-6d8c0e1a5b73"
    assert len(server.seen()) == 2
    assert fake_time.sleeps == [0.5]


def test_dropped_connection_on_delete_is_retried(client: BabySea, server: ScriptedServer) -> None:
    path = "/v1/content/2d6f8b14-9e3a-4c57-a0b8-5e1d7f9c3b62"
    server.script("DELETE", path, Reply(drop=True), Reply.example("content_delete"))
    assert client.delete_generation("2d6f8b14-9e3a-4c57-a0b8-5e1d7f9c3b62").files_deleted == 1
    assert len(server.seen()) == 2


def test_dropped_connections_exhaust_into_network_error(
    client: BabySea, server: ScriptedServer
) -> None:
    server.script("GET", STATUS, *[Reply(drop=True) for _ in range(4)])
    with pytest.raises(NetworkError) as caught:
        client.status()
    assert (caught.value.attempts, caught.value.retryable) == (3, True)
    assert isinstance(caught.value.cause, httpx.TransportError)
    assert str(caught.value).startswith("Network error after 3 attempts: ")
    assert len(server.seen()) == 3


def test_post_without_idempotency_key_is_not_resent(
    client: BabySea, server: ScriptedServer, fake_time: FakeTime
) -> None:
    server.script("POST", GENERATE, Reply(drop=True), Reply.example("generate_image"))
    with pytest.raises(NetworkError) as caught:
        client.generate("bfl/flux-schnell", generation_prompt="x")
    assert (caught.value.attempts, caught.value.retryable) == (1, False)
    assert len(server.seen()) == 1
    assert fake_time.sleeps == []


def test_post_with_idempotency_key_is_resent(client: BabySea, server: ScriptedServer) -> None:
    server.script("POST", GENERATE, Reply(drop=True), Reply.example("generate_image"))
    created = client.generate("bfl/flux-schnell", idempotency_key="job-42", generation_prompt="x")
    assert created.generation_id == "8e2c4a61-5f3b-4d9e-a1c7-3b6f0d2e9a18"
    first, second = server.seen()
    assert first.headers["idempotency-key"] == second.headers["idempotency-key"] == "job-42"
    assert first.body == second.body


def test_cancel_post_is_not_resent_after_a_drop(client: BabySea, server: ScriptedServer) -> None:
    path = "/v1/content/generation/cancel/e7a3c5d9-4b1f-4e2a-8d60-9c5b2f1e3a7d"
    server.script("POST", path, Reply(drop=True), Reply.example("content_cancel"))
    with pytest.raises(NetworkError):
        client.cancel_generation("e7a3c5d9-4b1f-4e2a-8d60-9c5b2f1e3a7d")
    assert len(server.seen()) == 1


def test_connection_refused(fake_time: FakeTime) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with (
        BabySea(
            API_KEY, base_url=f"http://127.0.0.1:{port}", sleep=fake_time.sleep, random=lambda: 0.5
        ) as client,
        pytest.raises(NetworkError) as caught,
    ):
        client.billing()
    assert (caught.value.attempts, caught.value.retryable) == (3, True)
    assert isinstance(caught.value.cause, httpx.ConnectError)
    assert fake_time.sleeps == [0.5, 1.0]


def test_timeout_is_not_retried(
    make_client: MakeClient, server: ScriptedServer, fake_time: FakeTime
) -> None:
    client = make_client(timeout=0.2)
    server.script("GET", STATUS, Reply.example("status", delay=1.0), Reply.example("status"))
    with pytest.raises(RequestTimeoutError) as caught:
        client.status()
    assert isinstance(caught.value, TimeoutError)
    assert caught.value.timeout == 0.2
    assert str(caught.value) == "Request timed out after 0.2s"
    assert len(server.seen()) == 1
    assert fake_time.sleeps == []


def test_timeout_of_a_keyed_post_is_not_retried_either(
    make_client: MakeClient, server: ScriptedServer
) -> None:
    client = make_client(timeout=0.2)
    server.script("POST", GENERATE, Reply.example("generate_image", delay=1.0))
    with pytest.raises(RequestTimeoutError):
        client.generate("bfl/flux-schnell", idempotency_key="k", generation_prompt="x")
    assert len(server.seen()) == 1


def test_connect_timeout_counts_as_a_transport_failure(fake_time: FakeTime) -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            raise httpx.ConnectTimeout("connect timed out", request=request)
        return httpx.Response(
            200,
            content=b'{"status":"success","data":{"service":"redis",'
            b'"healthy":true,"latency_ms":2}}',
        )

    with BabySea(API_KEY, transport=httpx.MockTransport(handler), sleep=fake_time.sleep) as client:
        assert client.health.cache().latency_ms == 2.0
    assert len(calls) == 2


def test_one_connection_is_reused(client: BabySea, server: ScriptedServer) -> None:
    server.script("GET", STATUS, Reply.example("status"), unavailable(), Reply.example("status"))
    server.script("GET", "/v1/user/billing", Reply.example("user_billing"))
    server.script("GET", "/v1/content/list", Reply.example("content_list"))
    server.script("POST", GENERATE, Reply.example("generate_image"))
    server.script("GET", "/v1/user/account", Reply.example("error_invalid_input", 400))
    client.status()
    client.billing()
    client.list_generations()
    client.generate("bfl/flux-schnell", generation_prompt="x")
    client.status()
    with pytest.raises(InvalidRequestError):
        client.account()
    assert len(server.seen()) == 7
    assert len(server.ports) == 1


def test_policy_decisions() -> None:
    policy = RetryPolicy(max_retries=1, random=lambda: 0.25)
    assert policy.max_attempts == 2
    assert policy.backoff(1) == 0.25
    assert policy.backoff(3) == 1.0
    assert policy.after_transport_error(replay_safe=True, attempt=1) == 0.25
    assert policy.after_transport_error(replay_safe=True, attempt=2) is None
    assert policy.after_transport_error(replay_safe=False, attempt=1) is None
