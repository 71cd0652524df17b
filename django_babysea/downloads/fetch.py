"""Streaming one output file from its source into an open local file.

The body goes from the socket to ``dest`` in blocks (read by :mod:`.transport`, hashed by a
:class:`~.sink.Sink` on a second thread), so memory stays flat whatever the file's size.
Everything the source says is checked while it streams: status, media type, declared and actual
length, and the first bytes, which decide the file's real format.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import BinaryIO, Final
from urllib.parse import urljoin

import httpx

from .errors import DownloadError, Reason
from .policy import SourcePolicy, Target, origin_of
from .sink import Sink
from .sniff import SNIFF_BYTES, Format, sniff
from .transport import DownloadTransport

__all__ = ["Download", "Limits", "fetch", "open_client"]

ALLOWED_KINDS: Final = ("image", "video")
USER_AGENT: Final = "django-babysea (output copy)"


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    #: Seconds to connect, and between two reads: a source that stalls longer is dropped.
    timeout: float
    #: Seconds the whole transfer may take: a source that trickles is dropped too.
    deadline: float
    max_redirects: int = 3


@dataclass(frozen=True)
class Download:
    url: str
    size: int
    sha256: str
    format: Format
    declared_type: str


def open_client(limits: Limits) -> httpx.Client:
    # No proxies, .netrc or cookies from the environment, and redirects checked one by one.
    return httpx.Client(
        transport=DownloadTransport(),
        follow_redirects=False,
        trust_env=False,
        timeout=httpx.Timeout(limits.timeout),
        headers={
            "User-Agent": USER_AGENT,
            "Accept": "image/*, video/*",
            "Accept-Encoding": "identity",
        },
    )


def fetch(
    url: str, dest: BinaryIO, *, policy: SourcePolicy, limits: Limits, client: httpx.Client
) -> Download:
    """Download ``url`` into ``dest`` (an empty binary file) or raise :class:`DownloadError`.

    On error ``dest`` may hold part of the body; the caller discards it.
    """
    deadline = time.monotonic() + limits.deadline
    for _ in range(limits.max_redirects + 1):
        target = policy.check(url)
        try:
            result = _get(target, dest, limits=limits, client=client, deadline=deadline)
        except httpx.TimeoutException as exc:
            reason = Reason.CONNECT_FAILED if isinstance(exc, httpx.ConnectTimeout) else None
            raise DownloadError(
                reason or Reason.TIMEOUT,
                f"The source stopped answering for more than {limits.timeout:g}s.",
            ) from None
        except httpx.ConnectError:
            raise DownloadError(Reason.CONNECT_FAILED, "Could not connect to the source.") from None
        except httpx.TransportError as exc:
            raise DownloadError(
                Reason.INTERRUPTED, f"The transfer broke off ({exc.__class__.__name__})."
            ) from None
        if isinstance(result, Download):
            return result
        url = _next_hop(url, result)
    raise DownloadError(Reason.REDIRECT_REFUSED, f"More than {limits.max_redirects} redirects.")


def _next_hop(url: str, location: str) -> str:
    following = urljoin(url, location)
    if origin_of(following) != origin_of(url):
        raise DownloadError(
            Reason.REDIRECT_REFUSED,
            f"Refused a redirect to another host or scheme ({origin_of(following) or 'invalid'}).",
        )
    return following


def _get(
    target: Target, dest: BinaryIO, *, limits: Limits, client: httpx.Client, deadline: float
) -> Download | str:
    """The download, or the ``Location`` of a redirect."""
    headers = {"Host": target.host_header} if target.host_header else {}
    extensions = {"sni_hostname": target.sni_hostname} if target.sni_hostname else {}
    with client.stream(
        "GET", target.request_url, headers=headers, extensions=extensions
    ) as response:
        if response.is_redirect and "location" in response.headers:
            return str(response.headers["location"])
        declared = _check_headers(response, limits)
        return _stream(response, dest, target.url, declared, limits=limits, deadline=deadline)


def _check_headers(response: httpx.Response, limits: Limits) -> str:
    status = response.status_code
    if status in (404, 410):
        raise DownloadError(Reason.GONE, f"The source answered HTTP {status}: the file is gone.")
    if status != 200:
        raise DownloadError(Reason.HTTP_STATUS, f"The source answered HTTP {status}.")
    declared = str(response.headers.get("content-type", "")).partition(";")[0].strip().lower()
    if declared.partition("/")[0] not in ALLOWED_KINDS:
        raise DownloadError(
            Reason.BAD_CONTENT_TYPE,
            f"The source sent {declared or 'no content type'}, not an image or a video.",
        )
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        raise DownloadError(
            Reason.BAD_CONTENT_TYPE,
            f"The source sent a {encoding}-encoded body; files are stored as delivered.",
        )
    length = response.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limits.max_bytes:
        raise DownloadError(
            Reason.TOO_LARGE,
            f"The file is {int(length)} bytes, over BABYSEA['MAX_OUTPUT_BYTES'] "
            f"({limits.max_bytes}).",
        )
    return declared


def _stream(
    response: httpx.Response,
    dest: BinaryIO,
    url: str,
    declared: str,
    *,
    limits: Limits,
    deadline: float,
) -> Download:
    sink = Sink(dest)
    try:
        size, found = _receive(response, sink, declared, limits=limits, deadline=deadline)
        digest = sink.hexdigest()
    except OSError as exc:
        sink.abandon()
        raise DownloadError(
            Reason.STORAGE_ERROR, f"Writing the temporary file failed ({exc.__class__.__name__})."
        ) from exc
    except BaseException:
        sink.abandon()
        raise
    length = response.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) != size:
        raise DownloadError(
            Reason.INTERRUPTED, f"Received {size} of the {int(length)} bytes announced."
        )
    return Download(url=url, size=size, sha256=digest, format=found, declared_type=declared)


def _receive(
    response: httpx.Response, sink: Sink, declared: str, *, limits: Limits, deadline: float
) -> tuple[int, Format]:
    """Read the body into ``sink``, checking size, time and format on the way."""
    size = 0
    head = b""
    found: Format | None = None
    write, max_bytes = sink.write, limits.max_bytes
    for chunk in response.iter_raw():
        size += len(chunk)
        if size > max_bytes:
            raise DownloadError(
                Reason.TOO_LARGE,
                f"The file exceeded BABYSEA['MAX_OUTPUT_BYTES'] ({max_bytes} bytes) "
                "while streaming.",
            )
        if time.monotonic() > deadline:
            raise DownloadError(
                Reason.TIMEOUT, f"The transfer took longer than {limits.deadline:g}s."
            )
        if found is None:
            head += chunk[:SNIFF_BYTES]
            if len(head) >= SNIFF_BYTES:
                found = _recognise(head, declared)
        write(chunk)
    return size, found or _recognise(head, declared)


def _recognise(head: bytes, declared: str) -> Format:
    found = sniff(head)
    if found is None:
        raise DownloadError(
            Reason.UNRECOGNISED_FORMAT,
            f"The bytes are not an image or video format we know (declared {declared}).",
        )
    if found.kind != declared.partition("/")[0]:
        raise DownloadError(
            Reason.CONTENT_MISMATCH,
            f"The source declared {declared} but sent {found.content_type} bytes.",
        )
    return found
