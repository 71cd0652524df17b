"""The retry policy of contract section 8, as pure decisions (no sleeping, no I/O).

* An API error whose envelope says ``retryable: true`` is retried while attempts remain, after
  ``Retry-After`` seconds when the response gave them, else after full-jitter backoff
  ``random() * min(base * 2 ** (attempt - 1), cap)``. A ``Retry-After`` longer than
  ``max_retry_after`` is not slept through: the error is raised at once, so a caller never
  waits minutes inside one call.
* A transport failure is retried only when the request is safe to send twice: GET, DELETE, HEAD,
  or a POST that carries an Idempotency-Key.
* Everything else (and a timeout, decided by the caller) is final.
"""

from __future__ import annotations

import random as _random
from collections.abc import Callable
from dataclasses import dataclass, field

from .errors import APIError

__all__ = ["RetryPolicy"]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How many times and how long to wait. ``random`` is injectable for tests."""

    max_retries: int = 2
    base_delay: float = 1.0
    max_delay: float = 30.0
    max_retry_after: float = 60.0
    random: Callable[[], float] = field(default=_random.random, repr=False)

    @property
    def max_attempts(self) -> int:
        return self.max_retries + 1

    def backoff(self, attempt: int) -> float:
        """Full jitter after the ``attempt``-th try (1-based)."""
        return self.random() * min(self.base_delay * 2.0 ** (attempt - 1), self.max_delay)

    def after_api_error(self, error: APIError, attempt: int) -> float | None:
        """Seconds to wait before the next try, or ``None`` when ``error`` is final."""
        if not error.retryable or attempt >= self.max_attempts:
            return None
        if error.retry_after is not None:
            return error.retry_after if error.retry_after <= self.max_retry_after else None
        return self.backoff(attempt)

    def after_transport_error(self, *, replay_safe: bool, attempt: int) -> float | None:
        """Seconds to wait before resending after a transport failure, or ``None``."""
        if not replay_safe or attempt >= self.max_attempts:
            return None
        return self.backoff(attempt)
