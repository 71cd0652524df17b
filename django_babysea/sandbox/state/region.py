"""One region's data silo: accounts, generations, limits, faults and webhooks, wired together."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django_babysea.sandbox.config import SandboxConfig
from django_babysea.sandbox.contract.catalog import load_catalog
from django_babysea.sandbox.contract.errors import ApiError
from django_babysea.sandbox.faults.injection import FaultSet
from django_babysea.sandbox.http.ratelimit import AuthFailureLimiter, RateLimiter
from django_babysea.sandbox.state.accounts import PLANS, Account, ApiKey, KeyRegistry, KeySpec
from django_babysea.sandbox.state.clock import Clock, Ids
from django_babysea.sandbox.state.idempotency import IdempotencyStore
from django_babysea.sandbox.state.lifecycle import Event, Lifecycle, Timing
from django_babysea.sandbox.state.records import Store
from django_babysea.sandbox.state.scheduler import Scheduler
from django_babysea.sandbox.webhooks.dispatcher import Dispatcher

if TYPE_CHECKING:
    from django_babysea.sandbox.media.render import MediaCache

__all__ = ["Caller", "Region"]


@dataclass
class Caller:
    key: ApiKey
    account: Account
    rate_headers: dict[str, str]


class Region:
    """Everything one listener serves; shares only the key registry with other regions."""

    def __init__(self, config: SandboxConfig, registry: KeyRegistry) -> None:
        self.config = config
        self.name = config.region
        self.registry = registry
        self.catalog = load_catalog()
        self.clock = Clock()
        self.ids = Ids(config.seed)
        self.faults = FaultSet(config.seed)
        self.store = Store(retention=config.retention)
        self.idempotency = IdempotencyStore()
        self.rate = RateLimiter(config.rate_limit, config.rate_window)
        self.auth_failures = AuthFailureLimiter(
            config.auth_failure_limit, config.auth_failure_window
        )
        self.timing = Timing(config.speed)
        self.base_url = ""
        self.started_at = self.clock.now()
        self.dispatcher = Dispatcher(
            self.ids,
            self.clock,
            self.faults,
            speed=config.webhook_speed,
            timeout=config.webhook_timeout,
        )
        cancel_methods = {p: v.cancel_method for p, v in self.catalog.providers.items()}
        self.lifecycle = Lifecycle(
            self.clock,
            self.ids,
            self.faults,
            self.timing,
            lambda: self.base_url,
            cancel_methods,
            self.store.agenda,
        )
        self.scheduler = Scheduler(
            self.store,
            self.lifecycle,
            self.idempotency,
            self.publish,
            retention=config.retention,
            stale_after=config.stale_after,
            auto_advance=config.auto_advance,
        )
        self._media: MediaCache | None = None
        self.extra_keys: list[KeySpec] = []
        self.populate()

    # -- setup -----------------------------------------------------------------------------
    def populate(self) -> None:
        """Create the configured keys, accounts and webhook endpoints (also after a reset)."""
        for spec in [*self.config.keys, *self.extra_keys]:
            if (spec.region or self.name) != self.name:
                continue
            self.account(spec.account)
            key = ApiKey(spec, self.name, self.ids.uuid(), self.started_at)
            self.registry.register(key)
        for hook in self.config.webhooks:
            self.account(hook.account)
            self.dispatcher.add_endpoint(hook.url, hook.secret, hook.events, hook.account)

    def account(self, name: str) -> Account:
        with self.store.lock:
            existing = self.store.accounts.get(name)
            if existing is not None:
                return existing
            now = self.clock.now()
            created = Account(
                name=name,
                account_id=self.ids.uuid(),
                region=self.name,
                plan=PLANS[self.config.plan],
                balance=self.config.balance,
                created_at=now,
                updated_at=now,
                thresholds=list(self.config.low_balance_thresholds),
                low_balance_webhook=self.config.low_balance_webhook,
            )
            self.store.accounts[name] = created
            return created

    def add_key(self, spec: KeySpec) -> ApiKey:
        if (spec.region or self.name) != self.name:
            raise ValueError(f"this listener serves region {self.name}, not {spec.region}")
        self.extra_keys.append(spec)
        self.account(spec.account)
        key = ApiKey(spec, self.name, self.ids.uuid(), self.clock.now())
        self.registry.register(key)
        return key

    @property
    def media(self) -> MediaCache:
        if self._media is None:
            from django_babysea.sandbox.media.render import MediaCache

            self._media = MediaCache(max_bytes=self.config.media_cache_bytes)
        return self._media

    def publish(self, events: list[Event]) -> None:
        for event in events:
            self.dispatcher.publish(event.account, event.event, event.data, event.generation_id)

    # -- gates -----------------------------------------------------------------------------
    def authenticate(self, headers: Any, client_ip: str) -> tuple[ApiKey, Account]:
        """BSE1006, then BSE1001/1002 (counted per IP), BSE1008 and BSE1007."""
        now = self.clock.now()
        self.auth_failures.check(client_ip, now)
        authorization = (headers.get("Authorization") or "").strip()
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            self.auth_failures.failed(client_ip, now)
            raise ApiError("BSE1001")
        key = self.registry.lookup(token)
        valid = key is not None and key.region == self.name and not key.spec.revoked
        if key is None or not valid or (key.spec.expires_at or now + 1) <= now:
            self.auth_failures.failed(client_ip, now)
            raise ApiError("BSE1002")
        with self.store.lock:
            account = self.store.accounts.get(key.spec.account)
        if account is None or account.deleted:
            raise ApiError("BSE1008")
        if key.spec.allowed_ips and not _ip_allowed(client_ip, key.spec.allowed_ips):
            raise ApiError("BSE1007", details={"ip": client_ip})
        self.registry.touch(key, now)
        return key, account

    def concurrency_cap(self, account: Account, media_type: str) -> int:
        caps = self.config.concurrency or (account.plan.image_cap, account.plan.video_cap)
        return caps[0] if media_type == "image" else caps[1]

    # -- lifecycle of the region -----------------------------------------------------------
    def start(self) -> None:
        self.scheduler.start()

    def stop(self) -> None:
        self.scheduler.stop()
        self.dispatcher.stop()

    def reset(self) -> None:
        """Back to the configured state: records, logs, limits, faults and webhooks cleared."""
        with self.store.lock:
            self.store.clear()
            self.idempotency.clear()
            self.rate.clear()
            self.auth_failures.clear()
            self.faults.clear()
            self.dispatcher.clear()
            self.clock.reset()
            self.ids.reseed()
            self.started_at = self.clock.now()
            self.populate()


def _ip_allowed(client_ip: str, allowed: tuple[str, ...]) -> bool:
    try:
        address = ipaddress.ip_address(client_ip)
    except ValueError:
        return False
    for entry in allowed:
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False
