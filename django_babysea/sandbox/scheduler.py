"""The background clock: due transitions, stale-job recovery (3.5) and retention (3.4)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from django_babysea.sandbox.idempotency import IdempotencyStore
from django_babysea.sandbox.lifecycle import Event, Lifecycle
from django_babysea.sandbox.state import Generation, Store

__all__ = ["Retention", "Scheduler"]

logger = logging.getLogger("django_babysea.sandbox")

#: Request logs feed ``/v1/usage``, whose longest period is 90 days.
LOG_WINDOW: Final = 90 * 86400.0


@dataclass
class Retention:
    """Overrides of the plan's windows in seconds (None keeps the plan's value)."""

    output_files: float | None = None
    records: float | None = None


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
        self.publish = publish
        self.retention = retention
        self.stale_after = stale_after
        self.auto_advance = auto_advance
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

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
            try:
                self.tick(advance=self.auto_advance)
            except Exception:  # keep the clock running whatever one transition did
                logger.exception("sandbox scheduler tick failed")
            self._wake.wait(self._sleep_for())
            self._wake.clear()

    def _sleep_for(self) -> float:
        if not self.auto_advance:
            return 0.25
        now = self.lifecycle.clock.now()
        with self.store.lock:
            dues = [
                g.next_due
                for g in self.store.generations.values()
                if not g.terminal and g.next_due is not None
            ]
        if not dues:
            return 0.25
        return min(0.25, max(0.0, min(dues) - now))

    # -- work ------------------------------------------------------------------------------
    def tick(self, *, advance: bool = True) -> int:
        """Run every transition that is due now, then housekeeping; returns transitions made."""
        done = 0
        while True:
            moved = 0
            with self.store.lock:
                events: list[Event] = []
                if advance:
                    for generation in self._in_flight():
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
                pending = self._in_flight()
                events: list[Event] = []
                for generation in pending:
                    events += self.lifecycle.step(generation, force=True)
            self.publish(events)
            done += len(pending)
            if not pending:
                break
        return done

    def _in_flight(self) -> list[Generation]:
        pending = [g for g in self.store.generations.values() if not g.terminal]
        pending.sort(key=lambda g: g.created_at)
        return pending

    def _housekeeping(self) -> list[Event]:
        now = self.lifecycle.clock.now()
        events: list[Event] = []
        expired: list[str] = []
        for generation in list(self.store.generations.values()):
            plan = generation.account.plan
            if not generation.terminal and now - generation.created_at > self.stale_after:
                events += self.lifecycle.fail(
                    generation,
                    "BSE4002",
                    "The generation did not finish in time and was failed by stale-job recovery.",
                )
            keep_files = self.retention.output_files or plan.output_retention
            completed = generation.completed_at
            if generation.files_present and completed and now - completed >= keep_files:
                generation.files_present, generation.removed = False, True
            keep_record = self.retention.records or plan.record_retention
            if now - generation.created_at >= keep_record:
                expired.append(generation.generation_id)
        for generation_id in expired:
            del self.store.generations[generation_id]
        logs = self.store.request_logs
        if logs:
            keep_logs = self.retention.records or LOG_WINDOW
            if now - logs[0].at >= keep_logs:
                self.store.request_logs = [entry for entry in logs if now - entry.at < keep_logs]
        self.idempotency.expire(now)
        return events
