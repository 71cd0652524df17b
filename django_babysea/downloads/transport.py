"""An httpx transport for large downloads, on the standard library's HTTP/1.1 client.

httpx's default transport parses every 64 KiB read with h11, which copies the bytes several
times on the way (into its receive buffer, out of it, into the chunk handed to httpx); for a
video of a gigabyte that is more work than the network and the disk together. Here the body is
read in blocks of ``block_size`` straight from the socket into the bytes object handed on: one
copy. Headers, status and the response object are ordinary httpx, so the code above cannot
tell the difference, and errors are httpx's own exceptions.

One request per connection (downloads are few and large), GET and HEAD only, no proxies. A
``sni_hostname`` request extension connects to the URL's address but verifies TLS for that
name (the pinning of :mod:`.policy`).
"""

from __future__ import annotations

import http.client
import ssl
import threading
from collections.abc import Iterator
from typing import Any, Final

import httpx

__all__ = ["BLOCK_SIZE", "DownloadTransport", "default_ssl_context"]

#: Bytes per read. Large enough that per-block Python work is negligible, small enough to stay
#: in the allocator's heap (larger blocks are fresh mappings, faulted in page by page).
BLOCK_SIZE: Final = 256 * 1024

_default_context: ssl.SSLContext | None = None
_default_context_lock = threading.Lock()


def default_ssl_context() -> ssl.SSLContext:
    """httpx's verifying context (certifi's CAs), built once per process on first use.

    Building one loads and parses the whole CA bundle (tens of milliseconds of CPU), so it is
    not done per transport; a context is safe to share between threads once configured.
    """
    global _default_context
    context = _default_context
    if context is None:
        with _default_context_lock:
            if _default_context is None:
                _default_context = httpx.create_ssl_context()
            context = _default_context
    return context


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """TCP to ``host`` (an address), TLS and certificate checks for ``server_hostname``."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        server_hostname: str,
        context: ssl.SSLContext,
        timeout: float | None,
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._pinned_context = context
        self._server_hostname = server_hostname

    def connect(self) -> None:
        http.client.HTTPConnection.connect(self)
        self.sock = self._pinned_context.wrap_socket(
            self.sock, server_hostname=self._server_hostname
        )


class _Body(httpx.SyncByteStream):
    def __init__(
        self, response: http.client.HTTPResponse, conn: http.client.HTTPConnection, block: int
    ) -> None:
        self._response = response
        self._conn = conn
        self._block = block

    def __iter__(self) -> Iterator[bytes]:
        read, block = self._response.read, self._block
        while True:
            try:
                chunk = read(block)
            except Exception as exc:
                raise _read_error(exc) from exc
            if not chunk:
                # http.client ends a short Content-Length body quietly; httpx would not.
                if missing := self._response.length:
                    raise httpx.RemoteProtocolError(
                        f"The peer closed the connection {missing} bytes before the body ended."
                    )
                return
            yield chunk

    def close(self) -> None:
        self._response.close()
        self._conn.close()


def _timeouts(request: httpx.Request) -> tuple[float | None, float | None]:
    timeout: dict[str, Any] = request.extensions.get("timeout", {})
    return timeout.get("connect"), timeout.get("read")


class DownloadTransport(httpx.BaseTransport):
    def __init__(self, *, verify: ssl.SSLContext | None = None, block_size: int = BLOCK_SIZE):
        # None: the process-wide default, looked up only when an https:// URL is fetched.
        self._context = verify
        self._block = block_size

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method not in ("GET", "HEAD"):
            raise httpx.UnsupportedProtocol(f"{request.method} is not a download.")
        url = request.url
        if url.scheme not in ("http", "https") or not url.host:
            raise httpx.UnsupportedProtocol(f"Cannot download {url.scheme}:// URLs.")
        connect_timeout, read_timeout = _timeouts(request)
        conn = self._connection(request, connect_timeout)
        try:
            conn.connect()
        except Exception as exc:
            conn.close()
            raise _connect_error(exc) from exc
        try:
            conn.sock.settimeout(read_timeout)
            self._send(conn, request)
            response = conn.getresponse()
        except Exception as exc:
            conn.close()
            raise _read_error(exc) from exc
        return httpx.Response(
            status_code=response.status,
            headers=response.getheaders(),
            stream=_Body(response, conn, self._block),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": response.reason.encode()},
        )

    def _connection(self, request: httpx.Request, timeout: float | None) -> Any:
        url = request.url
        host = url.host
        if url.scheme == "http":
            return http.client.HTTPConnection(host, url.port or 80, timeout=timeout)
        sni = request.extensions.get("sni_hostname") or host
        return _PinnedHTTPSConnection(
            host,
            url.port or 443,
            server_hostname=sni.decode() if isinstance(sni, bytes) else str(sni),
            context=self._context or default_ssl_context(),
            timeout=timeout,
        )

    @staticmethod
    def _send(conn: http.client.HTTPConnection, request: httpx.Request) -> None:
        target = request.url.raw_path.decode("ascii")
        conn.putrequest(request.method, target, skip_host=True, skip_accept_encoding=True)
        for name, value in request.headers.multi_items():
            conn.putheader(name, value)
        conn.endheaders()


def _connect_error(exc: Exception) -> Exception:
    if isinstance(exc, TimeoutError):
        return httpx.ConnectTimeout(str(exc) or "timed out")
    if isinstance(exc, OSError | ssl.CertificateError):
        return httpx.ConnectError(f"{exc.__class__.__name__}: {exc}")
    return exc


def _read_error(exc: Exception) -> Exception:
    if isinstance(exc, TimeoutError):
        return httpx.ReadTimeout(str(exc) or "timed out")
    if isinstance(exc, http.client.IncompleteRead):
        return httpx.RemoteProtocolError("The peer closed the connection before the body ended.")
    if isinstance(exc, http.client.HTTPException):
        return httpx.RemoteProtocolError(f"{exc.__class__.__name__}: {exc}")
    if isinstance(exc, OSError):
        return httpx.ReadError(f"{exc.__class__.__name__}: {exc}")
    return exc
