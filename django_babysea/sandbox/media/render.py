"""Real media for the sandbox: Pillow images showing the prompt, and playable H.264 MP4 videos
made of Pillow frames encoded by the ffmpeg binary shipped in the ``imageio-ffmpeg`` wheel."""

from __future__ import annotations

import colorsys
import contextlib
import hashlib
import io
import math
import os
import re
import struct
import subprocess
import tempfile
import textwrap
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from fractions import Fraction
from typing import IO, Any, Final

try:
    import imageio_ffmpeg
    from PIL import Image, ImageDraw, ImageFont
except ImportError as exc:  # pragma: no cover - depends on the environment
    from django_babysea.sandbox.extra import MISSING_EXTRA, MissingExtra

    raise MissingExtra(MISSING_EXTRA) from exc

IMAGE_FORMATS: Final = ("png", "jpg", "webp")
CONTENT_TYPES = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp", "mp4": "video/mp4"}

_PIL_FORMATS: Final = {"png": ("PNG", {}), "jpg": ("JPEG", {"quality": 90}), "webp": ("WEBP", {})}
_RATIO_RE: Final = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*[:x/]\s*(\d+(?:\.\d+)?)\s*$")
_MIN_SIDE: Final = 16
_MAX_PROMPT_CHARS: Final = 400
_CHUNK: Final = 1024 * 1024
_FFMPEG_TIMEOUT: Final = 120.0

Color = tuple[int, int, int]
CacheKey = tuple[object, ...]


def image_size(ratio: str, *, long_side: int = 768) -> tuple[int, int]:
    """Return ``(width, height)`` for an aspect ratio such as ``"16:9"`` or ``"1280:720"``.

    The longer side is ``long_side``; both sides are even and at least 16 pixels.
    """
    match = _RATIO_RE.match(ratio) if isinstance(ratio, str) else None
    if match is None:
        raise ValueError(f"invalid aspect ratio {ratio!r}; expected e.g. '16:9'")
    if long_side < _MIN_SIDE or long_side % 2:
        raise ValueError(f"long_side must be an even number >= {_MIN_SIDE}, got {long_side}")
    rw, rh = (Fraction(part) for part in match.groups())
    if rw <= 0 or rh <= 0:
        raise ValueError(f"invalid aspect ratio {ratio!r}; both sides must be positive")

    def side(fraction: Fraction) -> int:
        return max(_MIN_SIDE, 2 * round(long_side * fraction / 2))

    return (long_side, side(rh / rw)) if rw >= rh else (side(rw / rh), long_side)


def _color(hue: float, shade: int) -> Color:
    r, g, b = colorsys.hsv_to_rgb(hue % 1, 0.45 + shade / 640, 0.5 + shade / 600)
    return round(r * 255), round(g * 255), round(b * 255)


def _background(prompt: str, seed: int, size: tuple[int, int]) -> tuple[Any, Color]:
    """A gradient canvas derived from the seed and prompt, and the text colour that reads on it."""
    digest = hashlib.sha256(f"{seed}\x00{prompt}".encode()).digest()
    first = _color(digest[0] / 255, digest[1])
    second = _color((digest[0] + 44 + digest[2] // 3) / 255, digest[3])
    direction = digest[4] % 4
    vertical = Image.linear_gradient("L").resize(size)
    horizontal = vertical.transpose(Image.Transpose.ROTATE_90).resize(size)
    mask = horizontal if direction == 1 else vertical
    if direction >= 2:
        mask = Image.blend(vertical, horizontal, 0.5)
        mask = mask.transpose(Image.Transpose.FLIP_LEFT_RIGHT) if direction == 3 else mask
    canvas = Image.composite(Image.new("RGB", size, second), Image.new("RGB", size, first), mask)
    luma = sum(0.299 * r + 0.587 * g + 0.114 * b for r, g, b in (first, second)) / 2
    return canvas, ((24, 24, 24) if luma > 150 else (250, 250, 250))


def _wrap(draw: Any, text: str, font: Any, width: float) -> str:
    """Wrap ``text`` on word boundaries (breaking over-long words) to fit ``width`` pixels."""
    per_line = max(1, int(width / max(1.0, draw.textlength("n", font=font))))
    while True:
        lines = [
            line
            for paragraph in text.splitlines() or [""]
            for line in textwrap.wrap(paragraph, per_line, break_long_words=True) or [""]
        ]
        if per_line == 1 or all(draw.textlength(line, font=font) <= width for line in lines):
            return "\n".join(lines)
        per_line -= 1


def _draw_prompt(image: Any, prompt: str, box: tuple[int, int, int, int], fill: Color) -> None:
    """Draw the prompt centred in ``box`` at the largest font size that fits."""
    text = "\n".join(" ".join(line.split()) for line in prompt.strip().splitlines())
    text = text or "(empty prompt)"
    if len(text) > _MAX_PROMPT_CHARS:
        text = text[: _MAX_PROMPT_CHARS - 1].rstrip() + "…"
    draw = ImageDraw.Draw(image)
    left, top, right, bottom = box
    size = max(12, (bottom - top) // 5)
    while True:
        font = ImageFont.load_default(size=size)
        wrapped = _wrap(draw, text, font, right - left)
        spacing = size // 4
        x0, y0, x1, y1 = draw.multiline_textbbox((0, 0), wrapped, font=font, spacing=spacing)
        if size <= 10 or (x1 - x0 <= right - left and y1 - y0 <= bottom - top):
            break
        size = max(10, size * 7 // 8)
    stroke = (0, 0, 0) if fill[0] > 128 else (255, 255, 255)
    center = ((left + right) / 2, (top + bottom) / 2)
    draw.multiline_text(
        center, wrapped, font=font, fill=fill, anchor="mm", align="center", spacing=spacing,
        stroke_width=max(1, size // 20), stroke_fill=stroke,
    )  # fmt: skip


def _draw_label(image: Any, label: str, *, corner: str) -> None:
    """Draw ``label`` small on a dark plate in the bottom-left or top-left corner."""
    if not label:
        return
    width, height = image.size
    draw = ImageDraw.Draw(image)
    font_size = max(10, max(width, height) // 48)
    font = ImageFont.load_default(size=font_size)
    pad = max(3, font_size // 3)
    while len(label) > 1 and draw.textlength(label, font=font) > width - 4 * pad:
        label = label[:-2] + "…"
    x0, y0, x1, y1 = draw.textbbox((0, 0), label, font=font)
    top = pad if corner == "top" else height - pad - (y1 - y0) - 2 * pad
    plate = (pad, top, pad + (x1 - x0) + 2 * pad, top + (y1 - y0) + 2 * pad)
    draw.rounded_rectangle(plate, radius=pad, fill=(16, 16, 16))
    draw.text((pad * 2 - x0, top + pad - y0), label, font=font, fill=(235, 235, 235))


def render_image(
    prompt: str,
    *,
    fmt: str = "png",
    ratio: str = "1:1",
    seed: int = 0,
    label: str = "",
    long_side: int = 768,
) -> bytes:
    """Render a PNG, JPEG or WebP image showing ``prompt``; same arguments give the same bytes."""
    if fmt not in _PIL_FORMATS:
        raise ValueError(f"unsupported image format {fmt!r}; expected one of {IMAGE_FORMATS}")
    size = image_size(ratio, long_side=long_side)
    image, fill = _background(prompt, seed, size)
    margin = max(4, min(size) // 12)
    label_band = max(10, long_side // 48) * 2 if label else 0
    box = (margin, margin, size[0] - margin, size[1] - margin - label_band)
    _draw_prompt(image, prompt, box, fill)
    _draw_label(image, label, corner="bottom")
    pil_format, options = _PIL_FORMATS[fmt]
    buffer = io.BytesIO()
    image.save(buffer, pil_format, **options)
    return buffer.getvalue()


def _video_frames(
    prompt: str, duration: int, size: tuple[int, int], seed: int, label: str, fps: int
) -> Iterator[bytes]:
    """Yield ``duration * fps`` raw RGB frames: the prompt, a bouncing ball, a clock and a bar."""
    width, height = size
    base, fill = _background(prompt, seed, size)
    band = max(24, height // 5)
    box = (width // 12, height // 10, width - width // 12, height - band)
    _draw_prompt(base, prompt, box, fill)
    _draw_label(base, label, corner="top")
    font = ImageFont.load_default(size=max(10, band // 3))
    total = duration * fps
    radius = max(4, band // 4)
    for index in range(total):
        frame = base.copy()
        draw = ImageDraw.Draw(frame)
        seconds = index / fps
        sweep = 1 - abs(seconds / 2 % 2 - 1)  # there and back every four seconds
        x = radius + (width - 2 * radius) * sweep
        y = height - band / 2 - radius * abs(math.sin(seconds * 2 * math.pi))
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=fill, outline=(0, 0, 0))
        draw.rectangle((0, height - 4, width * (index + 1) // total, height), fill=fill)
        clock = f"{seconds:05.2f}s  {index + 1}/{total}"
        draw.text((width - 8, height - 8), clock, font=font, fill=fill, anchor="rd")
        yield frame.tobytes()


def _encode(command: list[str], frames: Iterator[bytes], log: IO[bytes]) -> int:
    """Pipe ``frames`` into ffmpeg and return its exit status (-9 when it had to be killed)."""
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stderr=log)  # noqa: S603
    stdin = process.stdin
    assert stdin is not None
    try:
        with contextlib.suppress(BrokenPipeError):  # ffmpeg exited early; its log says why
            for frame in frames:
                stdin.write(frame)
            stdin.close()
        return process.wait(timeout=_FFMPEG_TIMEOUT)
    except subprocess.TimeoutExpired:
        return -9
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        with contextlib.suppress(BrokenPipeError):
            stdin.close()


def render_video(
    prompt: str,
    *,
    duration: int = 5,
    ratio: str = "16:9",
    seed: int = 0,
    label: str = "",
    fps: int = 12,
    long_side: int = 640,
) -> bytes:
    """Render a ``duration``-second H.264 MP4 (yuv420p, moov first) showing ``prompt``."""
    if duration < 1 or fps < 1:
        raise ValueError(f"duration and fps must be positive, got {duration} and {fps}")
    width, height = image_size(ratio, long_side=long_side)
    frames = _video_frames(prompt, duration, (width, height), seed, label, fps)
    with tempfile.TemporaryDirectory(prefix="babysea-video-") as tmp:
        target = os.path.join(tmp, "out.mp4")
        command = [
            imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error",
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}",
            "-framerate", str(fps), "-i", "pipe:0", "-an", "-c:v", "libx264",
            "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-movflags", "+faststart", target,
        ]  # fmt: skip
        with tempfile.TemporaryFile() as log:
            returncode = _encode(command, frames, log)
            log.seek(0)
            tail = log.read()[-2000:].decode("utf-8", "replace").strip()
        if returncode != 0 or not os.path.exists(target):
            raise RuntimeError(f"ffmpeg failed to encode the video (exit {returncode}): {tail}")
        with open(target, "rb") as result:
            return result.read()


class MediaCache:
    """Thread-safe LRU cache (bounded by total bytes, default 256 MiB) of rendered outputs keyed by
    the render arguments, so concurrent requests for the same file render it once (per-key lock).
    An output larger than ``max_bytes`` is returned but not kept; ``renders`` counts renders."""

    def __init__(self, max_bytes: int = 256 * 1024 * 1024) -> None:
        if max_bytes < 0:
            raise ValueError("max_bytes must not be negative")
        self.max_bytes = max_bytes
        self.renders = 0
        self._size = 0
        self._lock = threading.Lock()
        self._items: OrderedDict[CacheKey, bytes] = OrderedDict()
        self._key_locks: dict[CacheKey, threading.Lock] = {}

    @property
    def size_bytes(self) -> int:
        """Total bytes currently held."""
        with self._lock:
            return self._size

    def image(self, prompt: str, *, fmt: str, ratio: str, seed: int, label: str) -> bytes:
        key = ("image", prompt, fmt, ratio, seed, label)
        return self._get(
            key, lambda: render_image(prompt, fmt=fmt, ratio=ratio, seed=seed, label=label)
        )

    def video(self, prompt: str, *, duration: int, ratio: str, seed: int, label: str) -> bytes:
        key = ("video", prompt, duration, ratio, seed, label)
        return self._get(
            key,
            lambda: render_video(prompt, duration=duration, ratio=ratio, seed=seed, label=label),
        )

    def _lookup(self, key: CacheKey) -> bytes | None:
        """Return the cached value and mark it recently used; caller holds ``_lock``."""
        data = self._items.get(key)
        if data is not None:
            self._items.move_to_end(key)
        return data

    def _get(self, key: CacheKey, render: Callable[[], bytes]) -> bytes:
        with self._lock:
            data = self._lookup(key)
            if data is not None:
                return data
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        try:
            with key_lock:
                with self._lock:
                    data = self._lookup(key)
                if data is not None:
                    return data
                data = render()
                self._store(key, data)
                return data
        finally:
            with self._lock:
                if self._key_locks.get(key) is key_lock:
                    del self._key_locks[key]

    def _store(self, key: CacheKey, data: bytes) -> None:
        with self._lock:
            self.renders += 1
            if len(data) > self.max_bytes:
                return
            self._size += len(data) - len(self._items.pop(key, b""))
            self._items[key] = data
            while self._size > self.max_bytes:
                _, evicted = self._items.popitem(last=False)
                self._size -= len(evicted)


def _check_boxes(data: bytes) -> None:
    """Raise ValueError unless ``data`` is a complete sequence of top-level ISO BMFF boxes."""
    offset = 0
    while offset < len(data):
        if len(data) - offset < 8:
            raise ValueError("base video ends with a truncated box header")
        size = struct.unpack_from(">I", data, offset)[0]
        if size == 1 and len(data) - offset >= 16:
            size = struct.unpack_from(">Q", data, offset + 8)[0]
        if size < 8 or offset + size > len(data):
            raise ValueError(f"base video has a malformed box at offset {offset}")
        offset += size


def padded_video(base: bytes, target_size: int) -> Iterator[bytes]:
    """Yield 1 MiB chunks of a valid MP4 of exactly ``target_size`` bytes.

    The file is ``base`` (a ``+faststart`` MP4) followed by one top-level ``free`` box filling
    the rest, using the 64-bit size form when the padding exceeds 4 GiB - 1.
    """
    padding = target_size - len(base)
    if padding < 8:
        raise ValueError(f"target_size must be at least {len(base) + 8} bytes, got {target_size}")
    _check_boxes(base)
    if padding <= 0xFFFFFFFF:
        header = struct.pack(">I4s", padding, b"free")
    else:
        header = struct.pack(">I4sQ", 1, b"free", padding)

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(base), _CHUNK):
            yield base[start : start + _CHUNK]
        yield header
        zeros, remaining = bytes(_CHUNK), padding - len(header)
        while remaining > 0:
            yield zeros if remaining >= _CHUNK else zeros[:remaining]
            remaining -= _CHUNK

    return chunks()
