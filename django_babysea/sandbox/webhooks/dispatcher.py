"""Signed webhook deliveries (contract section 7) on a background pool, with the retry schedule."""

from __future__ import annotations

import json
import ssl
import threading
from collections import deque
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any, Final

import httpx

from django_babysea.client.webhooks import SIGNATURE_HEADER, sign
from django_babysea.sandbox.faults.injection import FaultSet
from django_babysea.sandbox.state.clock import Clock, Ids, iso
from django_babysea.sandbox.webhooks.timers import Timers

__all__ = ["EVENTS", "GENERATION_EVENTS", "Delivery", "Dispatcher", "Endpoint"]

GENERATION_EVENTS: Final = frozenset(
    {"generation.started", "generation.completed", "generation.failed", "generation.canceled"}
)
TERMINAL_EVENTS: Final = GENERATION_EVENTS - {"generation.started"}
EVENTS: Final = GENERATION_EVENTS | {"credits.low_balance"}
DELAYS: Final = (0.0, 1.0, 4.0, 16.0, 60.0)
DLQ_TTL: Final = 72 * 3600.0
USER_AGENT: Final = "BabySea-Webhooks/1.0 (sandbox)"


@dataclass
class Endpoint:
    id: str
    url: str
    secret: str = field(repr=False)
    account: str = "default"
    events: frozenset[str] | None = None
    enabled: bool = True
    consecutive_failures: int = 0
    queue: list[dict[str, Any]] = field(default_factory=list)

    def wants(self, event: str) -> bool:
        return event in (self.events if self.events is not None else EVENTS)

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "url": self.url,
            "account": self.account,
            "events": sorted(self.events) if self.events is not None else sorted(EVENTS),
            "enabled": self.enabled,
            "consecutive_failures": self.consecutive_failures,
            "queued": sum(1 for q in self.queue if q["status"] == "pending"),
        }


@dataclass
class Delivery:
    endpoint: Endpoint
    event: str
    delivery_id: str
    timestamp: str
    body: bytes
    generation_id: str | None
    max_attempts: int = len(DELAYS)
    attempt: int = 0
    chain: tuple[str, str] | None = None
    epoch: int = 0


class Dispatcher:
    """Publishes events to every subscribed endpoint; retries 0, 1, 4, 16, 60 s x ``speed``."""

    def __init__(
        self,
        ids: Ids,
        clock: Clock,
        faults: FaultSet,
        *,
        speed: float = 1.0,
        timeout: float = 10.0,
        disable_after: int = 15,
        workers: int = 16,
    ) -> None:
        self.ids, self.clock, self.faults = ids, clock, faults
        self.speed, self.timeout, self.disable_after = speed, timeout, disable_after
        self.endpoints: dict[str, Endpoint] = {}
        self._log: deque[dict[str, Any]] = deque(maxlen=10_000)
        self._chains: dict[tuple[str, str], deque[Delivery]] = {}
        self._held: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
        self._pending: dict[str | None, int] = {}
        self._cond = threading.Condition()
        self._epoch = 0
        self._timers = Timers(workers, "babysea-webhooks")
        self._http: httpx.Client | None = None

    # -- endpoints -------------------------------------------------------------------------
    def add_endpoint(
        self, url: str, secret: str, events: frozenset[str] | None, account: str
    ) -> Endpoint:
        if events is not None and not events <= EVENTS:
            raise ValueError(f"unknown event(s): {', '.join(sorted(events - EVENTS))}")
        endpoint = Endpoint(self.ids.uuid(), url, secret, account, events)
        with self._cond:
            self.endpoints[endpoint.id] = endpoint
        return endpoint

    def enable(self, endpoint_id: str) -> Endpoint:
        with self._cond:
            endpoint = self.endpoints[endpoint_id]
            endpoint.enabled, endpoint.consecutive_failures = True, 0
        return endpoint

    def rotate(self, endpoint_id: str, secret: str) -> Endpoint:
        """Switch the signing secret; every later attempt (retries too) uses the new one."""
        if not secret.startswith("whsec_") or len(secret) <= len("whsec_"):
            raise ValueError("webhook secrets look like whsec_ followed by a random string")
        with self._cond:
            endpoint = self.endpoints[endpoint_id]
            endpoint.secret = secret
        return endpoint

    def drain(self, endpoint_id: str) -> int:
        """Send the queued generation events sequentially, each with a fresh id and timestamp."""
        now = self.clock.now()
        with self._cond:
            endpoint = self.endpoints[endpoint_id]
            items = [q for q in endpoint.queue if q["status"] == "pending"]
            for item in items:
                item["status"] = "expired" if now - item["queued_at"] > DLQ_TTL else "delivered"
        sent = [i for i in items if i["status"] == "delivered"]
        for item in sent:
            self._start(self._delivery(endpoint, item["event"], item["data"], item["gen"]), True)
        return len(sent)

    # -- publishing ------------------------------------------------------------------------
    def _delivery(
        self, endpoint: Endpoint, event: str, data: dict[str, Any], generation_id: str | None
    ) -> Delivery:
        delivery_id, timestamp = self.ids.uuid(), iso(self.clock.now()) or ""
        payload = {
            "webhook_event": event,
            "webhook_timestamp": timestamp,
            "webhook_delivery_id": delivery_id,
            "webhook_data": data,
        }
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        attempts = 1 if event == "webhook.test" else len(DELAYS)
        return Delivery(
            endpoint,
            event,
            delivery_id,
            timestamp,
            body,
            generation_id,
            attempts,
            epoch=self._epoch,
        )

    def publish(
        self, account: str, event: str, data: dict[str, Any], generation_id: str | None = None
    ) -> None:
        """Serialise once per endpoint and deliver; honours out-of-order and duplicate faults."""
        if (
            generation_id
            and event == "generation.started"
            and self.faults.take("webhook_out_of_order", subject=generation_id, event=event)
        ):
            with self._cond:
                self._held.setdefault(generation_id, []).append((account, event, data))
            return
        self._publish_now(account, event, data, generation_id)
        if generation_id and event in TERMINAL_EVENTS:
            with self._cond:
                held = self._held.pop(generation_id, [])
            for item in held:
                self._publish_now(*item, generation_id)

    def _publish_now(
        self, account: str, event: str, data: dict[str, Any], generation_id: str | None
    ) -> None:
        with self._cond:
            targets = [e for e in self.endpoints.values() if e.account == account]
        for endpoint in targets:
            if not endpoint.wants(event):
                continue
            if not endpoint.enabled:
                self._queue(endpoint, event, data, generation_id)
                continue
            delivery = self._delivery(endpoint, event, data, generation_id)
            self._start_with_duplicate(delivery, ordered=generation_id is not None)

    def _start_with_duplicate(self, delivery: Delivery, ordered: bool) -> None:
        """Start ``delivery``; the duplicate fault sends the same id and body a second time."""
        self._start(delivery, ordered)
        duplicate = self.faults.take("webhook_duplicate", event=delivery.event)
        if duplicate is not None:
            copy = replace(delivery, chain=None, attempt=0)
            self._start(copy, ordered=not duplicate.concurrent)

    def _queue(
        self, endpoint: Endpoint, event: str, data: dict[str, Any], generation_id: str | None
    ) -> None:
        if event not in GENERATION_EVENTS:
            return
        item = {"event": event, "data": data, "gen": generation_id}
        with self._cond:
            endpoint.queue.append({**item, "queued_at": self.clock.now(), "status": "pending"})

    def send_test(self, account: str, data: dict[str, Any], endpoint_id: str | None = None) -> int:
        with self._cond:
            targets = [
                e
                for e in self.endpoints.values()
                if e.account == account and endpoint_id in (None, e.id)
            ]
        for endpoint in targets:
            delivery = self._delivery(endpoint, "webhook.test", data, None)
            self._start_with_duplicate(delivery, ordered=False)
        return len(targets)

    def replay(self, delivery_id: str) -> str:
        """Send a logged delivery again with a fresh delivery id, timestamp and signature."""
        with self._cond:
            entry = next((e for e in self._log if e["delivery_id"] == delivery_id), None)
            endpoint = self.endpoints.get(entry["endpoint_id"]) if entry else None
        if entry is None or endpoint is None:
            raise KeyError(delivery_id)
        payload = json.loads(entry["body"])
        delivery = self._delivery(
            endpoint, payload["webhook_event"], payload["webhook_data"], entry["generation_id"]
        )
        self._start(delivery, ordered=False)
        return delivery.delivery_id

    # -- attempts --------------------------------------------------------------------------
    def _start(self, delivery: Delivery, ordered: bool) -> None:
        with self._cond:
            self._pending[delivery.generation_id] = self._pending.get(delivery.generation_id, 0) + 1
            if ordered:
                delivery.chain = (delivery.endpoint.id, delivery.generation_id or "sequence")
                queue = self._chains.setdefault(delivery.chain, deque())
                queue.append(delivery)
                if len(queue) > 1:
                    return
        self._timers.call_later(0, lambda: self._attempt(delivery))

    def _attempt(self, delivery: Delivery) -> None:
        if delivery.epoch != self._epoch:
            return  # the sandbox was reset meanwhile
        delivery.attempt += 1
        status, error, signature = self._post(delivery)
        ok = status is not None and 200 <= status < 300
        self._record(delivery, status, error, signature, ok)
        if delivery.attempt == 1 and delivery.chain is not None:
            self._advance_chain(delivery.chain)
        if not ok and delivery.attempt < delivery.max_attempts:
            delay = DELAYS[delivery.attempt] * self.speed
            self._timers.call_later(delay, lambda: self._attempt(delivery))
            return
        self._finish(delivery, ok)

    def _post(self, delivery: Delivery) -> tuple[int | None, str | None, str]:
        with self._cond:
            secret = delivery.endpoint.secret
        signature = sign(secret, delivery.body)
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature,
            "X-BabySea-Event": delivery.event,
            "X-BabySea-Delivery-Id": delivery.delivery_id,
            "X-BabySea-Timestamp": delivery.timestamp,
            "User-Agent": USER_AGENT,
        }
        try:
            response = self._client().post(
                delivery.endpoint.url, content=delivery.body, headers=headers
            )
        except Exception as exc:  # a broken endpoint must not kill the pool
            return None, f"{type(exc).__name__}: {exc}".rstrip(": "), signature
        return response.status_code, None, signature

    def _record(
        self, delivery: Delivery, status: int | None, error: str | None, signature: str, ok: bool
    ) -> None:
        entry = {
            "endpoint_id": delivery.endpoint.id,
            "url": delivery.endpoint.url,
            "event": delivery.event,
            "delivery_id": delivery.delivery_id,
            "generation_id": delivery.generation_id,
            "attempt": delivery.attempt,
            "status_code": status,
            "error": error,
            "ok": ok,
            "signature": signature,
            "timestamp": delivery.timestamp,
            "at": iso(self.clock.now()),
            "body": delivery.body.decode("utf-8"),
        }
        with self._cond:
            self._log.append(entry)

    def _advance_chain(self, chain: tuple[str, str]) -> None:
        with self._cond:
            queue = self._chains.get(chain)
            if queue:
                queue.popleft()
            following = queue[0] if queue else None
            if not queue:
                self._chains.pop(chain, None)
        if following is not None:
            self._timers.call_later(0, lambda: self._attempt(following))

    def _finish(self, delivery: Delivery, ok: bool) -> None:
        with self._cond:
            endpoint = delivery.endpoint
            if ok:
                endpoint.consecutive_failures = 0
            else:
                endpoint.consecutive_failures += 1
                if endpoint.consecutive_failures >= self.disable_after:
                    endpoint.enabled = False
            left = self._pending.get(delivery.generation_id, 1) - 1
            if left:
                self._pending[delivery.generation_id] = left
            else:
                self._pending.pop(delivery.generation_id, None)
            self._cond.notify_all()

    # -- observation -----------------------------------------------------------------------
    def deliveries(self) -> list[dict[str, Any]]:
        with self._cond:
            return [dict(e) for e in self._log]

    def wait_idle(self, timeout: float, generation_id: str | None = None) -> bool:
        """Wait until every delivery (or every one of ``generation_id``) finished its attempts."""

        def idle() -> bool:
            if generation_id is not None:
                return generation_id not in self._pending
            return not self._pending and not self._held

        with self._cond:
            return self._cond.wait_for(idle, timeout)

    def clear(self) -> None:
        with self._cond:
            self._epoch += 1
            self.endpoints.clear()
            self._log.clear()
            self._held.clear()
            self._chains.clear()
            self._pending.clear()
            self._cond.notify_all()

    def _client(self) -> httpx.Client:
        with self._cond:
            if self._http is None:
                self._http = httpx.Client(
                    follow_redirects=False,
                    timeout=self.timeout,
                    trust_env=False,
                    verify=_ssl_context(),
                )
            return self._http

    def stop(self) -> None:
        self._timers.stop()
        with self._cond:
            http, self._http = self._http, None
        if http is not None:
            http.close()


@cache
def _ssl_context() -> ssl.SSLContext:
    """Built once per process: loading the CA bundle takes longer than starting a sandbox."""
    return httpx.create_ssl_context()
