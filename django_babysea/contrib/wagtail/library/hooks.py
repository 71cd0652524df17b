"""Wagtail hooks of this part: the audit-log actions it writes."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from wagtail import hooks

from .importing import IMPORT_ACTION
from .submitting import GENERATE_ACTION

__all__ = ["register_library_log_actions"]


# Wagtail refuses to store a log entry whose action is not registered.
@hooks.register("register_log_actions")  # type: ignore[untyped-decorator]
def register_library_log_actions(actions: Any) -> None:
    actions.register_action(
        GENERATE_ACTION, _("Generate with BabySea"), _("Generation submitted to BabySea")
    )
    actions.register_action(
        IMPORT_ACTION, _("Import into the library"), _("Output imported into the library")
    )
