"""Creating a generation from the cached catalog (placeholder until it lands)."""

from __future__ import annotations

__all__ = ["GenerationCreateMixin"]


class GenerationCreateMixin:
    pass
