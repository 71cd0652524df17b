"""The HTTP layer: a threading HTTP/1.1 server with keep-alive, streaming and transport faults."""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final
from urllib.parse import parse_qs, unquote, urlsplit

from django_babysea.sandbox.control import Driver
from django_babysea.sandbox.http.control_routes import handle_control
from django_babysea.sandbox.http.envelopes import Request, Response, text_response
from django_babysea.sandbox.media.files import handle_file
from django_babysea.sandbox.operations.pipeline import handle_api
from django_babysea.sandbox.state.region import Region

__all__ = ["SandboxHTTPServer", "serve"]

logger = logging.getLogger("django_babysea.sandbox")

CHUNK: Final = 64 * 1024
#: Bodies above the limit are read and discarded up to this size, so the client sees the 413.
DRAIN_LIMIT: Final = 16 * 1024 * 1024


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, host: str, port: int, region: Region) -> None:
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.region = region
        self.driver = Driver(region)
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__((host, port), Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._connections_lock:
            open_now = list(self._connections)
        for conn in open_now:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def route(self, request: Request) -> Response:
        if request.path == "/_sandbox" or request.path.startswith("/_sandbox/"):
            return handle_control(self.driver, request)
        if request.path.startswith("/files/"):
            return handle_file(self.region, request)
        return handle_api(self.region, request)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "BabySeaSandbox/1.0"
    sys_version = ""
    timeout = 300
    # Buffered writes plus TCP_NODELAY: headers and body leave in one segment, so keep-alive
    # clients never wait on Nagle's algorithm and delayed ACKs.
    wbufsize = 64 * 1024
    server: SandboxHTTPServer

    def setup(self) -> None:
        super().setup()
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle(self) -> None:
        # A client that hangs up mid-answer (timeouts, dropped-connection tests) is normal here.
        with contextlib.suppress(ConnectionError, TimeoutError):
            super().handle()

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()

    def __getattr__(self, name: str) -> Callable[[], None]:
        # Every method reaches the router, which answers the edge's 403 for unknown ones.
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s - %s", self.address_string(), format % args)

    def _handle(self) -> None:
        try:
            request = self._request()
            response = self.server.route(request)
        except Exception:
            logger.exception("sandbox failed on %s %s", self.command, self.path)
            response = text_response(500, "Internal Server Error")
            self.close_connection = True
        self._write(response)

    # -- reading ---------------------------------------------------------------------------
    def _request(self) -> Request:
        parts = urlsplit(self.path)
        body, too_large = self._body(self.server.region.config.max_body_bytes)
        return Request(
            method=self.command,
            path=unquote(parts.path),
            target=self.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers=self.headers,
            body=body,
            body_too_large=too_large,
            client_ip=self.client_address[0],
            local_address=self._local_address(),
        )

    def _local_address(self) -> tuple[str, int] | None:
        try:
            address = self.connection.getsockname()
        except OSError:
            return None
        return str(address[0]), int(address[1])

    def _body(self, limit: int) -> tuple[bytes | None, bool]:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._chunked(limit)
        raw_length = self.headers.get("Content-Length")
        if not raw_length:
            return None, False
        try:
            length = int(raw_length)
        except ValueError:
            self.close_connection = True
            return None, False
        if length <= limit:
            return self.rfile.read(length), False
        self._discard(length)
        return None, True

    def _discard(self, length: int) -> None:
        if length > DRAIN_LIMIT:
            self.close_connection = True
            return
        while length > 0:
            got = self.rfile.read(min(CHUNK, length))
            if not got:
                break
            length -= len(got)

    def _chunked(self, limit: int) -> tuple[bytes | None, bool]:
        data = bytearray()
        total = 0
        while True:
            size_line = self.rfile.readline(1024).split(b";", 1)[0].strip()
            size = int(size_line or b"0", 16)
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass
                break
            total += size
            if total > DRAIN_LIMIT:
                self.close_connection = True
                return None, True
            chunk = self.rfile.read(size)
            self.rfile.readline(16)
            if total <= limit:
                data += chunk
        return (None, True) if total > limit else (bytes(data), False)

    # -- writing ---------------------------------------------------------------------------
    def _write(self, response: Response) -> None:
        if response.delay:
            time.sleep(response.delay)
        if response.drop:
            self._drop()
            return
        length = response.length if response.stream is not None else len(response.body)
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            if length is not None:
                self.send_header("Content-Length", str(length))
            for name, value in response.headers.items():
                self.send_header(name, value)
            if response.close or length is None or self.close_connection:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if response.head or self.command == "HEAD":
                return
            self._send_body(response)
            if response.abort or response.hang:
                self.close_connection = True
                self.wfile.flush()
                self._hang(response.hang)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True

    def _send_body(self, response: Response) -> None:
        if response.stream is not None:
            for chunk in response.stream:
                self.wfile.write(chunk)
            return
        if response.trickle and response.body:
            pieces = 10
            step = max(1, -(-len(response.body) // pieces))
            for start in range(0, len(response.body), step):
                self.wfile.write(response.body[start : start + step])
                self.wfile.flush()
                time.sleep(response.trickle / pieces)
            return
        self.wfile.write(response.body)

    def _hang(self, seconds: float) -> None:
        """Hold the connection for ``seconds``, sooner ended by the client or the server closing."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                ready, _, _ = select.select([self.connection], [], [], left)
                if ready and not self.connection.recv(CHUNK):
                    return
            except (OSError, ValueError):
                return

    def _drop(self) -> None:
        """Close the connection without a response (dropped connection / crash faults)."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def serve(host: str, port: int, region: Region) -> tuple[SandboxHTTPServer, threading.Thread]:
    """Bind and serve in a daemon thread."""
    server = SandboxHTTPServer(host, port, region)
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.02},
        name=f"babysea-sandbox-{region.name}",
        daemon=True,
    )
    thread.start()
    return server, thread
