"""Output-file faults: redirects, lying headers, HTML pages, truncation, stalls, endless bodies."""

from __future__ import annotations

import itertools
import socket
import time
from urllib.parse import urlsplit

import httpx
import pytest

from django_babysea.sandbox import Fault, Sandbox
from django_babysea.sandbox.faults.injection import FAULT_KINDS, OUTPUT_KINDS
from django_babysea.sandbox.faults.output_files import CHUNK, apply_output_fault
from django_babysea.sandbox.http.envelopes import Response

from .conftest import create, created_id


def output_urls(api: httpx.Client, sandbox: Sandbox, **fields: object) -> list[str]:
    generation_id = created_id(create(api, generation_output_format="png", **fields))
    sandbox.run_until_idle()
    data = api.get(f"/v1/content/{generation_id}").json()["data"]
    return [str(url) for url in data["generation_output_file"]]


@pytest.fixture
def url(api: httpx.Client, sandbox: Sandbox) -> str:
    return output_urls(api, sandbox)[0]


@pytest.fixture
def original(url: str) -> bytes:
    response = httpx.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.content.startswith(b"\x89PNG")
    return response.content


def raw(url: str, method: str = "GET", timeout: float = 5.0) -> tuple[str, dict[str, str], bytes]:
    """One request on a fresh socket, read until the server closes: status line, headers, body."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        request = f"{method} {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n\r\n"
        sock.sendall(request.encode())
        received = bytearray()
        while chunk := sock.recv(CHUNK):
            received += chunk
    head, _, body = bytes(received).partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, body


def read_into(response: httpx.Response, received: bytearray) -> None:
    for chunk in response.iter_raw():
        received += chunk


def test_output_kinds_are_fault_kinds() -> None:
    assert {
        "output_redirect",
        "output_content_type",
        "output_html",
        "output_truncated",
        "output_stall",
        "output_unbounded",
        "output_status",
    } == OUTPUT_KINDS
    assert OUTPUT_KINDS <= FAULT_KINDS


def test_redirect_to_another_host_name_of_the_same_server(
    sandbox: Sandbox, url: str, original: bytes
) -> None:
    sandbox.inject("output_redirect")
    response = httpx.get(url)
    assert response.status_code == 302
    local = url.replace("//127.0.0.1:", "//localhost:")
    assert local != url
    assert response.headers["location"] == local
    assert httpx.get(local).content == original  # the fault is used up
    sandbox.inject("output_redirect", times=2)
    followed = httpx.get(url, follow_redirects=True)
    assert [r.status_code for r in followed.history] == [302, 302]
    assert [str(r.url) for r in followed.history] == [url, local]
    assert str(followed.url) == url  # localhost was sent back to its IP
    assert followed.content == original


def test_redirect_to_a_given_location_and_on_head(sandbox: Sandbox, url: str) -> None:
    sandbox.inject("output_redirect", location="https://cdn.example/elsewhere.png", times=2)
    for response in (httpx.head(url), httpx.get(url)):
        assert response.status_code == 302
        assert response.headers["location"] == "https://cdn.example/elsewhere.png"
    assert httpx.head(url).status_code == 200


def test_lying_content_type(sandbox: Sandbox, url: str, original: bytes) -> None:
    sandbox.inject("output_content_type")
    response = httpx.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.content == original
    sandbox.inject("output_content_type", content_type="application/octet-stream")
    head = httpx.head(url)
    assert head.headers["content-type"] == "application/octet-stream"
    assert head.headers["content-length"] == str(len(original))
    assert head.content == b""
    assert httpx.get(url).headers["content-type"] == "image/png"


def test_html_instead_of_the_file(sandbox: Sandbox, url: str) -> None:
    sandbox.inject("output_html")
    response = httpx.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"  # the header lies
    assert response.content.startswith(b"<!doctype html>")
    assert response.content.rstrip().endswith(b"</html>")
    assert 200 <= len(response.content) <= 1000
    assert response.headers["content-length"] == str(len(response.content))
    sandbox.inject("output_html", content_type="text/html")
    assert httpx.get(url).headers["content-type"] == "text/html"
    assert httpx.get(url).content.startswith(b"\x89PNG")


def test_truncated_body(sandbox: Sandbox, url: str, original: bytes) -> None:
    sandbox.inject("output_truncated")
    with pytest.raises(httpx.RemoteProtocolError, match="complete message body"):
        httpx.get(url)
    sandbox.inject("output_truncated")
    status, headers, body = raw(url)
    assert status == "HTTP/1.1 200 OK"
    assert headers["content-length"] == str(len(original))
    assert "connection" not in headers  # the close is not announced
    assert body == original[: len(original) // 2]
    sandbox.inject("output_truncated", size=100)
    assert raw(url)[2] == original[:100]
    sandbox.inject("output_truncated", size=10**9)  # never the whole file
    assert raw(url)[2] == original[:-1]
    sandbox.inject("output_truncated", size=0)
    assert raw(url)[2] == b""
    assert httpx.get(url).content == original


def test_stall_outlasts_a_read_timeout(sandbox: Sandbox, url: str, original: bytes) -> None:
    sandbox.inject("output_stall", seconds=2)
    received = bytearray()
    start = time.monotonic()
    with httpx.stream("GET", url, timeout=httpx.Timeout(5, read=0.5)) as response:
        assert response.status_code == 200
        assert response.headers["content-length"] == str(len(original))
        with pytest.raises(httpx.ReadTimeout):
            read_into(response, received)
    assert 0.5 <= time.monotonic() - start < 1.5
    assert received == original[:1024]
    assert httpx.get(url).content == original


def test_stall_sends_size_bytes_then_closes(sandbox: Sandbox, url: str, original: bytes) -> None:
    sandbox.inject("output_stall", size=4000, seconds=0.3)
    start = time.monotonic()
    status, headers, body = raw(url)
    assert time.monotonic() - start >= 0.3
    assert status == "HTTP/1.1 200 OK"
    assert headers["content-length"] == str(len(original))
    assert body == original[:4000]


def test_unbounded_body(sandbox: Sandbox, url: str, original: bytes) -> None:
    size = 3 * 1024 * 1024 + 7
    sandbox.inject("output_unbounded", size=size)
    status, headers, body = raw(url)
    assert status == "HTTP/1.1 200 OK"
    assert "content-length" not in headers
    assert "transfer-encoding" not in headers
    assert headers["connection"] == "close"
    assert headers["content-type"] == "image/png"
    assert len(body) == size
    assert body.startswith(original)
    assert body[len(original) :] == bytes(size - len(original))
    sandbox.inject("output_unbounded", size=size)
    received = 0
    with httpx.stream("GET", url) as response:
        assert "content-length" not in response.headers
        for chunk in response.iter_raw():
            received += len(chunk)
    assert received == size
    sandbox.inject("output_unbounded", size=100)
    assert raw(url)[2] == original[:100]


def test_unbounded_stream_is_lazy() -> None:
    fault = Fault("output_unbounded", size=10**12)
    response = apply_output_fault(fault, Response(200, b"file bytes", content_type="image/png"))
    assert response.length is None
    assert response.stream is not None
    first = list(itertools.islice(response.stream, 3))
    assert first[0] == b"file bytes"
    assert first[1:] == [bytes(CHUNK), bytes(CHUNK)]


def test_error_status(sandbox: Sandbox, url: str, original: bytes) -> None:
    sandbox.inject("output_status")
    response = httpx.get(url)
    assert response.status_code == 404
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text == "Not Found"
    sandbox.inject("output_status", status=503, times=2)
    assert httpx.head(url).status_code == 503
    assert httpx.get(url).text == "Service Unavailable"
    assert httpx.get(url).content == original


def test_faults_are_consumed_after_times(sandbox: Sandbox, url: str, original: bytes) -> None:
    sandbox.inject("output_status", status=410, times=3)
    assert [httpx.get(url).status_code for _ in range(4)] == [410, 410, 410, 200]
    assert sandbox.region.faults.list() == []
    sandbox.inject("output_content_type", times=None)
    for _ in range(3):
        assert httpx.get(url).headers["content-type"] == "text/html; charset=utf-8"
    assert len(sandbox.region.faults.list()) == 1


def test_path_glob_and_method_restrict_the_fault(api: httpx.Client, sandbox: Sandbox) -> None:
    first, second = output_urls(api, sandbox), output_urls(api, sandbox)
    target = urlsplit(second[0]).path
    sandbox.inject("output_status", path=target)
    assert httpx.get(first[0]).status_code == 200
    assert httpx.get(second[0]).status_code == 404
    sandbox.inject("output_status", path="/files/*", method="GET")
    assert httpx.head(first[0]).status_code == 200
    assert httpx.get(first[0]).status_code == 404
    sandbox.inject("output_status", path="/v1/*")  # never a file path
    assert httpx.get(first[0]).status_code == 200
    assert api.get("/v1/status").status_code == 200


def test_head_and_missing_files_leave_body_faults_alone(sandbox: Sandbox, url: str) -> None:
    sandbox.inject("output_truncated")
    head = httpx.head(url)  # no body to cut: answered normally, the fault stays
    assert head.status_code == 200
    assert "connection" not in head.headers
    missing = url.replace("output-0", "output-1")
    assert httpx.get(missing).status_code == 404
    assert [f["kind"] for f in sandbox.region.faults.list()] == ["output_truncated"]
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(url)
    sandbox.inject("output_redirect", location="/elsewhere")
    assert httpx.get(missing).status_code == 302  # a redirect needs no file


def test_control_api_accepts_output_faults(sandbox: Sandbox, url: str) -> None:
    spec = {"kind": "output_redirect", "location": "http://cdn.example/x.png", "path": "/files/*"}
    added = httpx.post(f"{sandbox.url}/_sandbox/faults", json=spec)
    assert added.status_code == 201
    fault = added.json()["faults"][0]
    assert fault["location"] == "http://cdn.example/x.png"
    assert httpx.get(url).headers["location"] == "http://cdn.example/x.png"
    bad = httpx.post(f"{sandbox.url}/_sandbox/faults", json={"kind": "output_unbounded"})
    assert bad.status_code == 400
    assert "size" in bad.json()["error"]


def test_output_fault_parameters() -> None:
    assert Fault("output_stall").size == 1024
    assert Fault("output_stall").seconds == 40.0
    assert Fault("output_status").status == 404
    assert Fault("output_content_type").content_type == "text/html; charset=utf-8"
    assert Fault("output_html").content_type is None
    fault = Fault("output_html", content_type="text/html", path="/files/*", times=2)
    data = {k: v for k, v in fault.to_dict().items() if k not in ("id", "used")}
    assert data["content_type"] == "text/html"
    assert Fault.from_dict(data).to_dict() == fault.to_dict()
    for bad in [
        {"kind": "output_unbounded"},
        {"kind": "output_unbounded", "size": -1},
        {"kind": "output_truncated", "size": -5},
        {"kind": "output_stall", "seconds": -1},
        {"kind": "output_status", "status": 200},
        {"kind": "output_redirect", "location": "http://a.example/\r\nSet-Cookie: x=1"},
        {"kind": "output_redirect", "location": ""},
        {"kind": "output_content_type", "content_type": "text/html\n"},
        {"kind": "output_html", "content_type": "text/html; charset=☃"},
    ]:
        with pytest.raises((ValueError, TypeError)):
            Fault.from_dict(bad)


def test_body_faults_apply_to_huge_outputs(api: httpx.Client, sandbox: Sandbox) -> None:
    size = 8 * 1024 * 1024
    sandbox.inject("huge_output", size=size)
    generation_id = created_id(create(api, "google/veo-2", generation_duration=5))
    sandbox.run_until_idle()
    url = str(api.get(f"/v1/content/{generation_id}").json()["data"]["generation_output_file"][0])
    sandbox.inject("output_truncated")
    status, headers, body = raw(url)
    assert status == "HTTP/1.1 200 OK"
    assert headers["content-length"] == str(size)
    assert len(body) == size // 2
    assert body[4:8] == b"ftyp"
    sandbox.inject("output_content_type", content_type="application/octet-stream")
    with httpx.stream("GET", url) as response:
        assert response.headers["content-type"] == "application/octet-stream"
        assert sum(len(chunk) for chunk in response.iter_raw()) == size
