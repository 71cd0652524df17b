"""The BabySea dashboard page (placeholder until it lands)."""

from __future__ import annotations

__all__ = ["DashboardAdminMixin"]


class DashboardAdminMixin:
    pass
