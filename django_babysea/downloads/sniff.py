"""What a file is, read from its first bytes rather than from its URL or headers."""

from __future__ import annotations

from typing import Final, NamedTuple

__all__ = ["SNIFF_BYTES", "Format", "sniff"]

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
