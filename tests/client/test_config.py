"""Construction, request headers, argument checks, secrets and the Django-free import."""

from __future__ import annotations

import logging
import platform
import subprocess
import sys
from collections.abc import Callable

import httpx
import pytest

import django_babysea
from django_babysea.client import (
    REGIONS,
    USER_AGENT,
    BabySea,
    BabySeaError,
    ConfigurationError,
    NetworkError,
    RequestTimeoutError,
    ResponseValidationError,
    ServerError,
)

from .conftest import API_KEY, MakeClient
from .server import Reply, ScriptedServer

STATUS_BODY = (
    b'{"status":"success","request_id":"req_cfg","data":{"account_id":"a","apikey_id":"k"}}'
)


def capture_urls() -> tuple[list[httpx.Request], httpx.MockTransport]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=STATUS_BODY)

    return seen, httpx.MockTransport(handler)


@pytest.mark.parametrize(
    ("region", "origin"),
    [
        ("us", "https://api.us.babysea.ai"),
        ("eu", "https://api.eu.babysea.ai"),
        ("jp", "https://api.jp.babysea.ai"),
    ],
)
def test_regional_origins(region: str, origin: str) -> None:
    seen, transport = capture_urls()
    with BabySea(API_KEY, region=region, transport=transport) as client:
        client.status()
        assert client.base_url == origin
        assert client.region == region
    assert str(seen[0].url) == f"{origin}/v1/status"


def test_defaults() -> None:
    seen, transport = capture_urls()
    with BabySea(api_key=API_KEY, transport=transport) as client:
        assert (client.region, client.timeout, client.max_retries) == ("us", 30.0, 2)
        client.status()
    assert seen[0].extensions["timeout"] == {
        "connect": 30.0,
        "read": 30.0,
        "write": 30.0,
        "pool": 30.0,
    }


@pytest.mark.parametrize(
    "base_url",
    [
        "https://proxy.example/babysea",
        "https://proxy.example/babysea/",
        "https://proxy.example/babysea/v1/",
    ],
)
def test_base_url_overrides_region(base_url: str) -> None:
    seen, transport = capture_urls()
    with BabySea(API_KEY, region="eu", base_url=base_url, transport=transport) as client:
        client.status()
    assert str(seen[0].url) == "https://proxy.example/babysea/v1/status"


def test_unknown_region() -> None:
    with pytest.raises(ConfigurationError) as caught:
        BabySea(API_KEY, region="ap")
    assert str(caught.value) == "Unknown BabySea region 'ap'; expected one of: us, eu, jp."
    assert set(REGIONS) == {"us", "eu", "jp"}


@pytest.mark.parametrize("key", ["", "   ", None])
def test_missing_key(key: str | None) -> None:
    with pytest.raises(ConfigurationError, match="API key is required"):
        BabySea(key)  # type: ignore[arg-type]


def test_malformed_key_is_not_echoed() -> None:
    with pytest.raises(ConfigurationError) as caught:
        BabySea("bye_Secret Value\n")
    assert "Secret" not in str(caught.value)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("options", "text"),
    [
        ({"timeout": 0}, "timeout"),
        ({"timeout": -1}, "timeout"),
        ({"max_retries": -1}, "max_retries"),
        ({"max_retries": 1.5}, "max_retries"),
        ({"base_url": "api.us.babysea.ai"}, "base_url"),
        ({"base_url": "ftp://x"}, "base_url"),
    ],
)
def test_bad_options(options: dict[str, object], text: str) -> None:
    with pytest.raises(ConfigurationError, match=text):
        BabySea(API_KEY, **options)  # type: ignore[arg-type]


def test_transport_and_http_client_are_exclusive() -> None:
    with httpx.Client() as http, pytest.raises(ConfigurationError):
        BabySea(
            API_KEY, transport=httpx.MockTransport(lambda r: httpx.Response(200)), http_client=http
        )


def test_given_http_client_is_used_and_left_open(server: ScriptedServer) -> None:
    server.script("GET", "/v1/status", Reply.example("status"))
    sent: list[httpx.Request] = []
    with httpx.Client(event_hooks={"request": [sent.append]}) as http:
        client = BabySea(API_KEY, base_url=server.url, http_client=http)
        client.status()
        client.close()
        assert not http.is_closed
    assert [str(r.url) for r in sent] == [f"{server.url}/v1/status"]


def test_context_manager_closes_its_pool() -> None:
    with BabySea(API_KEY) as client:
        pass
    assert client._http.is_closed


def test_identification_headers(client: BabySea, server: ScriptedServer) -> None:
    server.script("GET", "/v1/status", Reply.example("status"))
    server.script("POST", "/v1/generate/image/bfl/flux-schnell", Reply.example("generate_image"))
    client.status()
    client.generate("bfl/flux-schnell", generation_prompt="x")
    version = django_babysea.__version__
    runtime = platform.python_version()
    assert f"django-babysea/{version} (python/{runtime})" == USER_AGENT
    for seen in server.seen():
        assert seen.headers["authorization"] == f"Bearer {API_KEY}"
        assert seen.headers["accept"] == "application/json"
        assert seen.headers["user-agent"] == f"django-babysea/{version} (python/{runtime})"
        assert seen.headers["x-babysea-sdk-name"] == "django-babysea"
        assert seen.headers["x-babysea-sdk-version"] == version
        assert seen.headers["x-babysea-sdk-runtime"] == "python"
        assert seen.headers["x-babysea-sdk-runtime-version"] == runtime
        assert "idempotency-key" not in seen.headers
    get, post = server.seen()
    assert "content-type" not in get.headers
    assert post.headers["content-type"] == "application/json"


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "ключ", "a/b", "a?b"])
def test_invalid_idempotency_keys_are_refused_before_sending(
    client: BabySea, server: ScriptedServer, key: str
) -> None:
    with pytest.raises(ConfigurationError, match="Idempotency-Key"):
        client.generate("bfl/flux-schnell", idempotency_key=key, generation_prompt="x")
    assert server.seen() == []


def test_longest_idempotency_key_is_sent(client: BabySea, server: ScriptedServer) -> None:
    server.script("POST", "/v1/generate/image/bfl/flux-schnell", Reply.example("generate_image"))
    client.generate("bfl/flux-schnell", idempotency_key="A" * 255, generation_prompt="x")
    assert server.seen()[0].headers["idempotency-key"] == "A" * 255


@pytest.mark.parametrize("model", ["", "bfl//x", "bfl/../status", "./x", "/bfl/x"])
def test_invalid_model_ids(client: BabySea, server: ScriptedServer, model: str) -> None:
    with pytest.raises(ConfigurationError):
        client.estimate(model)
    assert server.seen() == []


def test_model_id_keeps_its_slash_and_escapes_the_rest(
    client: BabySea, server: ScriptedServer
) -> None:
    server.script("GET", "/v1/estimate/lab/odd%20name%3Fx", Reply.example("estimate_image"))
    client.estimate("lab/odd name?x")
    assert server.seen()[0].path == "/v1/estimate/lab/odd%20name%3Fx"


def test_empty_generation_id(client: BabySea) -> None:
    with pytest.raises(ConfigurationError):
        client.get_generation("")


def test_unserializable_body(client: BabySea, server: ScriptedServer) -> None:
    with pytest.raises(ConfigurationError, match="JSON"):
        client.generate("bfl/flux-schnell", generation_prompt=object())
    assert server.seen() == []


# -- secrets ----------------------------------------------------------------------------------


def test_repr_has_no_key(client: BabySea, server: ScriptedServer) -> None:
    text = repr(client)
    assert API_KEY not in text
    assert text == f"BabySea(region='us', base_url='{server.url}', timeout=5, max_retries=2)"
    assert API_KEY not in repr(client._core.config)


def test_key_never_reaches_logs_or_errors(
    make_client: MakeClient, server: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = make_client()
    unavailable = Reply(503, {"status": "error", "request_id": "req_down", "error": {}})
    server.script("GET", "/v1/status", unavailable, Reply.example("status"))
    server.script("GET", "/v1/usage", unavailable, unavailable, unavailable)
    server.script("GET", "/v1/user/account", Reply(200, "not json"))
    server.script("GET", "/v1/user/billing", Reply(drop=True), Reply(drop=True), Reply(drop=True))
    server.script("GET", "/v1/health/cache", Reply.example("health_cache", delay=1))

    client.status()
    errors: list[BaseException] = []
    cases: list[tuple[Callable[[], object], type[BabySeaError]]] = [
        (client.usage, ServerError),
        (client.account, ResponseValidationError),
        (client.billing, NetworkError),
        (make_client(timeout=0.1).health.cache, RequestTimeoutError),
    ]
    for call, cls in cases:
        with pytest.raises(cls) as caught:
            call()
        errors.append(caught.value)
    with pytest.raises(ConfigurationError) as bad_key:
        BabySea(API_KEY + " ")
    errors.append(bad_key.value)

    for error in errors:
        assert API_KEY not in str(error)
        assert API_KEY not in repr(error)
    messages = [record.getMessage() for record in caplog.records]
    assert messages
    assert not [m for m in messages if API_KEY in m or "Bearer" in m]
    ours = [r.getMessage() for r in caplog.records if r.name == "django_babysea.client"]
    assert (
        "BabySea GET /v1/status -> 503 HTTP_503 (attempt 1, request_id=req_down); retrying in 0.50s"
        in ours
    )
    assert (
        "BabySea GET /v1/status -> 200 (attempt 2, request_id=req_4f1a9c2e7b3d5a60e8c1f4b2)" in ours
    )


def test_client_imports_nothing_from_django() -> None:
    code = (
        "import django_babysea.client, sys; "
        "assert not any(m == 'django' or m.startswith('django.') for m in sys.modules), "
        "sorted(m for m in sys.modules if m.startswith('django'))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
