"""Waiting for a generation and walking pages: pure logic shared by both clients."""

from __future__ import annotations

from collections.abc import Callable

from .errors import ConfigurationError, GenerationFailedError, GenerationTimeoutError
from .types import Generation, GenerationPage

MIN_INTERVAL = 0.5
DEFAULT_WAIT_TIMEOUT = 600.0
DEFAULT_WAIT_INTERVAL = 2.0


class Poll:
    """One ``wait_for_generation`` run (contract section 8).

    :meth:`after` is given each fetched record: it returns ``None`` when the generation
    succeeded, the seconds to sleep before the next fetch while it runs, and raises
    :class:`GenerationFailedError` on ``failed``/``canceled`` or :class:`GenerationTimeoutError`
    when another interval would reach the deadline.
    """

    __slots__ = ("clock", "deadline", "generation_id", "interval", "timeout")

    def __init__(
        self, generation_id: str, timeout: float, interval: float, clock: Callable[[], float]
    ) -> None:
        if timeout <= 0:
            raise ConfigurationError("timeout must be a positive number of seconds.")
        self.generation_id = generation_id
        self.timeout = float(timeout)
        self.interval = max(float(interval), MIN_INTERVAL)
        self.clock = clock
        self.deadline = clock() + self.timeout

    def after(self, generation: Generation) -> float | None:
        status = generation.generation_status
        if status == "succeeded":
            return None
        if status in ("failed", "canceled"):
            raise GenerationFailedError(generation)
        if self.clock() + self.interval >= self.deadline:
            raise GenerationTimeoutError(
                self.generation_id, timeout=self.timeout, last_status=status
            )
        return self.interval


def next_offset(page: GenerationPage) -> int | None:
    """The offset of the page after ``page``, or ``None`` when it was the last one."""
    if not page.generations:
        return None
    offset = page.offset + len(page.generations)
    return offset if offset < page.total else None
