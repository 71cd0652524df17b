"""Accounts and API keys: scopes and presets (1.3), plans (3.4, 4.4), balances, regions (1.1)."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final

from django_babysea.sandbox.defaults import DEMO_API_KEY

__all__ = [
    "PLANS",
    "PRESETS",
    "REGIONS",
    "Account",
    "ApiKey",
    "KeyRegistry",
    "KeySpec",
    "Plan",
    "parse_key_spec",
]

REGIONS: Final = ("us", "eu", "jp")
KEY_PATTERN: Final = re.compile(r"^bye_[A-Za-z0-9_-]+$")

ALL_SCOPES: Final = frozenset(
    {
        "generation:write",
        "generation:read",
        "generation:delete",
        "account:read",
        "health:read",
        "library:read",
    }
)
PRESETS: Final[dict[str, frozenset[str]]] = {
    "full_access": ALL_SCOPES,
    "generate_only": frozenset({"generation:write", "generation:read", "library:read"}),
    "read_only": frozenset({"generation:read", "account:read", "health:read", "library:read"}),
    "monitor_only": frozenset({"health:read", "library:read"}),
}

HOUR: Final = 3600.0
DAY: Final = 86400.0


@dataclass(frozen=True)
class Plan:
    name: str
    billing_label: str | None
    output_retention: float
    record_retention: float
    image_cap: int
    video_cap: int


PLANS: Final[dict[str, Plan]] = {
    "free": Plan("free", "Free", 1 * HOUR, 1 * DAY, 2, 1),
    "starter": Plan("starter", "Starter Monthly", 12 * HOUR, 7 * DAY, 5, 2),
    "pro": Plan("pro", "Pro Monthly", 1 * DAY, 30 * DAY, 10, 4),
    "scale": Plan("scale", "Scale Monthly", 5 * DAY, 180 * DAY, 25, 10),
    "enterprise": Plan("enterprise", "Enterprise Monthly", 7 * DAY, 365 * DAY, 50, 20),
}


@dataclass(frozen=True)
class KeySpec:
    """How a key is registered: ``KEY[:PRESET[:REGION]]`` on the command line."""

    key: str = field(repr=False)
    preset: str = "full_access"
    region: str | None = None
    account: str = "default"
    name: str | None = None
    allowed_ips: tuple[str, ...] = ()
    expires_at: float | None = None
    revoked: bool = False

    def __post_init__(self) -> None:
        if not KEY_PATTERN.match(self.key):
            raise ValueError("API keys look like bye_ followed by letters, digits, _ or -")
        if self.preset not in PRESETS:
            raise ValueError(f"unknown preset {self.preset!r}; choose from {', '.join(PRESETS)}")
        if self.region is not None and self.region not in REGIONS:
            raise ValueError(f"unknown region {self.region!r}; choose from {', '.join(REGIONS)}")


def parse_key_spec(text: str) -> KeySpec:
    """``bye_x``, ``bye_x:generate_only`` or ``bye_x:read_only:eu``."""
    parts = text.split(":")
    if len(parts) > 3:
        raise ValueError("use KEY[:PRESET[:REGION]]")
    preset = parts[1] if len(parts) > 1 and parts[1] else "full_access"
    region = parts[2] if len(parts) > 2 and parts[2] else None
    return KeySpec(key=parts[0], preset=preset, region=region)


@dataclass
class ApiKey:
    spec: KeySpec
    region: str
    apikey_id: str
    created_at: float
    last_used_at: float | None = None
    deleted_account: bool = False

    @property
    def key(self) -> str:
        return self.spec.key

    @property
    def scopes(self) -> frozenset[str]:
        return PRESETS[self.spec.preset]

    @property
    def prefix(self) -> str:
        return self.spec.key[:9]


class KeyRegistry:
    """Every key of every region; the one thing regional listeners share."""

    def __init__(self) -> None:
        self._keys: dict[str, ApiKey] = {}
        self._lock = threading.Lock()

    def register(self, key: ApiKey) -> None:
        with self._lock:
            existing = self._keys.get(key.key)
            if existing is not None and existing.region != key.region:
                raise ValueError(f"key {key.prefix}... already belongs to region {existing.region}")
            self._keys[key.key] = key

    def lookup(self, token: str) -> ApiKey | None:
        with self._lock:
            return self._keys.get(token)

    def for_region(self, region: str) -> list[ApiKey]:
        with self._lock:
            return [k for k in self._keys.values() if k.region == region]

    def touch(self, key: ApiKey, now: float) -> None:
        with self._lock:
            key.last_used_at = now


@dataclass
class Account:
    """One account of one region: its balance (3 dp), plan, thresholds and webhook channel."""

    name: str
    account_id: str
    region: str
    plan: Plan
    balance: Decimal
    created_at: float
    updated_at: float
    thresholds: list[Decimal] = field(default_factory=list)
    fired: set[Decimal] = field(default_factory=set)
    low_balance_webhook: bool = True
    deleted: bool = False


def default_key_specs(keys: object) -> list[KeySpec]:
    """Normalise the ``api_keys`` argument of :class:`Sandbox` (None means the demo key)."""
    if keys is None:
        return [KeySpec(DEMO_API_KEY)]
    if isinstance(keys, str | KeySpec):
        keys = [keys]
    if not isinstance(keys, list | tuple | set | frozenset):
        raise TypeError("api_keys must be a key, a KeySpec, or a sequence of them")
    specs = [parse_key_spec(k) if isinstance(k, str) else k for k in keys]
    if not specs or not all(isinstance(s, KeySpec) for s in specs):
        raise ValueError("api_keys must name at least one key")
    return specs
