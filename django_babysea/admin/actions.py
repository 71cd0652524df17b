"""Admin actions on generations, through the service layer (placeholder until they land)."""

from __future__ import annotations

__all__ = ["GenerationActionsMixin"]


class GenerationActionsMixin:
    pass
