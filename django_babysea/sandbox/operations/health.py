"""Health operations (contract 2.14-2.17), computed from the sandbox's own provider attempts."""

from __future__ import annotations

from typing import Any, Final

from django_babysea.sandbox.http.envelopes import Request, Response, success
from django_babysea.sandbox.state.agenda import HEALTH_WINDOW
from django_babysea.sandbox.state.region import Caller, Region

__all__ = ["cache", "health_models", "health_providers", "storage"]

Params = dict[str, str]
WINDOW: Final = int(HEALTH_WINDOW)


def _provider_health(region: Region) -> dict[str, dict[str, Any]]:
    since = region.clock.now() - WINDOW
    counts: dict[str, list[int]] = {p: [0, 0] for p in region.catalog.providers}
    with region.store.lock:
        for attempt, generation in region.store.agenda.attempts_since(since):
            if attempt.outcome in ("running", "cancelled") or not region.store.holds(generation):
                continue  # the attempts of stored generations count, as in BabySea's records
            tally = counts.setdefault(attempt.provider, [0, 0])
            tally[0] += 1
            tally[1] += attempt.outcome in ("failed", "rejected")
    health: dict[str, dict[str, Any]] = {}
    for provider, (total, failures) in counts.items():
        rate = round(failures / total, 3) if total else 0.0
        if not total:
            state = "unknown"
        elif rate >= 0.3:
            state = "degraded"
        elif rate > 0.1:
            state = "recovering"
        else:
            state = "healthy"
        health[provider] = {
            "provider": provider,
            "status": state,
            "failure_rate": rate,
            "window": {
                "total_attempts": total,
                "failures": failures,
                "successes": total - failures,
                "duration_seconds": WINDOW,
            },
        }
    return health


def health_providers(region: Region, caller: Caller, request: Request, params: Params) -> Response:
    items = list(_provider_health(region).values())
    known = [i for i in items if i["status"] != "unknown"]
    data = {
        "service": "providers",
        "healthy": not known or any(i["status"] != "degraded" for i in known),
        "providers": items,
        "providers_total": len(items),
    }
    return success(region.ids, region.clock, "Provider health data retrieved successfully", data)


def health_models(region: Region, caller: Caller, request: Request, params: Params) -> Response:
    health = _provider_health(region)
    items: list[dict[str, Any]] = []
    for model in region.catalog.models.values():
        item: dict[str, Any] = {
            "model_identifier": model.identifier,
            "model_type": model.media_type,
        }
        if model.pricing is not None and not isinstance(model.pricing, dict):
            item["model_pricing"] = float(model.pricing)
        item["providers"] = {
            p: {
                "available": health.get(p, {}).get("status") != "degraded",
                "raw_model_id": model.raw_model_id(p),
            }
            for p in model.providers
        }
        items.append(item)
    data = {"service": "models", "healthy": True, "models": items, "models_total": len(items)}
    return success(region.ids, region.clock, "Model health data retrieved successfully", data)


def _latency(region: Region, low: int, high: int) -> int:
    return low + region.ids.bits(16) % (high - low + 1)


def storage(region: Region, caller: Caller, request: Request, params: Params) -> Response:
    data: dict[str, Any] = {
        "service": "storage",
        "healthy": True,
        "latency_ms": _latency(region, 20, 60),
        "bucket": f"generations-{region.name}",
    }
    if region.faults.take("storage_down", path=request.path) is not None:
        data.update(healthy=False, error="Storage bucket did not respond within the timeout.")
    return success(region.ids, region.clock, "Storage health data retrieved successfully", data)


def cache(region: Region, caller: Caller, request: Request, params: Params) -> Response:
    data: dict[str, Any] = {
        "service": "redis",
        "healthy": True,
        "latency_ms": _latency(region, 1, 6),
    }
    if region.faults.take("cache_down", path=request.path) is not None:
        data.update(healthy=False, error="Cache connection refused.")
    return success(region.ids, region.clock, "Cache health data retrieved successfully", data)
