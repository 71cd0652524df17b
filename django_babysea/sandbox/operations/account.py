"""Account, usage, estimate and library operations (contract 2.2-2.6, 2.12, 2.13)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django_babysea.sandbox.contract.errors import ApiError, invalid
from django_babysea.sandbox.contract.pricing import cost_of, estimate_data, money
from django_babysea.sandbox.http.envelopes import Request, Response, success
from django_babysea.sandbox.operations.validation import check_duration, query_int
from django_babysea.sandbox.state.clock import iso
from django_babysea.sandbox.state.records import Generation, RequestLog
from django_babysea.sandbox.state.region import Caller, Region

__all__ = ["account", "billing", "estimate", "models", "providers", "status", "usage"]

Params = dict[str, str]


def status(region: Region, caller: Caller, request: Request, params: Params) -> Response:
    key = caller.key
    data = {
        "account_id": caller.account.account_id,
        "apikey_id": key.apikey_id,
        "apikey_name": key.spec.name or f"sandbox-{key.spec.preset.replace('_', '-')}",
        "apikey_prefix": key.prefix,
        "apikey_created_at": iso(key.created_at),
        "apikey_last_used_at": iso(key.last_used_at),
        "apikey_expires_at": iso(key.spec.expires_at),
    }
    return success(region.ids, region.clock, "API connected successfully", data)


def account(region: Region, caller: Caller, request: Request, params: Params) -> Response:
    acct = caller.account
    data = {
        "account_id": acct.account_id,
        "account_name": "Sandbox" if acct.name == "default" else f"Sandbox {acct.name}",
        "account_email": f"{acct.name}@sandbox.babysea.invalid",
        "account_is_personal": False,
        "account_picture_url": None,
        "account_created_at": iso(acct.created_at),
    }
    return success(region.ids, region.clock, "User account data retrieved successfully", data)


def _month_bounds(now: float) -> tuple[float, float]:
    moment = datetime.fromtimestamp(now, tz=UTC)
    start = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (
        start.replace(year=start.year + 1, month=1)
        if start.month == 12
        else start.replace(month=start.month + 1)
    )
    return start.timestamp(), end.timestamp()


def billing(region: Region, caller: Caller, request: Request, params: Params) -> Response:
    acct = caller.account
    with region.store.lock:
        balance, updated = acct.balance, acct.updated_at
    start, end = _month_bounds(region.clock.now())
    paid = acct.plan.name != "free"
    data = {
        "account_id": acct.account_id,
        "billing_plan": acct.plan.billing_label,
        "billing_credit_balance": money(balance),
        "billing_subscription_status": "active" if paid else None,
        "billing_cancel_at_period_end": False if paid else None,
        "billing_currency": "USD",
        "billing_period_starts_at": iso(start) if paid else None,
        "billing_period_ends_at": iso(end) if paid else None,
        "billing_created_at": iso(acct.created_at),
        "billing_updated_at": iso(updated),
    }
    return success(region.ids, region.clock, "User billing data retrieved successfully", data)


def _endpoint_rows(logs: list[RequestLog]) -> list[dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for entry in logs:
        row = rows.setdefault(
            entry.endpoint,
            {
                "endpoint": entry.endpoint,
                "total_requests": 0,
                "success_count": 0,
                "client_error_count": 0,
                "server_error_count": 0,
                "error_codes": Counter(),
            },
        )
        row["total_requests"] += 1
        if entry.status < 400:
            row["success_count"] += 1
        elif entry.status < 500:
            row["client_error_count"] += 1
        else:
            row["server_error_count"] += 1
        if entry.code:
            row["error_codes"][entry.code] += 1
    for row in rows.values():
        row["error_codes"] = dict(row["error_codes"])
    return list(rows.values())


def _provider_rows(generations: list[Generation]) -> list[dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    outcome_field = {"used": "used_count", "cancelled": "cancelled_count"}
    outcome_field |= {"discarded": "discarded_count", "failed": "failed_count"}
    outcome_field["rejected"] = "failed_count"
    for generation in generations:
        for attempt in generation.attempts:
            row = rows.setdefault(
                attempt.provider,
                {"provider": attempt.provider, "total_submissions": 0, "used_count": 0}
                | {"cancelled_count": 0, "discarded_count": 0, "failed_count": 0}
                | {"total_estimated_cost": Decimal(0), "wasted_estimated_cost": Decimal(0)},
            )
            row["total_submissions"] += 1
            if attempt.outcome in outcome_field:
                row[outcome_field[attempt.outcome]] += 1
            if attempt.outcome == "used":
                row["total_estimated_cost"] += generation.reserved
            elif attempt.outcome in ("failed", "cancelled", "discarded"):
                row["wasted_estimated_cost"] += generation.reserved
    for row in rows.values():
        row["total_estimated_cost"] = money(row["total_estimated_cost"])
        row["wasted_estimated_cost"] = money(row["wasted_estimated_cost"])
    return list(rows.values())


def usage(region: Region, caller: Caller, request: Request, params: Params) -> Response:
    days = query_int(request.query, "days", 30)
    if not 1 <= days <= 90:
        raise invalid("days", "days must be an integer between 1 and 90.")
    since = region.clock.now() - days * 86400
    acct = caller.account
    with region.store.lock:
        logs = region.store.logs_since(acct, since)
        generations = region.store.timeline(acct).since(since)[::-1]  # newest first
        balance = acct.balance
    charged = sum((g.reserved for g in generations if g.settlement == "charged"), Decimal(0))
    data = {
        "account_id": acct.account_id,
        "usage_period_days": days,
        "usage_credit_balance": money(balance),
        "usage_total_requests": len(logs),
        "usage_total_success": sum(1 for e in logs if e.status < 400),
        "usage_total_client_errors": sum(1 for e in logs if 400 <= e.status < 500),
        "usage_total_server_errors": sum(1 for e in logs if e.status >= 500),
        "usage_total_generations": len(generations),
        "usage_total_provider_submissions": sum(len(g.attempts) for g in generations),
        "usage_total_estimated_cost": money(charged),
        "usage_endpoints": _endpoint_rows(logs),
        "usage_providers": _provider_rows(generations),
    }
    return success(region.ids, region.clock, "API usage retrieved successfully", data)


def _bool_query(request: Request, name: str) -> bool | None:
    values = request.query.get(name)
    if not values:
        return None
    if values[0] not in ("true", "false"):
        raise invalid(name, f"{name} must be true or false.")
    return values[0] == "true"


def estimate(region: Region, caller: Caller, request: Request, params: Params) -> Response:
    identifier = params["model"]
    model = region.catalog.get(identifier)
    if model is None:
        raise ApiError(
            "BSE2014",
            f"Model {identifier} is not in the catalog.",
            details={"model_identifier": identifier},
        )
    count = min(100, max(1, query_int(request.query, "count", 1)))
    duration = resolution = audio = None
    if model.media_type == "video":
        raw = request.query.get("duration")
        if raw:
            duration = check_duration(query_int(request.query, "duration", 0), model, "duration")
    if model.resolutions and request.query.get("resolution"):
        resolution = request.query["resolution"][0]
        if resolution not in model.resolutions:
            raise invalid(
                "resolution", f"resolution must be one of {', '.join(model.resolutions)}."
            )
    if model.audio:
        audio = _bool_query(request, "audio")
    cost = cost_of(model, duration=duration, resolution=resolution, audio=audio)
    with region.store.lock:
        balance = caller.account.balance
    data = estimate_data(model, cost, count, balance)
    return success(region.ids, region.clock, "Cost estimate calculated successfully", data)


def providers(region: Region, caller: Caller, request: Request, params: Params) -> Response:
    items = region.catalog.providers_payload
    data = {"providers": items, "providers_total": len(items)}
    return success(region.ids, region.clock, "Providers retrieved successfully", data)


def models(region: Region, caller: Caller, request: Request, params: Params) -> Response:
    items = region.catalog.models_payload
    data = {"models": items, "models_total": len(items)}
    return success(region.ids, region.clock, "Models retrieved successfully", data)
