"""Idempotency keys of the create routes (contract section 5), per account, for 24 hours."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any, Final

from django_babysea.sandbox.errors import ApiError

__all__ = ["IdempotencyStore", "Stored", "fingerprint"]

WINDOW: Final = 24 * 3600.0


def fingerprint(route: str, model_identifier: str, body: dict[str, Any]) -> str:
    """Same route, same model, equal parsed JSON (key order and whitespace ignored)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return f"{route}|{model_identifier}|{canonical}"


@dataclass
class Stored:
    fingerprint: str
    created_at: float
    done: bool = False
    status: int = 0
    body: bytes = b""
    generation_id: str | None = None


class IdempotencyStore:
    def __init__(self, window: float = WINDOW) -> None:
        self.window = window
        self._entries: dict[tuple[str, str], Stored] = {}
        self._lock = threading.Lock()

    def begin(self, account_id: str, key: str, print_: str, now: float) -> Stored | None:
        """Claim ``key``; returns the stored response to replay, or raises BSE2015/BSE2016."""
        with self._lock:
            entry = self._entries.get((account_id, key))
            if entry is not None and now - entry.created_at >= self.window:
                entry = None
            if entry is None:
                self._entries[(account_id, key)] = Stored(print_, now)
                return None
            if entry.fingerprint != print_:
                raise ApiError("BSE2015", details={"idempotency_key": key})
            if not entry.done:
                raise ApiError("BSE2016", details={"idempotency_key": key})
            return entry

    def complete(
        self, account_id: str, key: str, status: int, body: bytes, generation_id: str
    ) -> None:
        with self._lock:
            entry = self._entries.get((account_id, key))
            if entry is not None:
                entry.done, entry.status, entry.body = True, status, body
                entry.generation_id = generation_id

    def release(self, account_id: str, key: str) -> None:
        """Forget a claim whose request was rejected: only 2xx responses are kept."""
        with self._lock:
            entry = self._entries.get((account_id, key))
            if entry is not None and not entry.done:
                del self._entries[(account_id, key)]

    def expire(self, now: float) -> None:
        with self._lock:
            old = [
                k for k, e in self._entries.items() if e.done and now - e.created_at >= self.window
            ]
            for k in old:
                del self._entries[k]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
