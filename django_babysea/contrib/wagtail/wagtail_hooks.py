"""Wagtail imports this module at start-up; each part registers its own hooks."""

from .area import hooks as area_hooks  # noqa: F401
from .chooser import hooks as chooser_hooks  # noqa: F401
from .library import hooks as library_hooks  # noqa: F401
