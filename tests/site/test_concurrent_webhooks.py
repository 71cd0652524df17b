"""The example site on its default SQLite database survives concurrent copies of one delivery.

BabySea may deliver the same webhook several times at once (retries that overlap a slow answer).
Through a real ``runserver`` (threaded) on a SQLite file, every copy must be answered 2xx and
counted on one row: a 5xx would make BabySea retry, and 15 in a row switch the endpoint off.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from django_babysea.client.webhooks import SIGNATURE_HEADER, sign
from django_babysea.sandbox.defaults import DEMO_WEBHOOK_SECRET
from tests.core.helpers import WEBHOOK_PATH, encode, webhook_payload

ROOT = Path(__file__).resolve().parents[2]
MANAGE = ROOT / "example_project" / "manage.py"
COPIES = 8


class Site:
    """The example site serving a SQLite file of its own with ``runserver``."""

    def __init__(self, tmp: Path) -> None:
        self.database = tmp / "db.sqlite3"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "example_site.settings",
            "DJANGO_DATABASE_PATH": str(self.database),
            "DJANGO_MEDIA_ROOT": str(tmp / "media"),
            "PYTHONPATH": str(ROOT),
        }
        # Development defaults: the sandbox's demo key and webhook secret, SQLite.
        for name in ("DATABASE_URL", "DJANGO_DEBUG", "BABYSEA_API_KEY", "BABYSEA_WEBHOOK_SECRET"):
            self.env.pop(name, None)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, str(MANAGE), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.database) as connection:
            return connection.execute(sql, params).fetchall()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, server: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.poll() is None, "runserver exited"
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"the site did not start at {url}")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    site = Site(tmp_path_factory.mktemp("site"))
    site.manage("migrate", "--verbosity", "0")
    server = subprocess.Popen(
        [sys.executable, str(MANAGE), "runserver", f"127.0.0.1:{site.port}", "--noreload"],
        env=site.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_up(site.url, server)
        yield site
    finally:
        server.terminate()
        server.wait(timeout=10)


def deliver_concurrently(site: Site, payload: dict[str, Any]) -> list[int]:
    """POST ``COPIES`` identical signed copies of ``payload`` at once; their status codes."""
    body = encode(payload)
    headers = {
        SIGNATURE_HEADER: sign(DEMO_WEBHOOK_SECRET, body),
        "Content-Type": "application/json",
    }
    start = threading.Barrier(COPIES)
    codes: list[int] = []

    def post() -> None:
        with httpx.Client(base_url=site.url, timeout=60) as client:
            start.wait()
            codes.append(client.post(WEBHOOK_PATH, content=body, headers=headers).status_code)

    threads = [threading.Thread(target=post) for _ in range(COPIES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    return codes


def delivery_rows(site: Site, delivery_id: str) -> list[tuple[Any, ...]]:
    return site.rows(
        "SELECT attempts, state FROM django_babysea_webhookdelivery WHERE delivery_id = ?",
        uuid.UUID(delivery_id).hex,
    )


def test_duplicate_test_event(site: Site) -> None:
    payload = webhook_payload("webhook.test")
    codes = deliver_concurrently(site, payload)
    assert sorted(codes) == [200] * COPIES
    assert delivery_rows(site, payload["webhook_delivery_id"]) == [(COPIES, "processed")]


def test_duplicate_generation_event(site: Site) -> None:
    remote_id = uuid.uuid4()
    site.manage(
        "shell",
        "-c",
        "from django_babysea.models import Generation; "
        f"Generation.objects.create(generation_id='{remote_id}', kind='image', "
        "model_identifier='bfl/flux-schnell', status='processing')",
    )
    payload = webhook_payload("generation.failed", remote_id)
    codes = deliver_concurrently(site, payload)
    assert sorted(codes) == [200] * COPIES
    assert delivery_rows(site, payload["webhook_delivery_id"]) == [(COPIES, "processed")]
    assert site.rows(
        "SELECT status FROM django_babysea_generation WHERE generation_id = ?", remote_id.hex
    ) == [("failed",)]
