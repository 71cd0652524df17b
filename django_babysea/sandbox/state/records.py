"""The records of one region: generations, request logs, and how a generation is serialised."""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

from django_babysea.sandbox.contract.catalog import Model
from django_babysea.sandbox.state.accounts import Account
from django_babysea.sandbox.state.agenda import Agenda, Retention
from django_babysea.sandbox.state.clock import iso

__all__ = ["TERMINAL", "Attempt", "Generation", "RequestLog", "Store", "Timeline"]

TERMINAL: Final = frozenset({"succeeded", "failed", "canceled"})
IN_FLIGHT: Final = frozenset({"pending", "processing"})


@dataclass
class Attempt:
    """One submission of a generation to one provider (for usage and health)."""

    provider: str
    prediction_id: str
    at: float
    outcome: str = "running"  # running, used, failed, rejected, cancelled, discarded
    code: str | None = None


@dataclass
class Generation:
    generation_id: str
    account: Account
    model: Model
    prompt: str
    ratio: str
    output_format: str
    output_number: int
    input_file: list[str] | None
    provider_order: list[str]
    created_at: float
    cost: Decimal
    reserved: Decimal
    media_seed: int
    duration: int | None = None
    resolution: str | None = None
    generate_audio: bool | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    status: str = "pending"
    started_at: float | None = None
    completed_at: float | None = None
    provider_index: int = 0
    attempts: list[Attempt] = field(default_factory=list)
    provider_used: str | None = None
    prediction_id: str | None = None
    error: str | None = None
    error_code: str | None = None
    removed: bool = False
    files_present: bool = False
    settlement: str | None = None  # "charged" or "refunded"
    next_due: float | None = None
    huge_size: int | None = None

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def current_provider(self) -> str | None:
        if self.provider_index < len(self.provider_order):
            return self.provider_order[self.provider_index]
        return None

    def file_names(self) -> list[str]:
        return [f"output-{i}.{self.output_format}" for i in range(self.output_number)]

    def output_urls(self, base_url: str) -> list[str] | None:
        if self.status != "succeeded" or not self.files_present:
            return None
        return [f"{base_url}/files/{self.generation_id}/{name}" for name in self.file_names()]

    def metrics(self) -> tuple[float | None, float | None]:
        if self.completed_at is None:
            return None, None
        total = round(self.completed_at - self.created_at, 3)
        predict = None
        if self.status == "succeeded" and self.started_at is not None:
            predict = round(self.completed_at - self.started_at, 3)
        return total, predict

    def record(self, base_url: str) -> dict[str, Any]:
        """The generation as ``GET /v1/content/{id}`` shows it (contract section 2.8)."""
        total, predict = self.metrics()
        data: dict[str, Any] = {
            "account_id": self.account.account_id,
            "generation_id": self.generation_id,
            "model_identifier": self.model.identifier,
            "generation_provider_order": list(self.provider_order),
            "generation_provider_used": self.provider_used,
            "generation_prediction_id": self.prediction_id,
            "generation_status": self.status,
            "generation_prompt": self.prompt,
            "generation_ratio": self.ratio,
            "generation_output_format": self.output_format,
            "generation_output_number": self.output_number,
            "generation_input_file": list(self.input_file) if self.input_file else None,
            "generation_output_file": self.output_urls(base_url),
            "generation_created_at": iso(self.created_at),
            "generation_started_at": iso(self.started_at),
            "generation_completed_at": iso(self.completed_at),
            "generation_metrics_total_time": total,
            "generation_metrics_predict_time": predict,
        }
        if self.duration is not None:
            data["generation_duration"] = self.duration
        if self.resolution is not None:
            data["generation_resolution"] = self.resolution
        if self.generate_audio is not None:
            data["generation_generate_audio"] = self.generate_audio
            data["generation_audio_mode"] = "audio" if self.generate_audio else "noaudio"
        if self.status == "failed":
            data["generation_error"] = self.error
            data["generation_error_code"] = self.error_code
        if self.removed:
            data["generation_removed"] = True
        for key, value in self.extras.items():
            data.setdefault(key, value)
        return data

    def raw(self, base_url: str) -> dict[str, Any]:
        """The record plus the sandbox's bookkeeping (for the driving API)."""
        data = self.record(base_url)
        data["_sandbox"] = {
            "account": self.account.name,
            "cost_per_generation": str(self.cost),
            "reserved": str(self.reserved),
            "settlement": self.settlement,
            "files_present": self.files_present,
            "next_due": iso(self.next_due),
            "huge_size": self.huge_size,
            "attempts": [
                {
                    "provider": a.provider,
                    "prediction_id": a.prediction_id,
                    "at": iso(a.at),
                    "outcome": a.outcome,
                    "code": a.code,
                }
                for a in self.attempts
            ],
        }
        return data


@dataclass
class RequestLog:
    at: float
    account: str
    endpoint: str
    status: int
    code: str | None


class Timeline:
    """One account's generations in creation order; retention removes them from the front."""

    def __init__(self) -> None:
        self._items: list[Generation] = []
        self._head = 0

    def __len__(self) -> int:
        return len(self._items) - self._head

    def append(self, generation: Generation) -> None:
        self._items.append(generation)

    def newest_first(self, offset: int, limit: int) -> list[Generation]:
        """A page of ``GET /v1/content/list``: a slice, whatever the number stored."""
        end = len(self._items) - offset
        start = max(self._head, end - limit)
        return self._items[start:end][::-1] if end > start else []

    def since(self, moment: float) -> list[Generation]:
        """Those created at ``moment`` or later (creation order is time order)."""
        first = bisect_left(self._items, moment, lo=self._head, key=lambda g: g.created_at)
        return self._items[first:]

    def remove(self, generation: Generation) -> None:
        if len(self) and self._items[self._head] is generation:
            self._head += 1
            if self._head > 1024 and self._head * 2 > len(self._items):
                del self._items[: self._head]  # amortised: each item is moved at most once
                self._head = 0
            return
        # Only when record windows do not end in creation order (never within one account).
        live = self._items[self._head :]
        live.remove(generation)
        self._items, self._head = live, 0


class Store:
    """Generations and logs of one region, guarded by one re-entrant lock.

    Besides the records it keeps the indexes that let every request path work on what it
    needs only: each account's generations in creation order and the region's agenda.
    """

    def __init__(self, received_limit: int = 10_000, retention: Retention | None = None) -> None:
        self.lock = threading.RLock()
        self.accounts: dict[str, Account] = {}
        self.generations: dict[str, Generation] = {}
        self.timelines: dict[str, Timeline] = {}
        self.agenda = Agenda(retention)
        self.request_logs: deque[RequestLog] = deque()
        self.received: deque[dict[str, Any]] = deque(maxlen=received_limit)

    def add(self, generation: Generation) -> None:
        self.generations[generation.generation_id] = generation
        self.timeline(generation.account).append(generation)
        self.agenda.added(generation)

    def remove(self, generation: Generation) -> None:
        """Forget a record (retention): from the records, its timeline and the agenda."""
        if self.generations.get(generation.generation_id) is not generation:
            return
        del self.generations[generation.generation_id]
        self.timeline(generation.account).remove(generation)
        self.agenda.settled(generation)

    def holds(self, generation: Generation) -> bool:
        return self.generations.get(generation.generation_id) is generation

    def timeline(self, account: Account) -> Timeline:
        found = self.timelines.get(account.name)
        if found is None:
            found = self.timelines[account.name] = Timeline()
        return found

    def in_flight(self, account: Account, media_type: str) -> int:
        return self.agenda.in_flight_count(account.name, media_type)

    def logs_since(self, account: Account, moment: float) -> list[RequestLog]:
        """The account's request logs from ``moment`` on (the log is in time order)."""
        found = []
        for entry in reversed(self.request_logs):
            if entry.at < moment:
                break
            if entry.account == account.name:
                found.append(entry)
        found.reverse()
        return found

    def get(self, account: Account, generation_id: str) -> Generation | None:
        generation = self.generations.get(generation_id)
        if generation is None or generation.account is not account:
            return None
        return generation

    def clear(self) -> None:
        self.accounts.clear()
        self.generations.clear()
        self.timelines.clear()
        self.agenda.clear()
        self.request_logs.clear()
        self.received.clear()
