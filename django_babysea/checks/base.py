"""What every check module shares: the tag, message builders and the settings-shape guard."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from django.conf import settings
from django.core.checks import Error

#: Tag of every django-babysea check, besides Django's ``compatibility``.
TAG: Final = "django_babysea"


def setting_name(key: str) -> str:
    return f"BABYSEA[{key!r}]"


def error(key: str, msg: str, hint: str | None, code: int) -> Error:
    return Error(f"{setting_name(key)} {msg}", hint=hint, id=f"django_babysea.E{code:03d}")


def settings_is_dict() -> bool:
    """Whether ``BABYSEA`` is usable at all; when it is not, only E010 is reported."""
    return isinstance(getattr(settings, "BABYSEA", {}), Mapping)
