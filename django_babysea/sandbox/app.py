"""The :class:`Sandbox` object: one region's listener plus the driving helpers tests use."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from types import TracebackType
from typing import Any

from django_babysea.sandbox.config import DEFAULT_BALANCE, SandboxConfig, WebhookSpec
from django_babysea.sandbox.control import SEED_MODEL, Driver
from django_babysea.sandbox.defaults import DEMO_WEBHOOK_SECRET
from django_babysea.sandbox.extra import require_extra
from django_babysea.sandbox.faults.injection import Fault
from django_babysea.sandbox.http.server import SandboxHTTPServer, serve
from django_babysea.sandbox.state.accounts import KeyRegistry, KeySpec, default_key_specs
from django_babysea.sandbox.state.agenda import Retention
from django_babysea.sandbox.state.region import Region

__all__ = ["Sandbox"]

WebhookArg = str | tuple[str, str] | WebhookSpec


def _webhook_specs(webhooks: Iterable[WebhookArg]) -> list[WebhookSpec]:
    specs = []
    for hook in webhooks:
        if isinstance(hook, WebhookSpec):
            specs.append(hook)
        elif isinstance(hook, str):
            specs.append(WebhookSpec(hook))
        else:
            specs.append(WebhookSpec(hook[0], hook[1] or DEMO_WEBHOOK_SECRET))
    return specs


def _retention(value: Retention | Mapping[str, float] | None) -> Retention:
    if value is None:
        return Retention()
    if isinstance(value, Retention):
        return value
    return Retention(**dict(value))


class Sandbox:
    """A stateful local BabySea API for one region.

    ``with Sandbox(speed=0) as sandbox: BabySea(api_key=sandbox.api_key, base_url=sandbox.url)``
    """

    def __init__(
        self,
        api_keys: Iterable[str | KeySpec] | str | None = None,
        webhooks: Iterable[WebhookArg] = (),
        speed: float = 1.0,
        seed: int | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        region: str = "us",
        plan: str = "pro",
        balance: Decimal | str | float = DEFAULT_BALANCE,
        *,
        rate_limit: int = 60,
        rate_window: float = 60.0,
        auth_failure_limit: int = 30,
        concurrency: tuple[int, int] | None = None,
        cancel_window: float = 600.0,
        retention: Retention | Mapping[str, float] | None = None,
        stale_after: float = 900.0,
        webhook_speed: float = 1.0,
        webhook_timeout: float = 10.0,
        auto_advance: bool = True,
        low_balance_thresholds: Iterable[Decimal | str | float] = ("0.50",),
        low_balance_webhook: bool = True,
        max_body_bytes: int = 100 * 1024,
        public_url: str | None = None,
        key_registry: KeyRegistry | None = None,
    ) -> None:
        self.config = SandboxConfig(
            keys=default_key_specs(api_keys),
            webhooks=_webhook_specs(webhooks),
            region=region,
            plan=plan,
            balance=Decimal(str(balance)),
            speed=speed,
            webhook_speed=webhook_speed,
            webhook_timeout=webhook_timeout,
            seed=seed,
            rate_limit=rate_limit,
            rate_window=rate_window,
            auth_failure_limit=auth_failure_limit,
            concurrency=concurrency,
            cancel_window=cancel_window,
            retention=_retention(retention),
            stale_after=stale_after,
            auto_advance=auto_advance,
            low_balance_thresholds=tuple(Decimal(str(t)) for t in low_balance_thresholds),
            low_balance_webhook=low_balance_webhook,
            max_body_bytes=max_body_bytes,
        )
        self.host, self.port = host, port
        self.registry = key_registry if key_registry is not None else KeyRegistry()
        self._public_url = public_url
        self._region: Region | None = None
        self._server: SandboxHTTPServer | None = None

    # -- running ---------------------------------------------------------------------------
    def start(self) -> Sandbox:
        """Listen and run; raises :class:`~.extra.MissingExtra` without the ``[sandbox]``
        extra, which every output file needs."""
        if self._server is not None:
            return self
        require_extra()
        region = Region(self.config, self.registry)
        server, _ = serve(self.host, self.port, region)
        self.port = server.server_address[1]
        region.base_url = (self._public_url or self._origin()).rstrip("/")
        region.start()
        self._region, self._server = region, server
        return self

    def _origin(self) -> str:
        wildcard = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}  # noqa: S104
        host = wildcard.get(self.host, self.host)
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    def stop(self) -> None:
        server, region = self._server, self._region
        self._server = None
        if server is not None:
            server.shutdown()
            server.server_close()
            server.close_connections()
        if region is not None:
            region.stop()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def sibling(self, region: str, api_keys: Iterable[str | KeySpec] | str, **kw: Any) -> Sandbox:
        """Another region's listener sharing only this sandbox's key registry."""
        kw.setdefault("speed", self.config.speed)
        kw.setdefault("webhook_speed", self.config.webhook_speed)
        specs = [KeySpec(s.key, s.preset, region, s.account) for s in default_key_specs(api_keys)]
        return Sandbox(api_keys=specs, region=region, key_registry=self.registry, **kw)

    # -- identity --------------------------------------------------------------------------
    @property
    def region(self) -> Region:
        if self._region is None:
            raise RuntimeError("the sandbox is not running; call start() or use it as a context")
        return self._region

    @property
    def driver(self) -> Driver:
        if self._server is None:
            raise RuntimeError("the sandbox is not running; call start() or use it as a context")
        return self._server.driver

    @property
    def url(self) -> str:
        """The origin clients use as ``base_url`` (no trailing slash, no ``/v1``)."""
        return self.region.base_url

    @property
    def api_key(self) -> str:
        mine = [
            s for s in self.config.keys if (s.region or self.config.region) == self.config.region
        ]
        return (mine or self.config.keys)[0].key

    @property
    def webhook_secret(self) -> str:
        hooks = self.config.webhooks
        return hooks[0].secret if hooks else DEMO_WEBHOOK_SECRET

    @property
    def speed(self) -> float:
        return self.region.timing.speed

    @speed.setter
    def speed(self, value: float) -> None:
        self.region.timing.speed = value

    @property
    def auto_advance(self) -> bool:
        return self.region.scheduler.auto_advance

    @auto_advance.setter
    def auto_advance(self, value: bool) -> None:
        self.region.scheduler.auto_advance = value
        self.region.scheduler.wake()

    # -- driving ---------------------------------------------------------------------------
    def advance(
        self, generation_id: str, to: str = "succeeded", error_code: str | None = None
    ) -> dict[str, Any]:
        return self.driver.advance(generation_id, to, error_code)

    def tick(self) -> int:
        return self.driver.tick()

    def run_until_idle(self, timeout: float = 10.0) -> None:
        self.driver.run_until_idle(timeout)

    def travel(self, seconds: float) -> None:
        """Move the sandbox clock forward (cancel window, retention, stale jobs, 24 h keys)."""
        self.driver.travel(seconds)

    def inject(self, fault: Fault | dict[str, Any] | str, **params: Any) -> list[Fault]:
        return self.driver.inject(fault, **params)

    def clear_faults(self) -> None:
        self.region.faults.clear()

    def add_webhook(
        self, url: str, secret: str | None = None, events: Iterable[str] | None = None
    ) -> dict[str, Any]:
        chosen = list(events) if events is not None else None
        endpoint = self.driver.add_webhook(url, secret or self.webhook_secret, chosen)
        return endpoint.describe()

    def rotate_webhook_secret(self, endpoint_id: str, secret: str) -> dict[str, Any]:
        """Sign every later delivery attempt of the endpoint with ``secret`` (no overlap)."""
        return self.region.dispatcher.rotate(endpoint_id, secret).describe()

    def send_test_webhook(self, endpoint_id: str | None = None) -> int:
        return self.driver.send_test_webhook(endpoint_id)

    def add_key(self, key: str, preset: str = "full_access", **options: Any) -> dict[str, Any]:
        return self.driver.add_key(KeySpec(key, preset, self.config.region, **options))

    def received(self) -> list[dict[str, Any]]:
        return self.driver.received()

    def deliveries(self) -> list[dict[str, Any]]:
        return self.driver.deliveries()

    def wait_for_deliveries(
        self, count: int = 1, timeout: float = 5.0, **match: Any
    ) -> list[dict[str, Any]]:
        """Wait until ``count`` delivery attempts matching ``match`` (e.g. event=...) exist."""
        return self._wait(
            lambda: [d for d in self.deliveries() if all(d.get(k) == v for k, v in match.items())],
            count,
            timeout,
        )

    def _wait(
        self, fetch: Callable[[], list[dict[str, Any]]], count: int, timeout: float
    ) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            found = fetch()
            if len(found) >= count or time.monotonic() >= deadline:
                return found
            time.sleep(0.01)

    def set_balance(self, amount: Decimal | str | float, account: str = "default") -> Decimal:
        return self.driver.set_balance(amount, account)

    def balance(self, account: str = "default") -> Decimal:
        return self.driver.balance(account)

    def generation(self, generation_id: str) -> dict[str, Any] | None:
        return self.driver.generation(generation_id)

    def reset(self) -> None:
        self.driver.reset()

    def seed(self, count: int, account: str = "default", model: str = SEED_MODEL) -> int:
        """Store ``count`` succeeded generations at once (no webhooks, credits or latency)."""
        return self.driver.seed(count, account, model)
