"""The rendition settings' checks (E012, W006), rendition names, and video durations read from
the ``mvhd`` box."""

from __future__ import annotations

import io
import struct
from typing import Any

import pytest

from django_babysea.downloads.sniff import duration
from django_babysea.services.renditions import rendition_name
from tests.checks.helpers import babysea_messages


def test_defaults_pass() -> None:
    messages = babysea_messages()
    assert "django_babysea.E012" not in messages
    assert "django_babysea.W006" not in messages


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("RENDITIONS", "yes", "True or False"),
        ("RENDITION_WIDTHS", "480", "a list of widths in pixels, each 1 to 16384"),
        ("RENDITION_WIDTHS", [480, 0], "a list of widths"),
        ("RENDITION_WIDTHS", [480.5], "a list of widths"),
        ("RENDITION_WIDTHS", [True], "a list of widths"),
        ("RENDITION_WIDTHS", [20_000], "a list of widths"),
        ("RENDITION_FORMATS", ["webp", "heic"], "a list of formats among avif, webp, jpeg, png"),
        ("RENDITION_FORMATS", "webp", "a list of formats"),
        ("RENDITION_QUALITY", 0, "a whole number from 1 to 100"),
        ("RENDITION_QUALITY", 101, "a whole number from 1 to 100"),
        ("RENDITION_MAX_PIXELS", float("inf"), "a positive whole number of pixels"),
        ("FFMPEG_BINARY", "", "None or the path"),
        ("FFMPEG_BINARY", 3, "None or the path"),
    ],
)
def test_bad_values(key: str, value: Any, expected: str) -> None:
    message = babysea_messages(**{key: value})["django_babysea.E012"]
    assert message.endswith(".")
    assert message.startswith(f"BABYSEA[{key!r}] is {value!r}; expected {expected}")


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("RENDITION_WIDTHS", []),
        ("RENDITION_WIDTHS", (320, 640)),
        ("RENDITION_FORMATS", ["JPEG", "png"]),
        ("RENDITION_FORMATS", []),
        ("FFMPEG_BINARY", "/usr/bin/ffmpeg"),
    ],
)
def test_good_values(key: str, value: Any) -> None:
    assert "django_babysea.E012" not in babysea_messages(**{key: value})


def test_widths_without_pillow_warn(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("django_babysea.checks.renditions.pillow_available", lambda: False)
    assert "django_babysea.W006" not in babysea_messages()  # the defaults: no warning
    assert "django_babysea.W006" not in babysea_messages(RENDITION_WIDTHS=[480], RENDITIONS=False)
    assert babysea_messages(RENDITION_WIDTHS=[480])["django_babysea.W006"] == (
        "BABYSEA['RENDITION_WIDTHS'] is set but Pillow is not installed: no image renditions "
        "will be made."
    )


def test_rendition_names() -> None:
    assert rendition_name("babysea/2026/11/abc/0.png", "image", 480, "webp") == (
        "babysea/2026/11/abc/0.480w.webp"
    )
    assert rendition_name("a.b/seal.v2.mp4", "poster", 640, "jpg") == "a.b/seal.v2.poster.jpg"
    assert rendition_name("noext", "image", 320, "avif") == "noext.320w.avif"


def box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", 8 + len(body)) + kind + body


def mp4(mvhd: bytes) -> bytes:
    return box(b"ftyp", b"isom\x00\x00\x02\x00isom") + box(b"moov", box(b"mvhd", mvhd))


def mvhd_v0(timescale: int, length: int) -> bytes:
    return b"\x00\x00\x00\x00" + struct.pack(">IIII", 0, 0, timescale, length) + b"\x00" * 80


def mvhd_v1(timescale: int, length: int) -> bytes:
    return b"\x01\x00\x00\x00" + struct.pack(">QQIQ", 0, 0, timescale, length) + b"\x00" * 80


@pytest.mark.parametrize(
    ("data", "seconds"),
    [
        (mp4(mvhd_v0(1000, 5000)), 5.0),
        (mp4(mvhd_v0(600, 1500)), 2.5),
        (mp4(mvhd_v1(90000, 90000 * 8)), 8.0),
        (mp4(mvhd_v0(0, 5000)), None),  # no time scale
        (mp4(mvhd_v0(1000, 2**32 - 1)), None),  # "unknown"
        (mp4(mvhd_v1(1000, 2**64 - 1)), None),
        (mp4(mvhd_v0(1, 2**31)), None),  # decades: a corrupt header
        (mp4(b"\x00\x00"), None),  # cut short
        (box(b"ftyp", b"isom\x00\x00\x02\x00isom") + b"\x00\x00\x00\x05moov", None),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, None),
    ],
)
def test_durations(data: bytes, seconds: float | None) -> None:
    assert duration(io.BytesIO(data)) == seconds
