"""Renditions that cannot be made never fail the copy: hostile images, a failing storage, no
Pillow, no ffmpeg, no AVIF encoder."""

from __future__ import annotations

import importlib.util
import io
import struct
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import imageio_ffmpeg
import pytest
from django.core.files.storage import FileSystemStorage
from django.core.management import call_command
from django.test import override_settings
from PIL import Image, features

from django_babysea.models import Generation, GenerationOutput, OutputState
from django_babysea.renditions import ImageSpec, RenditionError, render_image
from django_babysea.sandbox import Sandbox

from .conftest import VIDEO_MODEL, served, succeed

pytestmark = pytest.mark.django_db(transaction=True)

RENDER = "django_babysea.sandbox.media.render.render_image"


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def bomb_png(side: int) -> bytes:
    """A valid PNG header claiming ``side`` x ``side`` pixels, with a few hundred bytes of data:
    decoding it would allocate gigabytes."""
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    rows = zlib.compress(b"\x00" * (3 * side + 1) * 4)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", rows)
        + png_chunk(b"IEND", b"")
    )


def real_png(size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.effect_noise(size, 64).convert("RGB").save(buffer, "PNG")
    return buffer.getvalue()


def serving(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    """The sandbox serves ``data`` as the next generated image."""
    monkeypatch.setattr(RENDER, lambda *args, **kwargs: data)


def stored_output(generation: Generation) -> GenerationOutput:
    output = generation.outputs.get()
    assert output.state == OutputState.STORED, output.error
    return output


def test_a_truncated_png_is_stored_without_renditions(
    sandbox: Sandbox, media: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = real_png((900, 600))
    serving(monkeypatch, whole[: len(whole) // 2])
    output = stored_output(succeed(sandbox, generation_prompt="a truncated seal"))
    assert (output.width, output.height) == (900, 600)  # the header is intact
    assert (media / output.name).read_bytes() == served(output.source_url)
    assert output.renditions == []
    assert "could not be decoded" in output.rendition_error
    assert [p.name for p in (media / output.name).parent.iterdir()] == ["0.png"]


def test_a_decompression_bomb_is_refused_from_its_header(
    sandbox: Sandbox, media: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serving(monkeypatch, bomb_png(60_000))
    opened: list[Any] = []

    def refuse_to_open(*args: Any, **kwargs: Any) -> None:
        opened.append(args)
        raise AssertionError("the bomb was opened")

    monkeypatch.setattr(Image, "open", refuse_to_open)
    output = stored_output(succeed(sandbox, generation_prompt="a bomb of a seal"))
    assert (output.width, output.height) == (60_000, 60_000)
    assert output.renditions == []
    assert output.rendition_error == (
        "The image is 60000x60000 pixels, more than the 50000000 allowed (RENDITION_MAX_PIXELS)."
    )
    assert opened == []


def test_pillow_s_own_bomb_limit_is_respected(monkeypatch: pytest.MonkeyPatch) -> None:
    # A header this module's reader cannot size, or a site with a stricter MAX_IMAGE_PIXELS:
    # Pillow's warning (below its hard error) refuses it too.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 5_000)
    spec = ImageSpec(widths=(50,), formats=("webp",), quality=80, max_pixels=10**9)
    with pytest.raises(RenditionError, match="safely"):
        render_image(io.BytesIO(real_png((100, 80))), spec)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10**9)
    spec = ImageSpec(widths=(50,), formats=("webp",), quality=80, max_pixels=5_000)
    with pytest.raises(RenditionError, match="100x80 pixels, more than the 5000"):
        render_image(io.BytesIO(real_png((100, 80))), spec)


def test_an_animated_gif_gets_no_renditions() -> None:
    frames = [Image.new("RGB", (200, 100), color) for color in ("red", "blue")]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:])
    spec = ImageSpec(widths=(50,), formats=("webp",), quality=80, max_pixels=10**6)
    assert render_image(io.BytesIO(buffer.getvalue()), spec) == []


class OpenFails(FileSystemStorage):
    """Saves work; reading a file back does not (a bucket without s3:GetObject)."""

    def open(self, name: str, mode: str = "rb") -> Any:
        raise PermissionError("Access Denied for key=AKIASECRET")


@pytest.fixture
def unreadable_storage(media: Path) -> Iterator[None]:
    storages = {
        "default": {
            "BACKEND": f"{__name__}.OpenFails",
            "OPTIONS": {"location": str(media), "base_url": "/media/"},
        },
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=storages):
        yield


def test_a_storage_error_is_recorded_not_raised(
    sandbox: Sandbox, media: Path, unreadable_storage: None
) -> None:
    output = stored_output(succeed(sandbox, generation_ratio="16:9"))
    assert output.renditions == []
    assert output.rendition_error == "Renditions failed unexpectedly (PermissionError)."
    assert "AKIASECRET" not in output.rendition_error
    assert output.url == f"/media/{output.name}"


def test_the_command_retries_a_failed_rendition(
    sandbox: Sandbox, media: Path, configure: Callable[..., None]
) -> None:
    storages = {
        "default": {
            "BACKEND": f"{__name__}.OpenFails",
            "OPTIONS": {"location": str(media), "base_url": "/media/"},
        },
    }
    with override_settings(STORAGES=storages):
        generation = succeed(sandbox, generation_ratio="16:9")
    assert generation.outputs.get().rendition_error
    out = io.StringIO()
    call_command("babysea_renditions", "--missing-only", stdout=out)
    assert out.getvalue() == "Renditions of 1 output: 1 made, 0 failed, 0 skipped.\n"
    output = generation.outputs.get()
    assert (output.rendition_error, len(output.renditions)) == ("", 2)


def test_without_pillow_images_are_copied_without_renditions(
    sandbox: Sandbox, media: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for module in ("django_babysea.renditions.images", "django_babysea.services.renditions"):
        monkeypatch.setattr(f"{module}.pillow_available", lambda: False)
    output = stored_output(succeed(sandbox, generation_ratio="16:9"))
    assert (output.renditions, output.renditions_key, output.rendition_error) == ([], "", "")
    out = io.StringIO()
    call_command("babysea_renditions", stdout=out)
    assert out.getvalue() == "Renditions of 1 output: 0 made, 0 failed, 1 skipped.\n"


def test_without_an_avif_encoder_webp_only(
    sandbox: Sandbox, media: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    check = features.check
    monkeypatch.setattr(features, "check", lambda name: name != "avif" and check(name))
    output = stored_output(succeed(sandbox, generation_ratio="16:9"))
    assert [r["format"] for r in output.renditions] == ["webp"]
    assert output.renditions_key == "image:480,960,1440:webp:q80"


@pytest.fixture
def no_ffmpeg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Neither the imageio-ffmpeg wheel nor an ffmpeg on PATH."""
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "imageio_ffmpeg" else find_spec(name, *a),
    )
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))


def test_without_ffmpeg_a_video_has_no_poster(sandbox: Sandbox, no_ffmpeg: None) -> None:
    output = stored_output(succeed(sandbox, VIDEO_MODEL, generation_duration=5))
    assert (output.renditions, output.rendition_error) == ([], "")
    assert output.duration == pytest.approx(5.0, abs=0.1)


def test_ffmpeg_binary_setting(
    sandbox: Sandbox, configure: Callable[..., None], no_ffmpeg: None, media: Path
) -> None:
    configure(FFMPEG_BINARY=imageio_ffmpeg.get_ffmpeg_exe())
    output = stored_output(succeed(sandbox, VIDEO_MODEL, generation_duration=5))
    assert [r["role"] for r in output.renditions] == ["poster"]
    configure(FFMPEG_BINARY=str(media / "no-such-ffmpeg"))
    output = stored_output(succeed(sandbox, VIDEO_MODEL, generation_duration=5))
    assert output.renditions == []


def test_ffmpeg_that_fails_is_recorded(
    sandbox: Sandbox, configure: Callable[..., None], tmp_path: Path
) -> None:
    fake = tmp_path / "ffmpeg"
    fake.write_text("#!/bin/sh\necho 'moov atom not found' >&2\nexit 1\n")
    fake.chmod(0o755)
    configure(FFMPEG_BINARY=str(fake))
    output = stored_output(succeed(sandbox, VIDEO_MODEL, generation_duration=5))
    assert output.renditions == []
    assert output.rendition_error == "ffmpeg made no poster frame (exit 1): moov atom not found"
