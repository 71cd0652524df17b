"""The ``[sandbox]`` extra: Pillow draws the sandbox's images and the ffmpeg binary of
``imageio-ffmpeg`` encodes its videos. Checked when a sandbox starts, so a site installed
without it gets one clear error then, not a 500 on every output file later."""

from __future__ import annotations

import importlib
from typing import Final

__all__ = ["MISSING_EXTRA", "MissingExtra", "require_extra"]

MISSING_EXTRA: Final = (
    'The BabySea sandbox needs the [sandbox] extra: pip install "django-babysea[sandbox]"'
)
_MODULES: Final = ("PIL.Image", "PIL.ImageDraw", "PIL.ImageFont", "imageio_ffmpeg")


class MissingExtra(ImportError):
    """Pillow or imageio-ffmpeg cannot be imported."""


def require_extra() -> None:
    """Raise :class:`MissingExtra` (message :data:`MISSING_EXTRA`) unless the extra imports."""
    for name in _MODULES:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise MissingExtra(MISSING_EXTRA, name=name) from exc
