"""Downloads share one TLS context per process, and build none for http:// outputs.

Building a verifying context loads the whole CA bundle (tens of milliseconds of CPU): once per
copied file was most of the CPU an image copy cost.
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from django_babysea.downloads import transport
from django_babysea.downloads.transport import DownloadTransport, default_ssl_context
from django_babysea.models import OutputState
from django_babysea.sandbox import Sandbox
from django_babysea.services.connection import get_client

from .conftest import succeed


class Counter:
    def __init__(self) -> None:
        self.built = 0
        self.lock = threading.Lock()


@pytest.fixture
def contexts(monkeypatch: pytest.MonkeyPatch) -> Counter:
    """Count the TLS contexts httpx builds from now on, starting without a cached default."""
    counter = Counter()
    real = httpx.create_ssl_context

    def counting(*args: Any, **kwargs: Any) -> Any:
        with counter.lock:
            counter.built += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(httpx, "create_ssl_context", counting)
    monkeypatch.setattr(transport, "_default_context", None)
    return counter


@pytest.fixture
def hangs_up() -> Iterator[int]:
    """A TCP port whose server closes every connection at once (a failed TLS handshake)."""
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                return
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    server.close()
    thread.join(5)


@pytest.mark.django_db(transaction=True)
def test_copying_two_outputs_over_http_builds_no_context(
    sandbox: Sandbox, contexts: Counter
) -> None:
    get_client()  # the API client's own context is not the downloads' business
    before = contexts.built
    first, second = succeed(sandbox), succeed(sandbox)  # each copies in a session of its own
    states = [output.state for generation in (first, second) for output in generation.outputs.all()]
    assert states == [OutputState.STORED, OutputState.STORED]
    assert contexts.built - before == 0


def test_https_downloads_of_separate_transports_share_one_context(
    contexts: Counter, hangs_up: int
) -> None:
    for _ in range(3):
        with (
            httpx.Client(transport=DownloadTransport(), timeout=5) as http,
            pytest.raises(httpx.ConnectError),
        ):
            http.get(f"https://127.0.0.1:{hangs_up}/output-0.png")
    assert contexts.built == 1


def test_an_explicit_context_builds_none(contexts: Counter, hangs_up: int) -> None:
    explicit = DownloadTransport(verify=ssl.create_default_context())
    with httpx.Client(transport=explicit) as http, pytest.raises(httpx.ConnectError):
        http.get(f"https://127.0.0.1:{hangs_up}/", timeout=5)
    assert contexts.built == 0


def test_the_default_is_built_once_under_concurrency(contexts: Counter) -> None:
    start = threading.Barrier(8)
    seen: list[object] = []

    def take() -> None:
        start.wait()
        seen.append(default_ssl_context())

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(seen) == 8
    assert len({id(context) for context in seen}) == 1
    assert contexts.built == 1
