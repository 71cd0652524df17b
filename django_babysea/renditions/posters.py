"""A video's poster frame, extracted by ffmpeg as a JPEG at the video's own size."""

from __future__ import annotations

import importlib.util
import logging
import shutil
import subprocess
from typing import Final

from .images import RenditionError

__all__ = ["POSTER_TIMEOUT", "find_ffmpeg", "poster_time", "render_poster"]

logger = logging.getLogger("django_babysea.renditions")

#: Seconds ffmpeg may take for one frame; a video it cannot seek in that long gets no poster.
POSTER_TIMEOUT: Final = 60.0


def find_ffmpeg(configured: str | None) -> str | None:
    """The ffmpeg binary to run: ``BABYSEA["FFMPEG_BINARY"]`` when set (an explicit choice
    wins), else the one in the ``imageio-ffmpeg`` wheel, else ``ffmpeg`` on ``PATH``."""
    if configured:
        return shutil.which(configured)
    if importlib.util.find_spec("imageio_ffmpeg") is not None:
        import imageio_ffmpeg

        try:
            return str(imageio_ffmpeg.get_ffmpeg_exe())
        except RuntimeError:  # the wheel for another platform, or its binary removed
            logger.debug("imageio-ffmpeg has no ffmpeg binary here.", exc_info=True)
    return shutil.which("ffmpeg")


def poster_time(duration: float | None) -> float:
    """Where to take the frame: a tenth of the way in (at most one second), past a fade from
    black; the first frame when the duration is unknown."""
    return min(1.0, duration / 10) if duration else 0.0


def render_poster(
    ffmpeg: str, path: str, *, at: float = 0.0, quality: int = 80, timeout: float = POSTER_TIMEOUT
) -> bytes:
    """One frame of the video at ``path`` (a local file), as JPEG bytes."""
    # ffmpeg's JPEG scale runs 2 (best) to 31; map the 1-100 quality onto it.
    qscale = max(2, min(31, round(31 - (quality / 100) * 29)))
    command = [
        ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error",
        "-ss", f"{at:.3f}", "-i", path, "-frames:v", "1", "-an",
        "-f", "image2pipe", "-c:v", "mjpeg", "-q:v", str(qscale), "pipe:1",
    ]  # fmt: skip
    try:
        done = subprocess.run(  # noqa: S603 - a fixed argument list, no shell
            command, capture_output=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise RenditionError(f"ffmpeg took more than {timeout:g} s for a poster frame.") from exc
    except OSError as exc:
        raise RenditionError(f"ffmpeg could not be run ({exc.strerror or exc}).") from exc
    if done.returncode != 0 or not done.stdout.startswith(b"\xff\xd8"):
        tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
        raise RenditionError(f"ffmpeg made no poster frame (exit {done.returncode}): {tail[0]}")
    return done.stdout
