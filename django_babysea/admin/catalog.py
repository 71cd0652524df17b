"""The cached model catalog in the admin (placeholder until the create form lands)."""

from __future__ import annotations

from typing import Any

__all__ = ["CatalogModelAdminMixin"]


class CatalogModelAdminMixin:
    list_display: Any = ("model_identifier", "kind", "health", "available", "fetched_at")
