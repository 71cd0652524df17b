"""What comes due, in deadline order: transitions, stale jobs, file and record retention.

The scheduler must never look at every stored generation: with 100,000 records a create would
cost a scan. Every deadline therefore goes into a heap when it is set, and the scheduler pops
only the entries whose time has come. Entries are lazy: a generation whose due time moved, that
settled or that was removed meanwhile is recognised when its entry comes up and skipped, so no
update ever searches a heap.
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from django_babysea.sandbox.state.records import Attempt, Generation

__all__ = ["HEALTH_WINDOW", "Agenda", "Retention"]

#: Seconds of provider attempts the health routes report on.
HEALTH_WINDOW: Final = 300.0

Entry = tuple[float, int, "Generation"]


@dataclass
class Retention:
    """Overrides of the plan's windows in seconds (None keeps the plan's value)."""

    output_files: float | None = None
    records: float | None = None


class Agenda:
    """The deadlines of one region's generations; used under the region lock only."""

    def __init__(self, retention: Retention | None = None) -> None:
        self.retention = retention or Retention()
        #: Called when a new deadline is earlier than every other (the scheduler's wake-up).
        self.on_earlier: Callable[[], None] = lambda: None
        #: Generations the scheduler examined (popped entries, stale checks): a work counter.
        self.examined = 0
        self._order = itertools.count()
        self._transitions: list[Entry] = []
        self._files: list[Entry] = []
        self._records: list[Entry] = []
        self._attempts: deque[tuple[Attempt, Generation]] = deque()
        #: In-flight generations in creation order (dicts keep insertion order).
        self.in_flight: dict[str, Generation] = {}
        self._in_flight_counts: dict[tuple[str, str], int] = {}

    # -- keeping deadlines -----------------------------------------------------------------
    def due(self, generation: Generation) -> None:
        """``generation.next_due`` was just set: remember it."""
        if generation.next_due is None:
            return
        earliest = self._transitions[0][0] if self._transitions else None
        heapq.heappush(self._transitions, (generation.next_due, next(self._order), generation))
        if earliest is None or generation.next_due < earliest:
            self.on_earlier()

    def added(self, generation: Generation) -> None:
        """A generation was stored: its record window starts (and its in-flight slot)."""
        plan = generation.account.plan
        keep = self.retention.records or plan.record_retention
        heapq.heappush(self._records, (generation.created_at + keep, next(self._order), generation))
        if generation.terminal:
            self._files_kept(generation)
            return
        self.in_flight[generation.generation_id] = generation
        slot = (generation.account.name, generation.model.media_type)
        self._in_flight_counts[slot] = self._in_flight_counts.get(slot, 0) + 1

    def settled(self, generation: Generation) -> None:
        """A generation reached a terminal state (or was removed while in flight)."""
        if self.in_flight.pop(generation.generation_id, None) is generation:
            slot = (generation.account.name, generation.model.media_type)
            self._in_flight_counts[slot] -= 1
        if generation.terminal:
            self._files_kept(generation)

    def _files_kept(self, generation: Generation) -> None:
        if not generation.files_present or generation.completed_at is None:
            return
        keep = self.retention.output_files or generation.account.plan.output_retention
        entry = (generation.completed_at + keep, next(self._order), generation)
        heapq.heappush(self._files, entry)

    def attempted(self, generation: Generation, attempt: Attempt) -> None:
        """A provider attempt was made (the health routes count the recent ones)."""
        self._attempts.append((attempt, generation))

    # -- reading ---------------------------------------------------------------------------
    def in_flight_count(self, account: str, media_type: str) -> int:
        return self._in_flight_counts.get((account, media_type), 0)

    def next_transition(self) -> float | None:
        return self._transitions[0][0] if self._transitions else None

    def attempts_since(self, since: float) -> list[tuple[Attempt, Generation]]:
        """Attempts made at ``since`` or later, oldest first."""
        self.forget_attempts(since)
        return list(self._attempts)

    def forget_attempts(self, before: float) -> None:
        """Drop attempts made before ``before`` (the clock only moves forward, and the health
        window is their only reader)."""
        while self._attempts and self._attempts[0][0].at < before:
            self._attempts.popleft()

    # -- popping what is due ---------------------------------------------------------------
    def transitions_due(self, now: float, limit: int) -> Iterator[Generation]:
        """Generations whose transition is due, earliest first, at most ``limit``; an entry
        whose generation settled or moved its due time is dropped on the way."""
        heap = self._transitions
        given = 0
        while heap and heap[0][0] <= now and given < limit:
            due, _, generation = heapq.heappop(heap)
            self.examined += 1
            if generation.terminal or generation.next_due != due:
                continue  # settled, or re-entered with its new due time
            given += 1
            yield generation

    def stale(self, now: float, stale_after: float) -> list[Generation]:
        """In-flight generations older than ``stale_after``: the oldest come first."""
        found = []
        for generation in self.in_flight.values():
            self.examined += 1
            if now - generation.created_at <= stale_after:
                break
            found.append(generation)
        return found

    def files_expired(self, now: float) -> Iterator[Generation]:
        yield from self._pop(self._files, now)

    def records_expired(self, now: float) -> Iterator[Generation]:
        yield from self._pop(self._records, now)

    def _pop(self, heap: list[Entry], now: float) -> Iterator[Generation]:
        while heap and heap[0][0] <= now:
            self.examined += 1
            yield heapq.heappop(heap)[2]

    def clear(self) -> None:
        for heap in (self._transitions, self._files, self._records):
            heap.clear()
        self._attempts.clear()
        self.in_flight.clear()
        self._in_flight_counts.clear()
