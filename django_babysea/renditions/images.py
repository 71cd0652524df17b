"""Resized encodes of a still image with Pillow.

The original is decoded once (JPEGs at a reduced scale when that is enough, via ``draft``) and
each width is encoded in each format. Pillow is optional: :func:`pillow_available` says whether
it is installed, and nothing here imports it at module level.
"""

from __future__ import annotations

import importlib.util
import io
import logging
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import IO, Any, Final

__all__ = [
    "CONTENT_TYPES",
    "EXTENSIONS",
    "FORMATS",
    "Encoded",
    "ImageSpec",
    "RenditionError",
    "pillow_available",
    "render_image",
    "writable_formats",
]

logger = logging.getLogger("django_babysea.renditions")

#: Formats a rendition may be written in, as the settings name them.
FORMATS: Final = ("avif", "webp", "jpeg", "png")
CONTENT_TYPES: Final = {
    "avif": "image/avif",
    "webp": "image/webp",
    "jpeg": "image/jpeg",
    "png": "image/png",
}
EXTENSIONS: Final = {"avif": "avif", "webp": "webp", "jpeg": "jpg", "png": "png"}
_PIL_NAMES: Final = {"avif": "AVIF", "webp": "WEBP", "jpeg": "JPEG", "png": "PNG"}
#: Decoders the original may be opened with: the formats BabySea delivers, nothing exotic.
_READABLE: Final = ("PNG", "JPEG", "WEBP", "GIF", "AVIF")


class RenditionError(Exception):
    """An image (or video) renditions cannot be made of, with a reason fit for the row."""


@dataclass(frozen=True)
class ImageSpec:
    """What to make: widths in pixels (those not smaller than the original are skipped, never
    upscaled), formats in preference order, the encoders' quality and the largest picture
    (in pixels) that may be decoded."""

    widths: tuple[int, ...]
    formats: tuple[str, ...]
    quality: int
    max_pixels: int


@dataclass(frozen=True)
class Encoded:
    format: str
    width: int
    height: int
    data: bytes


def pillow_available() -> bool:
    return importlib.util.find_spec("PIL") is not None


def writable_formats(formats: Iterable[str]) -> tuple[str, ...]:
    """``formats`` less those the installed Pillow cannot write (AVIF needs Pillow 11.2+ built
    with libavif); all of them when Pillow is missing."""
    if not pillow_available():
        return ()
    from PIL import features

    usable = []
    for name in formats:
        if name in ("avif", "webp") and not features.check(name):
            logger.debug("Pillow cannot write %s here: no %s renditions.", name, name)
            continue
        usable.append(name)
    return tuple(usable)


def render_image(file: IO[bytes], spec: ImageSpec) -> list[Encoded]:
    """The renditions of the still image in ``file`` (seekable, binary), largest first.

    Raises :class:`RenditionError` for a file Pillow cannot read, a picture larger than
    ``spec.max_pixels`` (refused from its header, before anything is decoded) or a truncated
    one. An animated image gets none: a still rendition would drop its motion.
    """
    from PIL import Image, UnidentifiedImageError

    formats = writable_formats(spec.formats)
    if not formats or not spec.widths:
        return []
    with warnings.catch_warnings():
        # Above Image.MAX_IMAGE_PIXELS Pillow only warns (raising at twice that): refuse both.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(file, formats=_READABLE)
        except (UnidentifiedImageError, Image.DecompressionBombError, Warning) as exc:
            raise RenditionError(f"Not an image Pillow can read safely ({exc}).") from exc
        with image:
            return _render_open(image, spec, formats)


def _render_open(image: Any, spec: ImageSpec, formats: Sequence[str]) -> list[Encoded]:
    from PIL import Image

    width, height = image.size
    limit = min(spec.max_pixels, Image.MAX_IMAGE_PIXELS or spec.max_pixels)
    if width * height > limit:
        raise RenditionError(
            f"The image is {width}x{height} pixels, more than the {limit} allowed "
            "(RENDITION_MAX_PIXELS)."
        )
    if getattr(image, "is_animated", False):
        logger.debug("An animated image gets no renditions.")
        return []
    targets = [(w, max(1, round(height * w / width))) for w in sorted(spec.widths, reverse=True)]
    targets = [(w, h) for w, h in targets if w < width]
    if not targets:
        return []
    # JPEG can decode at 1/2, 1/4 or 1/8 scale: much less work for the largest target.
    image.draft("RGB", targets[0])
    try:
        image.load()
    except (OSError, SyntaxError, ValueError) as exc:  # truncated or corrupt data
        raise RenditionError(f"The image could not be decoded ({exc}).") from exc
    image = _usable_mode(image)
    icc = image.info.get("icc_profile")
    results = []
    for size in targets:
        resized = image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
        for name in formats:
            results.append(Encoded(name, *size, _encode(resized, name, spec.quality, icc)))
    return results


def _usable_mode(image: Any) -> Any:
    if image.mode in ("RGB", "RGBA", "L", "LA"):
        return image
    alpha = image.mode in ("PA", "La") or "transparency" in image.info
    return image.convert("RGBA" if alpha else "RGB")


def _encode(image: Any, name: str, quality: int, icc: bytes | None) -> bytes:
    from PIL import Image

    options: dict[str, Any] = {"icc_profile": icc} if icc else {}
    if name == "jpeg":
        if image.mode in ("RGBA", "LA"):
            # JPEG has no alpha: flatten on white, as a browser shows it on a white page.
            flat = Image.new("RGB", image.size, (255, 255, 255))
            flat.paste(image, mask=image.getchannel("A"))
            image = flat
        options.update(quality=quality, optimize=True, progressive=True)
    elif name in ("webp", "avif"):
        options.update(quality=quality)
    buffer = io.BytesIO()
    image.save(buffer, _PIL_NAMES[name], **options)
    return buffer.getvalue()
