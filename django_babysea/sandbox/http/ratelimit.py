"""Request rate limits per account (BSE1005) and failed-auth limits per IP (BSE1006), 4.4."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

from django_babysea.sandbox.contract.errors import ApiError

__all__ = ["AuthFailureLimiter", "RateLimiter", "Window"]


@dataclass
class Window:
    started: float
    count: int = 0


class RateLimiter:
    """A fixed window of ``limit`` requests per ``window`` seconds, shared by an account's keys."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._windows: dict[str, Window] = {}
        self._lock = threading.Lock()

    def _current(self, account_id: str, now: float) -> Window:
        current = self._windows.get(account_id)
        if current is None or now >= current.started + self.window:
            current = Window(started=now)
            self._windows[account_id] = current
        return current

    def peek(self, account_id: str, now: float) -> dict[str, str]:
        """The X-RateLimit-* headers without counting a request."""
        with self._lock:
            current = self._current(account_id, now)
            return self._headers(current)

    def _headers(self, current: Window) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(0, self.limit - current.count)),
            "X-RateLimit-Reset": str(math.ceil(current.started + self.window)),
        }

    def hit(self, account_id: str, now: float) -> dict[str, str]:
        """Count one request; returns the X-RateLimit-* headers or raises BSE1005 with them."""
        with self._lock:
            current = self._current(account_id, now)
            reset_at = current.started + self.window
            allowed = current.count < self.limit
            if allowed:
                current.count += 1
            headers = self._headers(current)
        if not allowed:
            retry_after = max(1, math.ceil(reset_at - now))
            headers["Retry-After"] = str(retry_after)
            raise ApiError(
                "BSE1005",
                details={"retry_after_seconds": retry_after, "limit": self.limit},
                headers=headers,
            )
        return headers

    def clear(self) -> None:
        with self._lock:
            self._windows.clear()


class AuthFailureLimiter:
    """After ``limit`` failed authentications from one IP in ``window`` s, that IP gets BSE1006."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._windows: dict[str, Window] = {}
        self._lock = threading.Lock()

    def check(self, ip: str, now: float) -> None:
        with self._lock:
            current = self._windows.get(ip)
            if current is None or now >= current.started + self.window:
                return
            blocked = current.count >= self.limit
            retry_after = max(1, math.ceil(current.started + self.window - now))
        if blocked:
            raise ApiError(
                "BSE1006",
                details={"retry_after_seconds": retry_after, "limit": self.limit},
                headers={"Retry-After": str(retry_after)},
            )

    def failed(self, ip: str, now: float) -> None:
        with self._lock:
            current = self._windows.get(ip)
            if current is None or now >= current.started + self.window:
                current = Window(started=now)
                self._windows[ip] = current
            current.count += 1

    def clear(self) -> None:
        with self._lock:
            self._windows.clear()
