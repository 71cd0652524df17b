"""Remote figures of the dashboard: BabySea's balance, plan and health, cached briefly."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from django.core.cache import cache
from django.utils import timezone

from django_babysea.client import (
    BabySea,
    BabySeaError,
    ConfigurationError,
    NetworkError,
    RequestTimeoutError,
    ServerError,
)
from django_babysea.conf import babysea_settings
from django_babysea.services.connection import get_client
from django_babysea.services.ledger import to_credits

__all__ = [
    "REMOTE_TTL",
    "RemoteFigures",
    "RemoteStatus",
    "forget_remote_status",
    "remote_status",
]

#: Seconds the remote figures count as fresh.
REMOTE_TTL: Final = 60
#: Seconds a failure to reach BabySea is remembered, so a page reload does not wait again.
FAILURE_TTL: Final = 15
#: Seconds the last good remote figures are kept to show while BabySea is down.
LAST_KNOWN_TTL: Final = 24 * 3600
#: Errors that mean BabySea is unreachable or down: the other calls are not tried.
_DOWN: Final = (NetworkError, RequestTimeoutError, ServerError, ConfigurationError)


@dataclass(frozen=True)
class ProviderStatus:
    provider: str
    status: str
    failure_rate: float
    attempts: int
    failures: int


@dataclass(frozen=True)
class ModelStatus:
    model: str
    kind: str
    available: int
    providers: int

    @property
    def status(self) -> str:
        if self.providers and self.available == self.providers:
            return "healthy"
        return "degraded" if self.available else "unavailable"


@dataclass(frozen=True)
class RemoteFigures:
    fetched_at: datetime
    account_name: str = ""
    balance: Decimal | None = None
    plan: str = ""
    subscription_status: str = ""
    period_ends_at: datetime | None = None
    providers: tuple[ProviderStatus, ...] = ()
    models: tuple[ModelStatus, ...] = ()
    #: Sections BabySea refused (e.g. a key without ``health:read``), with the reason.
    problems: tuple[str, ...] = ()

    @property
    def unhealthy_models(self) -> list[ModelStatus]:
        return [m for m in self.models if m.status != "healthy"]


@dataclass(frozen=True)
class RemoteStatus:
    """What the dashboard shows of BabySea: figures (fresh, or the last known while ``error``
    says why BabySea could not be asked), or None when none were ever fetched."""

    figures: RemoteFigures | None
    error: str = ""
    cached: bool = field(default=False, compare=False)


def _cache_key(suffix: str) -> str:
    # One entry per account and endpoint; the key itself never goes into the cache key.
    identity = f"{babysea_settings.API_KEY}|{babysea_settings.REGION}|{babysea_settings.BASE_URL}"
    digest = hashlib.sha256(identity.encode()).hexdigest()[:24]
    return f"django_babysea:dashboard:{digest}:{suffix}"


def remote_status() -> RemoteStatus:
    """Balance, plan and health from BabySea, cached for :data:`REMOTE_TTL` seconds.

    Never raises for a BabySea error: the error becomes ``RemoteStatus.error`` and the last
    figures fetched (if any, within a day) are returned with it.
    """
    fresh_key, last_key = _cache_key("fresh"), _cache_key("last")
    cached = cache.get(fresh_key)
    if isinstance(cached, RemoteStatus):
        return RemoteStatus(cached.figures, cached.error, cached=True)
    try:
        figures = _fetch()
    except _DOWN as exc:
        last = cache.get(last_key)
        status = RemoteStatus(last if isinstance(last, RemoteFigures) else None, str(exc))
        cache.set(fresh_key, status, FAILURE_TTL)
        return status
    status = RemoteStatus(figures)
    cache.set(fresh_key, status, REMOTE_TTL)
    cache.set(last_key, figures, LAST_KNOWN_TTL)
    return status


def forget_remote_status() -> None:
    """Drop the fresh remote figures (not the last known ones): the next call asks BabySea."""
    cache.delete(_cache_key("fresh"))


def _fetch() -> RemoteFigures:
    """Ask BabySea; an error of one section (a scope the key lacks) leaves the others."""
    client = get_client()
    values: dict[str, Any] = {"fetched_at": timezone.now()}
    problems: list[str] = []
    for name, call in (
        ("account", _account),
        ("billing", _billing),
        ("providers", _providers),
        ("models", _models),
    ):
        try:
            values.update(call(client))
        except _DOWN:
            raise
        except BabySeaError as exc:
            problems.append(f"{name}: {exc}")
    return RemoteFigures(**values, problems=tuple(problems))


def _account(client: BabySea) -> dict[str, Any]:
    return {"account_name": client.account().account_name}


def _billing(client: BabySea) -> dict[str, Any]:
    billing = client.billing()
    return {
        "balance": to_credits(billing.billing_credit_balance),
        "plan": billing.billing_plan or "",
        "subscription_status": billing.billing_subscription_status or "",
        "period_ends_at": billing.billing_period_ends_at,
    }


def _providers(client: BabySea) -> dict[str, Any]:
    health = client.health.providers()
    return {
        "providers": tuple(
            ProviderStatus(
                p.provider, p.status, p.failure_rate, p.window.total_attempts, p.window.failures
            )
            for p in sorted(health.providers, key=lambda p: (p.status == "healthy", p.provider))
        )
    }


def _models(client: BabySea) -> dict[str, Any]:
    health = client.health.models()
    return {
        "models": tuple(
            ModelStatus(
                m.model_identifier,
                m.model_type,
                sum(1 for a in m.providers.values() if a.available),
                len(m.providers),
            )
            for m in sorted(health.models, key=lambda m: m.model_identifier)
        )
    }
