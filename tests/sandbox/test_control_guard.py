"""The control routes answer only requests addressed to the sandbox itself: a web page a
developer visits must not reconfigure their sandbox, by DNS rebinding (a foreign ``Host``) or a
cross-site request (a foreign ``Origin``). The API routes answer whatever the ``Host``."""

from __future__ import annotations

import httpx
import pytest

from django_babysea.sandbox import Sandbox

from .conftest import client


def control(sandbox: Sandbox, method: str, path: str, **headers: str) -> httpx.Response:
    return httpx.request(method, f"{sandbox.url}/_sandbox{path}", headers=headers, timeout=10)


def assert_refused(response: httpx.Response, words: str) -> None:
    assert response.status_code == 403, response.text
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert words in error


@pytest.mark.parametrize(
    "host",
    [
        "attacker.example:{port}",  # DNS rebinding: the attacker's name, resolved to 127.0.0.1
        "attacker.example",
        "127.0.0.1.attacker.example:{port}",
        "127.0.0.1:{other}",
        "localhost",
        "",
    ],
)
def test_a_foreign_host_is_refused(sandbox: Sandbox, host: str) -> None:
    host = host.format(port=sandbox.port, other=sandbox.port + 1)
    before = sandbox.balance()
    response = control(sandbox, "POST", "/balance", Host=host, **{"Content-Type": "text/plain"})
    assert_refused(response, "Host")
    assert sandbox.balance() == before
    assert_refused(control(sandbox, "GET", "/", Host=host), "Host")


@pytest.mark.parametrize(
    "origin", ["http://attacker.example", "null", "http://127.0.0.1:{other}", "https://{host}"]
)
def test_a_foreign_origin_is_refused(sandbox: Sandbox, origin: str) -> None:
    origin = origin.format(other=sandbox.port + 1, host=f"127.0.0.1:{sandbox.port}")
    response = httpx.post(
        f"{sandbox.url}/_sandbox/reset",
        content=b"{}",
        headers={"Origin": origin, "Content-Type": "text/plain"},
        timeout=10,
    )
    assert_refused(response, "Origin")
    assert_refused(control(sandbox, "POST", "/faults", Origin=origin), "Origin")
    assert sandbox.region.faults.list() == []


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost", "LocalHost", "[::1]"])
def test_the_sandbox_own_names_are_accepted(sandbox: Sandbox, name: str) -> None:
    host = f"{name}:{sandbox.port}"
    assert control(sandbox, "GET", "/", Host=host).json()["url"] == sandbox.url
    same_origin = control(sandbox, "GET", "/balance", Host=host, Origin=f"http://{host}")
    assert same_origin.status_code == 200, same_origin.text


def test_the_public_url_is_the_sandbox_own_origin_too() -> None:
    with Sandbox(speed=0, public_url="http://sandbox.internal:9999") as sandbox:
        headers = {"Host": "sandbox.internal:9999", "Origin": "http://sandbox.internal:9999"}
        response = httpx.get(f"http://127.0.0.1:{sandbox.port}/_sandbox/", headers=headers)
        assert response.status_code == 200, response.text


def test_the_api_answers_any_host(sandbox: Sandbox) -> None:
    with client(sandbox) as api:
        response = api.get("/v1/status", headers={"Host": "proxy.example:443"})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "success"
