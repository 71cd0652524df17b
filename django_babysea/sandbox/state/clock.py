"""Time and identifiers: the sandbox clock (real time plus a travel offset) and seeded ids."""

from __future__ import annotations

import random
import threading
import time
import uuid
from datetime import UTC, datetime

__all__ = ["Clock", "Ids", "iso"]


def iso(ts: float | None) -> str | None:
    """ISO 8601 UTC with milliseconds and ``Z`` (contract section 1.4), or None."""
    if ts is None:
        return None
    moment = datetime.fromtimestamp(ts, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class Clock:
    """Wall-clock time shifted by :meth:`travel`, so tests can jump past windows instantly."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        return time.time() + self._offset

    def travel(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        with self._lock:
            self._offset += seconds

    def reset(self) -> None:
        with self._lock:
            self._offset = 0.0

    @property
    def offset(self) -> float:
        return self._offset


class Ids:
    """Identifiers from one random source; reproducible when the sandbox has a ``seed``."""

    def __init__(self, seed: int | None = None) -> None:
        self._seed = seed
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def reseed(self) -> None:
        with self._lock:
            self._random = random.Random(self._seed)

    def bits(self, n: int) -> int:
        with self._lock:
            return self._random.getrandbits(n)

    def hex(self, length: int) -> str:
        return f"{self.bits(length * 4):0{length}x}"

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.bits(128), version=4))

    def request_id(self) -> str:
        return "req_" + self.hex(24)

    def alnum(self, length: int) -> str:
        alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
        with self._lock:
            return "".join(self._random.choice(alphabet) for _ in range(length))

    def seed32(self) -> int:
        return self.bits(31)
