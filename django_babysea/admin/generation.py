"""The generation admin: change list, change view, and the mixins that add create and actions."""

from __future__ import annotations

from typing import Any

from .actions import GenerationActionsMixin
from .create import GenerationCreateMixin

__all__ = ["GenerationAdminMixin"]


class GenerationAdminMixin(GenerationCreateMixin, GenerationActionsMixin):
    list_display: Any = ("model_identifier", "status", "kind", "owner", "created_at")
