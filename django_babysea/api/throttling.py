"""Request-rate throttles (best effort: DRF counts in the cache, so counts are approximate
across processes). The money budget is enforced in the database, not here."""

from __future__ import annotations

from typing import Any

from rest_framework.settings import api_settings  # type: ignore[import-untyped]
from rest_framework.throttling import ScopedRateThrottle  # type: ignore[import-untyped]

__all__ = ["BabySeaThrottle"]


class BabySeaThrottle(ScopedRateThrottle):  # type: ignore[misc]
    """``ScopedRateThrottle`` for the scopes ``babysea_submit`` and ``babysea_read``, which
    lets requests through when the site set no rate for the scope (instead of failing)."""

    def get_rate(self) -> str | None:
        # Read now, not at import: the rates may change (settings overrides, tests).
        rates: dict[str, Any] = api_settings.DEFAULT_THROTTLE_RATES or {}
        if not self.scope:
            return None
        rate = rates.get(str(self.scope))
        return None if rate is None else str(rate)

    def allow_request(self, request: Any, view: Any) -> bool:
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope or self.get_rate() is None:
            return True
        return bool(super().allow_request(request, view))
