"""Where received blocks go: written to the local file at once, hashed on a second thread.

SHA-256 costs about as much CPU as receiving and writing the body together. hashlib releases the
GIL on large buffers, so on a thread of its own it runs beside the reads and writes instead of
after each one. Blocks are handed over in batches (fewer thread switches) through a bounded
queue: when hashing falls behind, the transfer waits rather than holding more of the body in
memory (at most ``BATCH * (WAITING + 2)`` blocks, 2.5 MiB with the transport's 256 KiB).
"""

from __future__ import annotations

import hashlib
import queue
import threading
from typing import BinaryIO, Final

__all__ = ["Sink"]

BATCH: Final = 2
WAITING: Final = 4


class Sink:
    """``write(block)`` from the receiving thread; then ``hexdigest()``, or ``abandon()`` when
    the transfer failed. One of the two must be called on every path: they stop the thread."""

    def __init__(self, dest: BinaryIO) -> None:
        self._write = dest.write
        self._hash = hashlib.sha256()
        self._queue: queue.Queue[list[bytes] | None] = queue.Queue(maxsize=WAITING)
        self._batch: list[bytes] = []
        self._abandoned = False
        self._thread = threading.Thread(target=self._run, name="babysea-sha256", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        get, update = self._queue.get, self._hash.update
        while (batch := get()) is not None:
            if not self._abandoned:
                for block in batch:
                    update(block)

    def write(self, block: bytes) -> None:
        self._write(block)
        batch = self._batch
        batch.append(block)
        if len(batch) >= BATCH:
            self._queue.put(batch)
            self._batch = []

    def _stop(self) -> None:
        if self._thread.is_alive():
            if self._batch:
                self._queue.put(self._batch)
                self._batch = []
            self._queue.put(None)
            self._thread.join()

    def hexdigest(self) -> str:
        self._stop()
        return self._hash.hexdigest()

    def abandon(self) -> None:
        """Stop the thread without hashing what is still queued."""
        self._abandoned = True
        self._batch = []
        self._stop()
