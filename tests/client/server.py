"""A scripted HTTP/1.1 server on 127.0.0.1 for the client tests.

Replies are queued per ``(method, path)`` and served in order; a reply may also be a callable that
gets the recorded request. Every request is recorded (method, path, query, headers, body, client
port), so tests can count attempts and check what went over the wire. A request with nothing
scripted gets a plain-text 418, which no test expects.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

EXAMPLES = Path(__file__).resolve().parents[1] / "contract_examples"


def example(name: str) -> dict[str, Any]:
    """A contract example body, decoded."""
    return json.loads((EXAMPLES / f"{name}.json").read_text())  # type: ignore[no-any-return]


@dataclass
class Reply:
    status: int = 200
    body: bytes | str | dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None
    delay: float = 0.0
    #: Close the connection without sending anything.
    drop: bool = False

    @classmethod
    def example(cls, name: str, status: int = 200, **kwargs: Any) -> Reply:
        """Serve a contract example file byte for byte."""
        return cls(status, (EXAMPLES / f"{name}.json").read_bytes(), **kwargs)

    def encode(self) -> tuple[bytes, str]:
        if isinstance(self.body, dict):
            return json.dumps(self.body).encode(), self.content_type or "application/json"
        if isinstance(self.body, str):
            return self.body.encode(), self.content_type or "text/plain; charset=utf-8"
        return self.body or b"", self.content_type or "application/json"


def generation_reply(status: str, **fields: Any) -> Reply:
    """The ``content_get`` example with another status (and any other field changed)."""
    body = example("content_get")
    body["data"] |= {"generation_status": status, **fields}
    return Reply(200, body)


def page_reply(ids: list[str], total: int, offset: int) -> Reply:
    """A ``/v1/content/list`` page holding generations with these ids."""
    template = example("content_get")["data"]
    return Reply(
        200,
        {
            "status": "success",
            "request_id": f"req_page_{offset}",
            "message": "Generations retrieved successfully",
            "timestamp": "2026-06-10T16:10:40.776Z",
            "data": {"generations": [template | {"generation_id": i} for i in ids]},
            "total": total,
            "limit": len(ids),
            "offset": offset,
        },
    )


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    port: int

    def json(self) -> Any:
        return json.loads(self.body)


Script = Reply | Callable[[Seen], Reply]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes
    server: _Server

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        seen = Seen(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=self.rfile.read(length) if length else b"",
            port=self.client_address[1],
        )
        reply = self.server.scripted.take(seen)
        if reply.delay:
            time.sleep(reply.delay)
        if reply.drop:
            self.close_connection = True
            return
        payload, content_type = reply.encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    do_POST = do_DELETE = do_PUT = do_PATCH = do_HEAD = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    scripted: ScriptedServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that timed out and left is expected here


class ScriptedServer:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._routes: dict[tuple[str, str], deque[Script]] = defaultdict(deque)
        self.requests: list[Seen] = []
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.scripted = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def script(self, method: str, path: str, *replies: Script) -> None:
        with self._lock:
            self._routes[(method, path)].extend(replies)

    def take(self, seen: Seen) -> Reply:
        with self._lock:
            self.requests.append(seen)
            queue = self._routes.get((seen.method, seen.path))
            script = queue.popleft() if queue else None
        if script is None:
            return Reply(418, f"nothing scripted for {seen.method} {seen.path}")
        return script(seen) if callable(script) else script

    def seen(self, method: str | None = None, path: str | None = None) -> list[Seen]:
        with self._lock:
            return [
                r
                for r in self.requests
                if (method is None or r.method == method) and (path is None or r.path == path)
            ]

    @property
    def ports(self) -> set[int]:
        """Client ports seen: one per TCP connection."""
        return {r.port for r in self.seen()}

    def start(self) -> ScriptedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
