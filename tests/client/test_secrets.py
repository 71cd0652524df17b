"""No client error carries the API key: not in its message, its repr, nor its pickle (a Celery
result backend pickles exceptions), including the transport exception it wraps."""

from __future__ import annotations

import pickle
import socket
from collections.abc import Callable

import pytest

from django_babysea.client import (
    APIError,
    AuthenticationError,
    BabySea,
    BabySeaError,
    InsufficientCreditsError,
    InvalidRequestError,
    NetworkError,
    NotFoundError,
    RateLimitError,
    RequestTimeoutError,
    ServerError,
)
from django_babysea.sandbox import Sandbox

MODEL = "bfl/flux-schnell"
ANY: dict[str, object] = {"path": "/v1/*"}


def assert_no_secret(exc: BaseException, secret: str) -> None:
    for error in (exc, exc.__cause__, getattr(exc, "cause", None)):
        if error is None:
            continue
        data = pickle.dumps(error)
        assert secret.encode() not in data, type(error).__name__
        assert secret not in repr(error)
        assert secret not in str(error)
        restored = pickle.loads(data)  # noqa: S301  (our own bytes: still usable after the trip)
        assert str(restored) == str(error)


def _status(client: BabySea) -> object:
    return client.status()


def _generate(client: BabySea) -> object:
    return client.generate(MODEL, idempotency_key="pickle-1", generation_prompt="A seal")


FAULTS: list[tuple[str, dict[str, object], Callable[[BabySea], object], type[BabySeaError]]] = [
    ("server_error", ANY, _status, ServerError),
    ("service_unavailable", ANY, _status, ServerError),
    ("bad_gateway_html", ANY, _status, ServerError),
    ("http_error", {**ANY, "status": 418, "code": "BSE9999"}, _status, APIError),
    ("rate_limited", ANY, _status, RateLimitError),
    ("drop", ANY, _status, NetworkError),
    ("drop", {"method": "POST", "path": "/v1/generate/*"}, _generate, NetworkError),
    ("crash_after_commit", {"method": "POST", "path": "/v1/generate/*"}, _generate, NetworkError),
    ("timeout", {**ANY, "seconds": 2}, _status, RequestTimeoutError),
]


@pytest.mark.parametrize(("fault", "params", "call", "error"), FAULTS)
def test_faults_pickle_without_the_key(
    babysea_sandbox: Sandbox,
    fault: str,
    params: dict[str, object],
    call: Callable[[BabySea], object],
    error: type[BabySeaError],
) -> None:
    babysea_sandbox.inject(fault, **params)
    key = babysea_sandbox.api_key
    with (
        BabySea(key, base_url=babysea_sandbox.url, max_retries=0, timeout=0.5) as client,
        pytest.raises(error) as caught,
    ):
        call(client)
    assert_no_secret(caught.value, key)


def test_api_rejections_pickle_without_the_key(babysea_sandbox: Sandbox) -> None:
    key = babysea_sandbox.api_key
    with BabySea(key, base_url=babysea_sandbox.url, max_retries=0) as client:
        calls: list[tuple[Callable[[], object], type[BabySeaError]]] = [
            (lambda: client.get_generation("00000000-0000-4000-8000-000000000000"), NotFoundError),
            (lambda: client.generate(MODEL, generation_prompt=""), InvalidRequestError),
            (lambda: client.estimate("nobody/nothing"), NotFoundError),
        ]
        for call, error in calls:
            with pytest.raises(error) as caught:
                call()
            assert_no_secret(caught.value, key)
        babysea_sandbox.set_balance("0")
        with pytest.raises(InsufficientCreditsError) as broke:
            client.generate(MODEL, generation_prompt="A seal")
        assert_no_secret(broke.value, key)
    wrong = "bye_WrongKeyDoNotLog_0123456789abcdef"
    with (
        BabySea(wrong, base_url=babysea_sandbox.url, max_retries=0) as stranger,
        pytest.raises(AuthenticationError) as refused,
    ):
        stranger.status()
    assert_no_secret(refused.value, wrong)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.mark.parametrize("retries", [0, 1])
def test_refused_connection_names_the_url_and_pickles_without_the_key(retries: int) -> None:
    key = "bye_RefusedKeyDoNotLog_0123456789abcd"
    url = f"http://127.0.0.1:{free_port()}"
    with (
        BabySea(key, base_url=url, max_retries=retries, sleep=lambda _: None) as client,
        pytest.raises(NetworkError) as caught,
    ):
        client.billing()
    plural = "attempt" if retries == 0 else "attempts"
    assert str(caught.value) == (
        f"Network error after {retries + 1} {plural}: "
        f"Could not connect to {url}/v1/user/billing: Connection refused"
    )
    assert_no_secret(caught.value, key)
    # The wrapped transport error keeps method and URL, nothing else.
    request = caught.value.cause.request  # type: ignore[attr-defined]
    assert (request.method, str(request.url)) == ("GET", f"{url}/v1/user/billing")
    assert "authorization" not in request.headers
