"""Driving the sandbox: the operations behind :class:`Sandbox` helpers and ``/_sandbox/`` routes.

Not part of BabySea's contract; loopback clients only.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from django_babysea.sandbox.contract.catalog import Model
from django_babysea.sandbox.defaults import DEMO_WEBHOOK_SECRET
from django_babysea.sandbox.faults.injection import PROFILES, Fault
from django_babysea.sandbox.state.accounts import Account, KeySpec
from django_babysea.sandbox.state.clock import iso
from django_babysea.sandbox.state.ledger import set_balance
from django_babysea.sandbox.state.records import Attempt, Generation
from django_babysea.sandbox.state.region import Region
from django_babysea.sandbox.webhooks.dispatcher import Endpoint

__all__ = ["Driver"]

WEBHOOK_TEST_ID = "00000000-0000-0000-0000-000000000000"
SEED_MODEL = "bfl/flux-schnell"
MAX_SEED = 1_000_000


class Driver:
    """Test and demo controls over one region."""

    def __init__(self, region: Region) -> None:
        self.region = region

    def _account(self, name: str) -> Account:
        with self.region.store.lock:
            account = self.region.store.accounts.get(name)
        if account is None:
            raise KeyError(f"no account named {name!r}")
        return account

    def generation(self, generation_id: str) -> dict[str, Any] | None:
        with self.region.store.lock:
            found = self.region.store.generations.get(generation_id)
            return found.raw(self.region.base_url) if found is not None else None

    def advance(self, generation_id: str, to: str, error_code: str | None = None) -> dict[str, Any]:
        region = self.region
        with region.store.lock:
            found = region.store.generations.get(generation_id)
            if found is None:
                raise KeyError(f"no generation {generation_id}")
            events = region.lifecycle.advance(found, to, error_code)
            raw = found.raw(region.base_url)
        region.publish(events)
        return raw

    def set_balance(self, amount: Decimal | str | float, account: str = "default") -> Decimal:
        try:
            value = Decimal(str(amount))
        except InvalidOperation:
            raise ValueError(f"not an amount: {amount!r}") from None
        target = self._account(account)
        with self.region.store.lock:
            set_balance(target, value, self.region.clock.now())
            return target.balance

    def balance(self, account: str = "default") -> Decimal:
        target = self._account(account)
        with self.region.store.lock:
            return target.balance

    def inject(self, fault: Fault | dict[str, Any] | str, **params: Any) -> list[Fault]:
        """A :class:`Fault`, a dict of its fields, a profile name, or a kind plus parameters."""
        faults = self.region.faults
        if isinstance(fault, str) and fault in PROFILES and not params:
            return faults.add_profile(fault)
        if isinstance(fault, str):
            return [faults.add(Fault.from_dict({"kind": fault, **params}))]
        if isinstance(fault, dict):
            if "profile" in fault:
                return faults.add_profile(str(fault["profile"]))
            return [faults.add(Fault.from_dict(fault))]
        return [faults.add(fault)]

    def add_webhook(
        self,
        url: str,
        secret: str = DEMO_WEBHOOK_SECRET,
        events: list[str] | frozenset[str] | None = None,
        account: str = "default",
    ) -> Endpoint:
        from django_babysea.sandbox.config import WebhookSpec

        spec = WebhookSpec(url, secret, frozenset(events) if events is not None else None, account)
        self.region.account(account)
        return self.region.dispatcher.add_endpoint(spec.url, spec.secret, spec.events, account)

    def send_test_webhook(self, endpoint_id: str | None = None, account: str = "default") -> int:
        target = self._account(account)
        data = {
            "account_id": target.account_id,
            "model_identifier": "bfl/flux-schnell",
            "generation_status": "succeeded",
            "generation_id": WEBHOOK_TEST_ID,
        }
        return self.region.dispatcher.send_test(account, data, endpoint_id)

    def add_key(self, spec: KeySpec) -> dict[str, Any]:
        key = self.region.add_key(spec)
        return {"prefix": key.prefix, "preset": spec.preset, "region": key.region}

    def delete_account(self, account: str) -> None:
        target = self._account(account)
        with self.region.store.lock:
            target.deleted = True

    def received(self) -> list[dict[str, Any]]:
        with self.region.store.lock:
            return [dict(e) for e in self.region.store.received]

    def deliveries(self) -> list[dict[str, Any]]:
        return self.region.dispatcher.deliveries()

    def tick(self) -> int:
        return self.region.scheduler.tick(advance=True)

    def run_until_idle(self, timeout: float = 10.0) -> None:
        """Finish every in-flight generation now and wait for webhook deliveries to settle."""
        self.region.scheduler.force_all()
        self.region.scheduler.tick(advance=True)
        if not self.region.dispatcher.wait_idle(timeout):
            raise TimeoutError(f"webhook deliveries still pending after {timeout} s")

    def travel(self, seconds: float) -> None:
        """Move the clock forward and apply what came due (transitions only when automatic)."""
        scheduler = self.region.scheduler
        self.region.clock.travel(seconds)
        scheduler.tick(advance=scheduler.auto_advance)
        scheduler.wake()

    def reset(self) -> None:
        self.region.reset()

    def seed(self, count: int, account: str = "default", model: str = SEED_MODEL) -> int:
        """Store ``count`` succeeded generations at once: no webhooks, no credits, no latency.

        For measuring the sandbox with a large state; each looks like a finished create of
        ``model`` (an image model) with its output files present.
        """
        if not isinstance(count, int) or not 1 <= count <= MAX_SEED:
            raise ValueError(f"count must be an integer from 1 to {MAX_SEED}")
        region = self.region
        found = region.catalog.get(model)
        if found is None or found.media_type != "image":
            raise ValueError(f"{model!r} is not an image model of the catalog")
        owner = region.account(account)
        with region.store.lock:
            for _ in range(count):
                generation = _seeded(region, owner, found)
                region.store.add(generation)
                region.store.agenda.attempted(generation, generation.attempts[0])
        return count

    def info(self) -> dict[str, Any]:
        region = self.region
        keys = [
            {"prefix": k.prefix, "preset": k.spec.preset, "account": k.spec.account}
            for k in region.registry.for_region(region.name)
        ]
        return {
            "url": region.base_url,
            "region": region.name,
            "speed": region.timing.speed,
            "auto_advance": region.scheduler.auto_advance,
            "clock": iso(region.clock.now()),
            "keys": keys,
            "webhooks": [e.describe() for e in region.dispatcher.endpoints.values()],
            "faults": region.faults.list(),
            "fault_profiles": sorted(PROFILES),
        }


def parse_body(raw: bytes | None) -> dict[str, Any]:
    if not raw or not raw.strip():
        return {}
    parsed = json.loads(raw)
    if not isinstance(parsed, dict):
        raise ValueError("the body must be a JSON object")
    return parsed


def _seeded(region: Region, owner: Account, model: Model) -> Generation:
    now = region.clock.now()
    provider = model.providers[0]
    prediction_id = region.lifecycle.prediction_id(provider)
    return Generation(
        generation_id=region.ids.uuid(),
        account=owner,
        model=model,
        prompt="seeded",
        ratio=model.ratios[0],
        output_format=model.output_formats[0],
        output_number=1,
        input_file=None,
        provider_order=[provider],
        created_at=now,
        cost=Decimal(0),
        reserved=Decimal(0),
        media_seed=region.ids.seed32(),
        status="succeeded",
        started_at=now,
        completed_at=now,
        attempts=[Attempt(provider, prediction_id, now, "used")],
        provider_used=provider,
        prediction_id=prediction_id,
        files_present=True,
        settlement="charged",
    )
