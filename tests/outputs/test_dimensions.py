"""Pixel sizes read from file headers, and recorded on the output row when a copy is stored."""

from __future__ import annotations

import io
import os
import struct
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from django_babysea.downloads.sniff import MAX_HEADER_BYTES, dimensions
from django_babysea.models import OutputState
from django_babysea.sandbox import Sandbox

from .conftest import VIDEO_MODEL, succeed


def encoded(fmt: str, size: tuple[int, int], **options: object) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 40, 90)).save(buffer, fmt, **options)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("fmt", "options"),
    [
        ("PNG", {}),
        ("GIF", {}),
        ("JPEG", {"quality": 80}),
        ("JPEG", {"progressive": True}),
        ("WEBP", {"lossless": False}),
        ("WEBP", {"lossless": True}),
    ],
)
@pytest.mark.parametrize("size", [(1, 1), (640, 360), (333, 1217), (4000, 3)])
def test_image_headers(fmt: str, options: dict[str, object], size: tuple[int, int]) -> None:
    assert dimensions(io.BytesIO(encoded(fmt, size, **options))) == size


def test_webp_extended_header() -> None:
    """VP8X: the canvas size of a WebP with an alpha channel or metadata."""
    buffer = io.BytesIO()
    Image.new("RGBA", (300, 200), (0, 0, 0, 0)).save(buffer, "WEBP", exif=b"Exif\x00\x00")
    data = buffer.getvalue()
    assert data[12:16] == b"VP8X"
    assert dimensions(io.BytesIO(data)) == (300, 200)


def test_jpeg_after_a_large_exif_segment() -> None:
    """The frame header comes after APPn segments of any size; they are skipped, not read."""
    plain = encoded("JPEG", (120, 80))
    app1 = b"\xff\xe1" + struct.pack(">H", 65535) + b"\x00" * 65533
    data = plain[:2] + app1 * 40 + plain[2:]  # 2.6 MB of segments before the frame
    assert len(data) > 2 * MAX_HEADER_BYTES
    assert dimensions(io.BytesIO(data)) == (120, 80)


def mp4(tmp_path: Path, size: tuple[int, int], *, faststart: bool, audio: bool) -> bytes:
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    target = tmp_path / "out.mp4"
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-y"]
    if audio:  # an audio track first, whose tkhd says 0 x 0
        command += ["-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono"]
    command += ["-f", "lavfi", "-i", f"color=c=blue:s={size[0]}x{size[1]}:d=0.2"]
    if audio:
        command += ["-map", "0:a", "-map", "1:v", "-shortest"]
    command += ["-pix_fmt", "yuv420p"]
    if faststart:
        command += ["-movflags", "+faststart"]
    subprocess.run([*command, os.fspath(target)], check=True, capture_output=True, timeout=60)
    return target.read_bytes()


@pytest.mark.parametrize("faststart", [True, False])
def test_mp4_track_header(tmp_path: Path, faststart: bool) -> None:
    data = mp4(tmp_path, (320, 240), faststart=faststart, audio=False)
    assert dimensions(io.BytesIO(data)) == (320, 240)


def test_mp4_skips_the_audio_track(tmp_path: Path) -> None:
    data = mp4(tmp_path, (176, 144), faststart=False, audio=True)
    assert dimensions(io.BytesIO(data)) == (176, 144)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not an image at all, just text",
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 4,  # truncated
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR" + b"\x00" * 8,  # 0 x 0
        b"\xff\xd8\xff\xe0\x00\x01",  # a segment length below 2
        b"\xff\xd8" + b"\xff\x01" * 5000,  # markers without a length, never a frame
        b"\x00\x00\x00\x18ftypisom" + b"\x00" * 8 + b"\xff\xff\xff\xffmoov",  # box past the end
        b"\x00\x00\x00\x18ftypisom" + b"\x00" * 8 + b"\x00\x00\x00\x01moov" + b"\x00" * 8,
        b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 20,  # no VP8 start code
        b"\x1a\x45\xdf\xa3" + b"\x00" * 40,  # WebM: a format we do not measure
    ],
)
def test_bad_or_unknown_headers_give_none(data: bytes) -> None:
    assert dimensions(io.BytesIO(data)) is None


with_db = pytest.mark.django_db(transaction=True)


@with_db
@pytest.mark.parametrize(("fmt", "ratio"), [("png", "16:9"), ("jpg", "1:1"), ("webp", "9:16")])
def test_stored_copies_record_their_size(
    sandbox: Sandbox, media: Path, fmt: str, ratio: str
) -> None:
    generation = succeed(sandbox, generation_output_format=fmt, generation_ratio=ratio)
    output = generation.outputs.get()
    assert output.state == OutputState.STORED, output.error
    with Image.open(media / output.name) as image:
        assert (output.width, output.height) == image.size


@with_db
def test_stored_video_records_its_size(sandbox: Sandbox, media: Path) -> None:
    generation = succeed(sandbox, VIDEO_MODEL, generation_duration=5)
    output = generation.outputs.get()
    assert output.state == OutputState.STORED, output.error
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    frames = imageio_ffmpeg.read_frames(os.fspath(media / output.name))
    meta = next(frames)  # what ffmpeg itself reports
    frames.close()
    assert (output.width, output.height) == tuple(meta["size"])
