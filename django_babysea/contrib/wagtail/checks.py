"""System checks of the Wagtail integration's installation.

* ``django_babysea.E014``: an app it needs is not installed (``django_babysea``, ``wagtail``,
  ``wagtail.admin``, ``wagtail.images``, ``taggit``).
* ``django_babysea.W008``: it is listed after ``wagtail.images``, so the image edit page does
  not show the generation an image came from (the template that adds it is not found first).
"""

from __future__ import annotations

from typing import Any, Final

from django.apps import apps
from django.core.checks import CheckMessage, Error, Tags, Warning, register

from django_babysea.checks import TAG

__all__ = ["REQUIRED_APPS", "check_installation", "missing_apps"]

APP: Final = "django_babysea.contrib.wagtail"
#: What the integration imports and links to.
REQUIRED_APPS: Final = ("django_babysea", "wagtail", "wagtail.admin", "wagtail.images", "taggit")


def missing_apps() -> list[str]:
    return [name for name in REQUIRED_APPS if not apps.is_installed(name)]


def _position(name: str) -> int | None:
    """Where app ``name`` comes in INSTALLED_APPS (the app registry keeps that order, and the
    app-directories template loader searches in it)."""
    names = [config.name for config in apps.get_app_configs()]
    return names.index(name) if name in names else None


@register(Tags.compatibility, TAG)
def check_installation(**kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    missing = missing_apps()
    if missing:
        messages.append(
            Error(
                f"{APP} needs {', '.join(repr(name) for name in missing)} in INSTALLED_APPS.",
                hint="Install the extra (pip install 'django-babysea[wagtail]') and add the "
                "apps; see docs/wagtail.md.",
                id="django_babysea.E014",
            )
        )
        return messages
    ours, images = _position(APP), _position("wagtail.images")
    if ours is not None and images is not None and ours > images:
        messages.append(
            Warning(
                f"{APP} comes after 'wagtail.images' in INSTALLED_APPS, so an image's edit "
                "page does not show the generation it came from.",
                hint=f"Move {APP!r} above 'wagtail.images'.",
                id="django_babysea.W008",
            )
        )
    return messages
