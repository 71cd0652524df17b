"""Output-file faults: the hostile or broken file server a download must survive.

Each GET/HEAD of an output file (``/files/...``) consumes one use of the first live fault of
:data:`~django_babysea.sandbox.faults.OUTPUT_KINDS` matching its method and path. A missing file
only takes ``output_redirect`` and ``output_status``; a HEAD never takes the body faults
(``output_truncated``, ``output_stall``, ``output_unbounded``), which leave its headers alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from django_babysea.sandbox.faults.injection import OUTPUT_KINDS, Fault, FaultSet
from django_babysea.sandbox.http.envelopes import Request, Response, text_response

__all__ = ["apply_output_fault", "early_output_response", "take_output_fault"]

CHUNK: Final = 64 * 1024
BODY_KINDS: Final = frozenset({"output_truncated", "output_stall", "output_unbounded"})
FILELESS_KINDS: Final = frozenset({"output_redirect", "output_status"})

HTML_PAGE: Final = (
    b'<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
    b"<title>Just a moment...</title>\n</head>\n<body>\n"
    b"<h1>Checking your browser before accessing the file</h1>\n"
    b"<p>This process is automatic. Your download will start shortly.</p>\n"
    b'<p>If it does not, <a href="/">return to the home page</a>.</p>\n'
    b"</body>\n</html>\n"
)
_STATUS_TEXT: Final = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    410: "Gone",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def take_output_fault(faults: FaultSet, request: Request, *, found: bool) -> Fault | None:
    kinds = OUTPUT_KINDS if found else FILELESS_KINDS
    if request.method == "HEAD":
        kinds -= BODY_KINDS
    return faults.take(kinds, method=request.method, path=request.path)


def early_output_response(fault: Fault, request: Request) -> Response | None:
    """The faults answered without the file: a redirect or an error status."""
    if fault.kind == "output_redirect":
        location = fault.location or _other_host(request)
        response = text_response(302, "Found")
        response.headers["Location"] = location
    elif fault.kind == "output_status":
        status = fault.status or 404
        response = text_response(status, _STATUS_TEXT.get(status, f"Error {status}"))
    else:
        return None
    response.head = request.method == "HEAD"
    return response


def apply_output_fault(fault: Fault, response: Response) -> Response:
    """Turn the file's normal 200 (``body`` or ``stream`` + ``length``) into the faulty one."""
    kind = fault.kind
    if kind == "output_content_type":
        response.content_type = fault.content_type or "text/html; charset=utf-8"
        return response
    if kind == "output_html":
        return Response(
            200,
            HTML_PAGE,
            content_type=fault.content_type or response.content_type,
            headers=dict(response.headers),
            head=response.head,
        )
    length = response.length if response.stream is not None else len(response.body)
    total = length or 0
    if kind == "output_unbounded":
        size = fault.size or 0
        return _with_stream(response, _padded(_chunks(response), size), None)
    if kind == "output_truncated":
        cut = total // 2 if fault.size is None else fault.size
        stream = _first(_chunks(response), min(cut, max(total - 1, 0)))
        return _with_stream(response, stream, total, abort=True)
    if kind == "output_stall":
        sent = min(fault.size or 0, max(total - 1, 0))
        stream = _first(_chunks(response), sent)
        return _with_stream(response, stream, total, abort=True, hang=fault.seconds or 0.0)
    return response


def _with_stream(
    response: Response,
    stream: Iterator[bytes],
    length: int | None,
    *,
    abort: bool = False,
    hang: float = 0.0,
) -> Response:
    return Response(
        response.status,
        content_type=response.content_type,
        headers=dict(response.headers),
        stream=stream,
        length=length,
        abort=abort,
        hang=hang,
        head=response.head,
    )


def _chunks(response: Response) -> Iterator[bytes]:
    if response.stream is not None:
        yield from response.stream
    else:
        yield response.body


def _first(chunks: Iterator[bytes], size: int) -> Iterator[bytes]:
    """At most ``size`` bytes of ``chunks``, in pieces of at most 64 KiB."""
    left = size
    for chunk in chunks:
        for start in range(0, len(chunk), CHUNK):
            if left <= 0:
                return
            piece = chunk[start : start + min(CHUNK, left)]
            left -= len(piece)
            yield piece
        if left <= 0:
            return


def _padded(chunks: Iterator[bytes], size: int) -> Iterator[bytes]:
    """Exactly ``size`` bytes: the file's bytes first, then zeros, made lazily."""
    left = size
    for piece in _first(chunks, size):
        left -= len(piece)
        yield piece
    zeros = bytes(CHUNK)
    while left > 0:
        yield zeros if left >= CHUNK else zeros[:left]
        left -= CHUNK


def _other_host(request: Request) -> str:
    """The same path on the same server under another name: localhost, or its IP if that was it."""
    local = request.local_address
    host_header = (request.header("Host") or "").strip().lower()
    named = host_header.rsplit(":", 1)[0] if not host_header.endswith("]") else host_header
    port = local[1] if local is not None else _port_of(host_header)
    if named != "localhost":
        host = "localhost"
    elif local is not None:
        ip = local[0].removeprefix("::ffff:")
        host = f"[{ip}]" if ":" in ip else ip
    else:
        host = "127.0.0.1"
    target = request.target if request.target.startswith("/") else request.path
    return f"http://{host}:{port}{target}" if port else f"http://{host}{target}"


def _port_of(host_header: str) -> int | None:
    tail = host_header.rsplit(":", 1)[-1] if ":" in host_header.rsplit("]", 1)[-1] else ""
    return int(tail) if tail.isdigit() else None
