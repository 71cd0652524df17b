"""What a file is, read from its first bytes rather than from its URL or headers; its pixel
size, read from its header; and a storage wrapper that measures a file as it is saved."""

from __future__ import annotations

import logging
import struct
from collections.abc import Iterator
from typing import IO, Any, Final, NamedTuple

from django.core.files.storage import Storage

__all__ = [
    "MAX_HEADER_BYTES",
    "SNIFF_BYTES",
    "Format",
    "MeasuringStorage",
    "dimensions",
    "duration",
    "sniff",
]

logger = logging.getLogger("django_babysea.outputs")

#: Bytes needed to recognise every format below.
SNIFF_BYTES: Final = 16


class Format(NamedTuple):
    content_type: str
    ext: str

    @property
    def kind(self) -> str:
        """``image`` or ``video``."""
        return self.content_type.partition("/")[0]


_PREFIXES: Final = (
    (b"\x89PNG\r\n\x1a\n", Format("image/png", "png")),
    (b"\xff\xd8\xff", Format("image/jpeg", "jpg")),
    (b"GIF87a", Format("image/gif", "gif")),
    (b"GIF89a", Format("image/gif", "gif")),
    (b"\x1a\x45\xdf\xa3", Format("video/webm", "webm")),
)

#: ISO base media ``ftyp`` brands that are not plain MP4 video.
_BRANDS: Final = {
    b"avif": Format("image/avif", "avif"),
    b"avis": Format("image/avif", "avif"),
    b"heic": Format("image/heic", "heic"),
    b"heix": Format("image/heic", "heic"),
    b"mif1": Format("image/heif", "heif"),
    b"qt  ": Format("video/quicktime", "mov"),
}
_MP4: Final = Format("video/mp4", "mp4")


def sniff(head: bytes) -> Format | None:
    """The format of a file starting with ``head`` (at least :data:`SNIFF_BYTES` bytes when
    the file is that long), or None when it is not an image or video format we know."""
    for prefix, found in _PREFIXES:
        if head.startswith(prefix):
            return found
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return Format("image/webp", "webp")
    if head[4:8] == b"ftyp" and len(head) >= 12:
        return _BRANDS.get(head[8:12], _MP4)
    return None


# -- pixel size ---------------------------------------------------------------------------------

#: Bytes read at most to find a size (JPEG frames can follow large EXIF or ICC segments; MP4
#: ``moov`` boxes are walked by seeking, and only their track headers are read).
MAX_HEADER_BYTES: Final = 1024 * 1024
_MAX_BOXES: Final = 4096


class _Reader:
    """Bounded reads from a seekable binary file; ``None`` instead of short reads."""

    def __init__(self, file: IO[bytes]) -> None:
        self.file = file
        self.budget = MAX_HEADER_BYTES

    def at(self, offset: int, count: int) -> bytes | None:
        if count < 0 or count > self.budget:
            return None
        self.budget -= count
        self.file.seek(offset)
        data = self.file.read(count)
        return data if len(data) == count else None


def dimensions(file: IO[bytes]) -> tuple[int, int] | None:
    """``(width, height)`` in pixels of the image or video in ``file`` (seekable, binary), read
    from its header; None when the format is not one we read or the header makes no sense.

    Images: PNG, JPEG, GIF, WebP. Video: MP4 and MOV (the first track with a picture size in
    its ``tkhd`` box). Never reads more than :data:`MAX_HEADER_BYTES` and never raises for bad
    bytes; the file position is left wherever reading ended.
    """
    reader = _Reader(file)
    try:
        head = reader.at(0, 32) or b""
        found = sniff(head)
        if found is None:
            return None
        reading = _READERS.get(found.ext)
        size = reading(reader, head) if reading is not None else None
    except (OSError, ValueError, struct.error):
        return None
    if size is None or not (0 < size[0] <= _MAX_SIDE and 0 < size[1] <= _MAX_SIDE):
        return None
    return size


_MAX_SIDE: Final = 1 << 20


def _png(reader: _Reader, head: bytes) -> tuple[int, int] | None:
    if head[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def _gif(reader: _Reader, head: bytes) -> tuple[int, int] | None:
    width, height = struct.unpack("<HH", head[6:10])
    return width, height


def _webp(reader: _Reader, head: bytes) -> tuple[int, int] | None:
    chunk = head[12:16]
    if chunk == b"VP8 " and head[23:26] == b"\x9d\x01\x2a":
        body = reader.at(26, 4)
        if body is None:
            return None
        width, height = struct.unpack("<HH", body)
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and head[20:21] == b"\x2f":
        bits = int.from_bytes(head[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        return int.from_bytes(head[24:27], "little") + 1, int.from_bytes(head[27:30], "little") + 1
    return None


#: Start-of-frame markers: every SOFn except DHT (C4), JPG (C8) and DAC (CC).
_SOF: Final = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _jpeg(reader: _Reader, head: bytes) -> tuple[int, int] | None:
    offset = 2
    for _ in range(_MAX_BOXES):
        marker = reader.at(offset, 4)
        if marker is None or marker[0] != 0xFF:
            return None
        kind = marker[1]
        if kind == 0xFF:  # fill byte before a marker
            offset += 1
            continue
        if kind in (0x01, *range(0xD0, 0xD8)):  # markers without a length
            offset += 2
            continue
        length = struct.unpack(">H", marker[2:4])[0]
        if kind in _SOF:
            frame = reader.at(offset + 5, 4)
            if frame is None:
                return None
            height, width = struct.unpack(">HH", frame)
            return width, height
        if kind in (0xD9, 0xDA) or length < 2:  # end of image, or scan data before any frame
            return None
        offset += 2 + length
    return None


_CONTAINERS: Final = (b"moov", b"trak")


def _boxes(reader: _Reader) -> Iterator[tuple[bytes, int, int]]:
    """``(kind, body start, end)`` of every box of an MP4/MOV file, depth first into ``moov``
    and ``trak``; stops at the first box whose size makes no sense."""
    end = reader.file.seek(0, 2)
    stack = [(0, end)]
    boxes = 0
    while stack:
        offset, limit = stack.pop()
        while offset + 8 <= limit and boxes < _MAX_BOXES:
            boxes += 1
            header = reader.at(offset, 8)
            if header is None:
                return
            size, kind = struct.unpack(">I", header[:4])[0], header[4:8]
            start = offset + 8
            if size == 1:
                large = reader.at(offset + 8, 8)
                if large is None:
                    return
                size, start = struct.unpack(">Q", large)[0], offset + 16
            elif size == 0:
                size = limit - offset
            if size < start - offset or offset + size > limit:
                return
            yield kind, start, offset + size
            if kind in _CONTAINERS:
                # Siblings after this box are visited once its children are done.
                stack.append((offset + size, limit))
                offset, limit = start, offset + size
                continue
            offset += size


def _mp4(reader: _Reader, head: bytes) -> tuple[int, int] | None:
    """Walk the boxes to ``moov/trak/tkhd``; the picture size is the last 8 bytes of ``tkhd``
    (16.16 fixed point). Audio tracks have 0 x 0 and are skipped."""
    for kind, start, end in _boxes(reader):
        if kind == b"tkhd":
            found = _tkhd(reader, start, end)
            if found is not None:
                return found
    return None


def duration(file: IO[bytes]) -> float | None:
    """Seconds of the MP4 or MOV video in ``file``, from its ``moov/mvhd`` box (duration over
    time scale); None for other formats, an unknown duration or a header that makes no sense.
    Bounded and never raising, like :func:`dimensions`."""
    reader = _Reader(file)
    try:
        found = sniff(reader.at(0, 32) or b"")
        if found is None or found.ext not in ("mp4", "mov"):
            return None
        for kind, start, end in _boxes(reader):
            if kind == b"mvhd":
                return _mvhd(reader, start, end)
    except (OSError, ValueError, struct.error):
        return None
    return None


def _mvhd(reader: _Reader, start: int, end: int) -> float | None:
    # Version 0: 32-bit times and duration; version 1: 64-bit. All ones means "unknown".
    version = reader.at(start, 1)
    if version is None:
        return None
    layout, unknown = (">IQ", 2**64 - 1) if version == b"\x01" else (">II", 2**32 - 1)
    offset = start + (20 if version == b"\x01" else 12)
    body = reader.at(offset, struct.calcsize(layout))
    if body is None or offset + len(body) > end:
        return None
    timescale, length = struct.unpack(layout, body)
    if not timescale or length == unknown:
        return None
    seconds = length / timescale
    return seconds if 0 < seconds < _MAX_SECONDS else None


#: Longer than any video anyone generates: a bigger value is a corrupt header.
_MAX_SECONDS: Final = 7 * 24 * 3600.0


def _tkhd(reader: _Reader, start: int, end: int) -> tuple[int, int] | None:
    if end - start < 8:
        return None
    tail = reader.at(end - 8, 8)
    if tail is None:
        return None
    width, height = struct.unpack(">II", tail)
    width, height = width >> 16, height >> 16
    return (width, height) if width and height else None


_READERS: Final = {
    "png": _png,
    "gif": _gif,
    "webp": _webp,
    "jpg": _jpeg,
    "mp4": _mp4,
    "mov": _mp4,
}


class MeasuringStorage(Storage):
    """The target storage, seen through a wrapper that reads the file's pixel size (and a
    video's duration) from the local temporary file as it is saved: a few kilobytes from local
    disk, where opening the copy afterwards would fetch it again from a remote storage (all of
    it, on S3)."""

    def __init__(self, inner: Storage) -> None:
        self.inner = inner
        self.measured: tuple[int, int] | None = None
        self.duration: float | None = None

    def save(self, name: str | None, content: IO[Any], max_length: int | None = None) -> str:
        try:
            self.measured = dimensions(content)
            self.duration = duration(content)
        except Exception:  # a size is a nicety: never let it fail a copy
            logger.warning("Could not read the pixel size of %s.", name, exc_info=True)
        content.seek(0)
        return self.inner.save(name, content, max_length=max_length)

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        return self.inner.get_available_name(name, max_length=max_length)

    def exists(self, name: str) -> bool:
        return self.inner.exists(name)

    def delete(self, name: str) -> None:
        self.inner.delete(name)
