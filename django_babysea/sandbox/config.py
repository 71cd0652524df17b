"""Every knob of one sandbox region, with the documented defaults."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final

from django_babysea.sandbox.defaults import DEMO_WEBHOOK_SECRET
from django_babysea.sandbox.state.accounts import PLANS, REGIONS, KeySpec
from django_babysea.sandbox.state.agenda import Retention
from django_babysea.sandbox.webhooks.dispatcher import EVENTS

__all__ = ["DEFAULT_BALANCE", "SandboxConfig", "WebhookSpec"]

DEFAULT_BALANCE: Final = Decimal("100.000")


@dataclass(frozen=True)
class WebhookSpec:
    url: str
    secret: str = field(default=DEMO_WEBHOOK_SECRET, repr=False)
    events: frozenset[str] | None = None
    account: str = "default"

    def __post_init__(self) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise ValueError(f"webhook URL must start with http:// or https://: {self.url!r}")
        if not self.secret.startswith("whsec_") or len(self.secret) <= len("whsec_"):
            raise ValueError("webhook secrets look like whsec_ followed by a random string")
        if self.events is not None and not self.events <= EVENTS:
            raise ValueError(f"unknown webhook event(s): {', '.join(sorted(self.events - EVENTS))}")


@dataclass
class SandboxConfig:
    keys: list[KeySpec]
    webhooks: list[WebhookSpec] = field(default_factory=list)
    region: str = "us"
    plan: str = "pro"
    balance: Decimal = DEFAULT_BALANCE
    speed: float = 1.0
    webhook_speed: float = 1.0
    webhook_timeout: float = 10.0
    seed: int | None = None
    rate_limit: int = 60
    rate_window: float = 60.0
    auth_failure_limit: int = 30
    auth_failure_window: float = 60.0
    concurrency: tuple[int, int] | None = None
    cancel_window: float = 600.0
    retention: Retention = field(default_factory=Retention)
    stale_after: float = 900.0
    auto_advance: bool = True
    low_balance_thresholds: tuple[Decimal, ...] = (Decimal("0.500"),)
    low_balance_webhook: bool = True
    max_body_bytes: int = 100 * 1024
    media_cache_bytes: int = 256 * 1024 * 1024

    def __post_init__(self) -> None:
        if self.region not in REGIONS:
            raise ValueError(f"unknown region {self.region!r}; choose from {', '.join(REGIONS)}")
        if self.plan not in PLANS:
            raise ValueError(f"unknown plan {self.plan!r}; choose from {', '.join(PLANS)}")
        if self.balance < 0:
            raise ValueError("the balance never goes negative")
        if self.speed < 0 or self.webhook_speed < 0:
            raise ValueError("speeds must be zero or positive")
        if self.rate_limit < 1 or self.auth_failure_limit < 1:
            raise ValueError("limits must be at least 1")
        if len(self.low_balance_thresholds) > 10 or any(
            t <= 0 for t in self.low_balance_thresholds
        ):
            raise ValueError("at most 10 low-balance thresholds, all above zero")
