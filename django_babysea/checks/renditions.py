"""Checks of the rendition settings (E012) and of what they need installed (W006)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from django.core.checks import CheckMessage, Tags, Warning, register

from django_babysea.conf import babysea_settings
from django_babysea.renditions import pillow_available
from django_babysea.renditions.images import FORMATS

from .base import TAG, error, setting_name, settings_is_dict

#: Wider than any screen's image slot; a larger width is almost certainly a typo.
MAX_WIDTH: Final = 16384


def _whole(value: object, low: int, high: int | None = None) -> bool:
    if isinstance(value, bool) or not isinstance(value, int):
        return False
    return value >= low and (high is None or value <= high)


def _list_of(value: object) -> Sequence[Any] | None:
    """``value`` when it is a list or tuple (a string is a sequence too, and always a typo)."""
    return value if isinstance(value, list | tuple) else None


@register(Tags.compatibility, TAG)
def check_renditions(**kwargs: Any) -> list[CheckMessage]:
    if not settings_is_dict():
        return []
    messages: list[CheckMessage] = []

    def bad(key: str, expected: str) -> None:
        value = babysea_settings.get(key)
        messages.append(error(key, f"is {value!r}; expected {expected}.", None, 12))

    if not isinstance(babysea_settings.get("RENDITIONS"), bool):
        bad("RENDITIONS", "True or False")
    widths = _list_of(babysea_settings.get("RENDITION_WIDTHS"))
    if widths is None or not all(_whole(w, 1, MAX_WIDTH) for w in widths):
        bad("RENDITION_WIDTHS", f"a list of widths in pixels, each 1 to {MAX_WIDTH}")
    formats = _list_of(babysea_settings.get("RENDITION_FORMATS"))
    if formats is None or not all(isinstance(f, str) and f.lower() in FORMATS for f in formats):
        bad("RENDITION_FORMATS", f"a list of formats among {', '.join(FORMATS)}")
    if not _whole(babysea_settings.get("RENDITION_QUALITY"), 1, 100):
        bad("RENDITION_QUALITY", "a whole number from 1 to 100")
    if not _whole(babysea_settings.get("RENDITION_MAX_PIXELS"), 1):
        bad("RENDITION_MAX_PIXELS", "a positive whole number of pixels")
    binary = babysea_settings.get("FFMPEG_BINARY")
    if binary is not None and not (isinstance(binary, str) and binary.strip()):
        bad("FFMPEG_BINARY", "None or the path (or name on PATH) of an ffmpeg binary")
    return messages + _check_pillow()


def _check_pillow() -> list[CheckMessage]:
    """W006: widths asked for explicitly, but no Pillow to make them. With the defaults a site
    that does not want renditions need not install anything, so it gets no warning."""
    if "RENDITION_WIDTHS" not in babysea_settings.user_settings:
        return []
    if babysea_settings.get("RENDITIONS") is not True or pillow_available():
        return []
    return [
        Warning(
            f"{setting_name('RENDITION_WIDTHS')} is set but Pillow is not installed: no image "
            "renditions will be made.",
            hint='pip install "django-babysea[media]"',
            id="django_babysea.W006",
        )
    ]
