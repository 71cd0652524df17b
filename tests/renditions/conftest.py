"""Renditions made on the real copy path: sandbox outputs copied into a file-system storage of
the test's own (the fixtures of tests/outputs), then opened with Pillow."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PIL import Image

from tests.commands.conftest import manage
from tests.outputs.conftest import (
    IMAGE_MODEL,
    PROMPT,
    VIDEO_MODEL,
    configure,
    media,
    sandbox,
    served,
    succeed,
)

__all__ = [
    "IMAGE_MODEL",
    "PROMPT",
    "VIDEO_MODEL",
    "configure",
    "manage",
    "media",
    "opened",
    "sandbox",
    "served",
    "succeed",
]


def opened(media: Path, item: dict[str, Any]) -> tuple[str, tuple[int, int]]:
    """The Pillow format and pixel size of a rendition's file."""
    with Image.open(media / item["name"]) as image:
        return str(image.format), image.size
