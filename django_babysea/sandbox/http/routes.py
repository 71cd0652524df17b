"""The 17 operations (contract 2.1): method, path pattern, scope, usage group and handler."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from django_babysea.sandbox.http.envelopes import Request, Response
from django_babysea.sandbox.operations import account, generations, health
from django_babysea.sandbox.state.region import Caller, Region

__all__ = ["ROUTES", "Route", "match"]

Handler = Callable[[Region, Caller, Request, dict[str, str]], Response]
UUID: Final = r"(?P<id>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"
MODEL: Final = r"(?P<model>[^?#]+)"


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    scope: str
    group: str
    handler: Handler


def _route(method: str, path: str, scope: str, group: str, handler: Handler) -> Route:
    return Route(method, re.compile(f"^{path}$"), scope, group, handler)


ROUTES: Final = (
    _route("GET", "/v1/status", "account:read", "/v1/status", account.status),
    _route("GET", "/v1/usage", "account:read", "/v1/usage", account.usage),
    _route("GET", "/v1/user/account", "account:read", "/v1/user", account.account),
    _route("GET", "/v1/user/billing", "account:read", "/v1/user", account.billing),
    _route("GET", f"/v1/estimate/{MODEL}", "library:read", "/v1/estimate", account.estimate),
    _route(
        "POST",
        f"/v1/generate/image/{MODEL}",
        "generation:write",
        "/v1/generate/image",
        generations.generate_image,
    ),
    _route(
        "POST",
        f"/v1/generate/video/{MODEL}",
        "generation:write",
        "/v1/generate/video",
        generations.generate_video,
    ),
    # /v1/content/list must be matched before /v1/content/{generation_id}.
    _route(
        "GET",
        "/v1/content/list",
        "generation:read",
        "/v1/content",
        generations.list_generations,
    ),
    _route("GET", f"/v1/content/{UUID}", "generation:read", "/v1/content", generations.get),
    _route("DELETE", f"/v1/content/{UUID}", "generation:delete", "/v1/content", generations.delete),
    _route(
        "POST",
        f"/v1/content/generation/cancel/{UUID}",
        "generation:delete",
        "/v1/content",
        generations.cancel,
    ),
    _route("GET", "/v1/library/providers", "library:read", "/v1/library", account.providers),
    _route("GET", "/v1/library/models", "library:read", "/v1/library", account.models),
    _route(
        "GET",
        "/v1/health/inference/providers",
        "health:read",
        "/v1/health",
        health.health_providers,
    ),
    _route("GET", "/v1/health/inference/models", "health:read", "/v1/health", health.health_models),
    _route("GET", "/v1/health/storage", "health:read", "/v1/health", health.storage),
    _route("GET", "/v1/health/cache", "health:read", "/v1/health", health.cache),
)


def match(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The first route whose method and path match; None means the edge's plain 403."""
    for route in ROUTES:
        if route.method != method:
            continue
        found = route.pattern.match(path)
        if found is not None:
            return route, found.groupdict()
    return None
