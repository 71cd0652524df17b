"""Idempotency keys of the create routes (contract section 5), per account, for 24 hours."""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any, Final

from django_babysea.sandbox.contract.errors import ApiError

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
        # Claims in the order they were made: with one window for all, that is the order
        # their windows end, so expiry pops from the front and never scans the keys.
        self._order: deque[tuple[tuple[str, str], Stored]] = deque()
        self._lock = threading.Lock()
        #: Entries looked at by :meth:`expire` (a work counter for tests).
        self.examined = 0

    def begin(self, account_id: str, key: str, print_: str, now: float) -> Stored | None:
        """Claim ``key``; returns the stored response to replay, or raises BSE2015/BSE2016."""
        with self._lock:
            entry = self._entries.get((account_id, key))
            if entry is not None and now - entry.created_at >= self.window:
                entry = None
            if entry is None:
                claim = Stored(print_, now)
                self._entries[(account_id, key)] = claim
                self._order.append(((account_id, key), claim))
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

    def expire(self, now: float) -> int:
        """Forget the completed keys whose window ended, oldest first; returns how many."""
        removed = 0
        with self._lock:
            while self._order and now - self._order[0][1].created_at >= self.window:
                key, claim = self._order.popleft()
                self.examined += 1
                # A key claimed again, released or still in progress is not this claim's to drop.
                if self._entries.get(key) is claim and claim.done:
                    del self._entries[key]
                    removed += 1
        return removed

    def held(self) -> list[tuple[str, str]]:
        """The (account id, key) pairs held, oldest claim first."""
        with self._lock:
            return [key for key, claim in self._order if self._entries.get(key) is claim]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._order.clear()
