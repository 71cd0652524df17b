"""The background clock: due transitions, stale-job recovery (3.5) and retention (3.4).

It works from the region's :class:`~.agenda.Agenda`: each tick pops what is due and nothing
else, so its cost follows the work due, never the number of generations stored.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Final

from django_babysea.sandbox.state.agenda import HEALTH_WINDOW, Retention
from django_babysea.sandbox.state.idempotency import IdempotencyStore
from django_babysea.sandbox.state.lifecycle import Event, Lifecycle
from django_babysea.sandbox.state.records import Store

__all__ = ["Retention", "Scheduler"]

logger = logging.getLogger("django_babysea.sandbox")

#: Request logs feed ``/v1/usage``, whose longest period is 90 days.
LOG_WINDOW: Final = 90 * 86400.0
#: Transitions made per hold of the region lock; requests get the lock in between.
BATCH: Final = 500
#: The longest sleep: housekeeping (retention, stale jobs) needs no wake-up of its own.
IDLE: Final = 0.25


class Scheduler:
    def __init__(
        self,
        store: Store,
        lifecycle: Lifecycle,
        idempotency: IdempotencyStore,
        publish: Callable[[list[Event]], None],
        *,
        retention: Retention,
        stale_after: float = 900.0,
        auto_advance: bool = True,
    ) -> None:
        self.store, self.lifecycle, self.idempotency = store, lifecycle, idempotency
        self.agenda = store.agenda
        self.publish = publish
        self.retention = retention
        self.stale_after = stale_after
        self.auto_advance = auto_advance
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.agenda.on_earlier = self.wake

    # -- thread ----------------------------------------------------------------------------
    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="babysea-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def wake(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            # Cleared before the tick: a deadline added while it runs wakes the next wait.
            self._wake.clear()
            try:
                self.tick(advance=self.auto_advance)
            except Exception:  # keep the clock running whatever one transition did
                logger.exception("sandbox scheduler tick failed")
            self._wake.wait(self._sleep_for())

    def _sleep_for(self) -> float:
        if not self.auto_advance:
            return IDLE
        with self.store.lock:
            earliest = self.agenda.next_transition()
        if earliest is None:
            return IDLE
        return min(IDLE, max(0.0, earliest - self.lifecycle.clock.now()))

    # -- work ------------------------------------------------------------------------------
    def tick(self, *, advance: bool = True) -> int:
        """Run every transition that is due now, then housekeeping; returns transitions made."""
        done = 0
        while True:
            moved = 0
            with self.store.lock:
                events: list[Event] = []
                if advance:
                    now = self.lifecycle.clock.now()
                    for generation in list(self.agenda.transitions_due(now, BATCH)):
                        before = generation.status, generation.provider_index
                        events += self.lifecycle.step(generation)
                        moved += before != (generation.status, generation.provider_index)
                events += self._housekeeping()
            self.publish(events)
            done += moved
            if not moved:
                return done

    def force_all(self) -> int:
        """Finish every in-flight generation now, through the normal provider chain."""
        done = 0
        for _ in range(100):
            with self.store.lock:
                pending = list(self.agenda.in_flight.values())
                events: list[Event] = []
                for generation in pending:
                    events += self.lifecycle.step(generation, force=True)
            self.publish(events)
            done += len(pending)
            if not pending:
                break
        return done

    def _housekeeping(self) -> list[Event]:
        now = self.lifecycle.clock.now()
        events: list[Event] = []
        for generation in self.agenda.stale(now, self.stale_after):
            events += self.lifecycle.fail(
                generation,
                "BSE4002",
                "The generation did not finish in time and was failed by stale-job recovery.",
            )
        for generation in self.agenda.files_expired(now):
            if self.store.holds(generation) and generation.files_present:
                generation.files_present, generation.removed = False, True
        for generation in self.agenda.records_expired(now):
            self.store.remove(generation)
        logs = self.store.request_logs
        keep_logs = self.retention.records or LOG_WINDOW
        while logs and now - logs[0].at >= keep_logs:
            logs.popleft()
        self.idempotency.expire(now)
        self.agenda.forget_attempts(now - HEALTH_WINDOW)
        return events
