"""Generation transitions (contract section 3): provider chain, failover, settle, events.

Every function here runs under the region lock and returns the webhook events it caused; the
caller publishes them after releasing the lock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from django_babysea.sandbox.contract.errors import PROVIDER_FAILURE_PHRASES, provider_error_item
from django_babysea.sandbox.faults.injection import FaultSet
from django_babysea.sandbox.state import ledger
from django_babysea.sandbox.state.agenda import Agenda
from django_babysea.sandbox.state.clock import Clock, Ids
from django_babysea.sandbox.state.records import Attempt, Generation

__all__ = ["Event", "Lifecycle", "Timing"]

#: Seconds before processing starts and per provider attempt, at ``speed`` 1.
LATENCY: Final = {"image": (0.4, 2.5), "video": (1.0, 8.0)}


@dataclass(frozen=True)
class Event:
    account: str
    event: str
    data: dict[str, Any]
    generation_id: str | None


@dataclass
class Timing:
    speed: float = 1.0


def _compact(data: dict[str, Any]) -> dict[str, Any]:
    """Inapplicable webhook fields are omitted, never null (section 7.5)."""
    return {k: v for k, v in data.items() if v is not None}


class Lifecycle:
    def __init__(
        self,
        clock: Clock,
        ids: Ids,
        faults: FaultSet,
        timing: Timing,
        base_url: Callable[[], str],
        cancel_methods: dict[str, str | None],
        agenda: Agenda,
    ) -> None:
        self.clock, self.ids, self.faults, self.timing = clock, ids, faults, timing
        self.agenda = agenda
        self.base_url = base_url
        self.cancel_methods = cancel_methods

    # -- provider chain --------------------------------------------------------------------
    def prediction_id(self, provider: str) -> str:
        if provider == "bfl":
            return "bfl_" + self.ids.hex(12)
        if provider == "byteplus":
            stamp = datetime.fromtimestamp(self.clock.now(), tz=UTC).strftime("%Y%m%d%H%M%S")
            return f"cgt-{stamp}-{self.ids.alnum(5)}"
        if provider == "replicate":
            return self.ids.alnum(14)
        if provider == "cloudflare":
            return "cf-" + self.ids.hex(16)
        if provider == "openai":
            return "img_" + self.ids.hex(24)
        return self.ids.uuid()

    def _facts(self, generation: Generation, provider: str, stage: str) -> dict[str, str]:
        return {
            "model": generation.model.identifier,
            "provider": provider,
            "first": generation.provider_order[0],
            "stage": stage,
        }

    def _failing(self, generation: Generation, provider: str, stage: str) -> str | None:
        facts = self._facts(generation, provider, stage)
        fault = self.faults.take("provider_failure", subject=generation.generation_id, **facts)
        return fault.code if fault is not None else None

    def submit(self, generation: Generation, start: int = 0) -> list[dict[str, Any]]:
        """Hand the job to the first provider from ``start`` that accepts it.

        Returns the ``provider_errors`` of the providers that rejected it; the job is accepted
        when ``generation.provider_index`` points at a provider afterwards.
        """
        errors: list[dict[str, Any]] = []
        for index in range(start, len(generation.provider_order)):
            provider = generation.provider_order[index]
            attempt = Attempt(provider, self.prediction_id(provider), self.clock.now())
            generation.attempts.append(attempt)
            self.agenda.attempted(generation, attempt)
            code = self._failing(generation, provider, "submit")
            if code is None:
                generation.provider_index = index
                generation.prediction_id = attempt.prediction_id
                return errors
            attempt.outcome, attempt.code = "rejected", code
            errors.append(provider_error_item(provider, code))
        generation.provider_index = len(generation.provider_order)
        return errors

    def _latency(self, generation: Generation, phase: int) -> float:
        return LATENCY[generation.model.media_type][phase] * self.timing.speed

    def _due(self, generation: Generation, at: float) -> None:
        generation.next_due = at
        self.agenda.due(generation)

    def schedule_start(self, generation: Generation) -> None:
        self._due(generation, self.clock.now() + self._latency(generation, 0))

    # -- transitions -----------------------------------------------------------------------
    def step(self, generation: Generation, *, force: bool = False) -> list[Event]:
        """Perform the next transition if it is due (or ``force``)."""
        due = generation.next_due
        if generation.terminal or due is None or (not force and due > self.clock.now()):
            return []
        if generation.status == "pending":
            return self.start(generation)
        return self._finish_attempt(generation)

    def start(self, generation: Generation) -> list[Event]:
        now = self.clock.now()
        generation.status, generation.started_at = "processing", now
        self._due(generation, now + self._latency(generation, 1))
        first = generation.attempts[0].provider if generation.attempts else None
        data = {
            "account_id": generation.account.account_id,
            "model_identifier": generation.model.identifier,
            "generation_provider_initialize": first,
            "generation_status": "processing",
            "generation_prediction_id": generation.prediction_id,
            "generation_id": generation.generation_id,
        }
        return [self._event(generation, "generation.started", data)]

    def _finish_attempt(self, generation: Generation) -> list[Event]:
        provider = generation.current_provider
        attempt = generation.attempts[-1]
        code = self._failing(generation, provider, "run") if provider else "BSE4001"
        if code is None:
            return self.succeed(generation)
        attempt.outcome, attempt.code = "failed", code
        self.submit(generation, generation.provider_index + 1)
        if generation.current_provider is not None:
            self._due(generation, self.clock.now() + self._latency(generation, 1))
            return []
        return self.fail(generation, *self._chain_failure(generation))

    def _chain_failure(self, generation: Generation) -> tuple[str, str]:
        failures = [a for a in generation.attempts if a.outcome in ("failed", "rejected")]
        if len(generation.provider_order) == 1 and failures:
            only = failures[-1]
            phrase = PROVIDER_FAILURE_PHRASES.get(only.code or "", "failed")
            return only.code or "BSE4001", f"The inference provider {only.provider} {phrase}."
        parts = [
            f"{a.provider} {PROVIDER_FAILURE_PHRASES.get(a.code or '', 'failed')}" for a in failures
        ]
        return "BSE4003", "All inference providers in the chain failed: " + ", ".join(parts) + "."

    def succeed(self, generation: Generation) -> list[Event]:
        now = self.clock.now()
        events = self.start(generation) if generation.status == "pending" else []
        generation.status, generation.completed_at, generation.next_due = "succeeded", now, None
        generation.provider_used = generation.current_provider or generation.attempts[-1].provider
        generation.attempts[-1].outcome = "used"
        generation.files_present = True
        ledger.charge(generation)
        self.agenda.settled(generation)
        data = {
            "account_id": generation.account.account_id,
            "model_identifier": generation.model.identifier,
            "generation_provider_used": generation.provider_used,
            "generation_status": "succeeded",
            "generation_prediction_id": generation.prediction_id,
            "generation_id": generation.generation_id,
            "generation_output_file": generation.output_urls(self.base_url()),
        }
        return [*events, self._event(generation, "generation.completed", data)]

    def fail(self, generation: Generation, code: str, message: str) -> list[Event]:
        now = self.clock.now()
        generation.status, generation.completed_at, generation.next_due = "failed", now, None
        generation.error_code, generation.error = code, message
        for attempt in generation.attempts:
            if attempt.outcome == "running":
                attempt.outcome, attempt.code = "failed", code
        ledger.refund(generation, now)
        self.agenda.settled(generation)
        data = {
            "account_id": generation.account.account_id,
            "model_identifier": generation.model.identifier,
            "generation_status": "failed",
            "generation_id": generation.generation_id,
            "generation_error": message,
            "generation_error_code": code,
        }
        return [self._event(generation, "generation.failed", data)]

    def cancel(self, generation: Generation) -> tuple[bool, bool, list[Event]]:
        """Cancel an in-flight generation: (provider_cancel_sent, credits_refunded, events)."""
        now = self.clock.now()
        provider = generation.current_provider
        sent = provider is not None and self.cancel_methods.get(provider) is not None
        generation.status, generation.completed_at, generation.next_due = "canceled", now, None
        for attempt in generation.attempts:
            if attempt.outcome == "running":
                attempt.outcome = "cancelled"
        refunded = ledger.refund(generation, now)
        self.agenda.settled(generation)
        data = {
            "account_id": generation.account.account_id,
            "model_identifier": generation.model.identifier,
            "generation_status": "canceled",
            "generation_prediction_id": generation.prediction_id,
            "generation_id": generation.generation_id,
            "credits_refunded": refunded,
        }
        return sent, refunded, [self._event(generation, "generation.canceled", data)]

    def advance(self, generation: Generation, to: str, error_code: str | None) -> list[Event]:
        """Force a transition from the driving API (ignores latencies, faults and windows)."""
        if generation.terminal:
            raise ValueError(f"generation is already {generation.status}")
        if to == "processing":
            if generation.status != "pending":
                raise ValueError(f"generation is already {generation.status}")
            return self.start(generation)
        if to == "succeeded":
            return self.succeed(generation)
        if to == "failed":
            code = error_code or "BSE4001"
            phrase = PROVIDER_FAILURE_PHRASES.get(code, "failed")
            provider = generation.current_provider or "the provider"
            return self.fail(generation, code, f"The inference provider {provider} {phrase}.")
        if to == "canceled":
            return self.cancel(generation)[2]
        raise ValueError("to must be processing, succeeded, failed or canceled")

    def _event(self, generation: Generation, name: str, data: dict[str, Any]) -> Event:
        return Event(generation.account.name, name, _compact(data), generation.generation_id)
