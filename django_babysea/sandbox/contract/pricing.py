"""Cost of a generation and the estimate math of contract section 6.5."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Final

from django_babysea.sandbox.contract.catalog import Model
from django_babysea.sandbox.contract.errors import ApiError

__all__ = ["Cost", "cost_of", "estimate_data", "money", "round3"]

THOUSANDTH: Final = Decimal("0.001")


def round3(value: Decimal) -> Decimal:
    return value.quantize(THOUSANDTH, rounding=ROUND_HALF_UP)


def money(value: Decimal) -> float:
    """A 3-decimal amount as the JSON number BabySea sends."""
    return float(round3(value))


@dataclass(frozen=True)
class Cost:
    per_generation: Decimal
    per_second: Decimal | None
    duration: int | None
    resolution: str | None
    price_key: str | None


def _unpriced(model: Model) -> ApiError:
    return ApiError(
        "BSE2001",
        f"{model.identifier} has no pricing entry.",
        details={"reason": "model_not_priced"},
    )


def cost_of(
    model: Model, *, duration: int | None, resolution: str | None, audio: bool | None
) -> Cost:
    """Cost of one output. ``resolution``/``audio`` default to the model's (audio: on)."""
    price = model.pricing
    if price is None:
        raise _unpriced(model)
    if model.media_type == "image":
        if isinstance(price, Decimal):
            return Cost(round3(price), None, None, None, None)
        image_key = resolution or model.default_resolution
        if image_key is None or image_key not in price:
            raise _unpriced(model)
        return Cost(round3(price[image_key]), None, None, image_key, image_key)
    seconds = duration if duration is not None else model.durations[0]
    if isinstance(price, Decimal):
        return Cost(round3(price * seconds), price, seconds, None, None)
    chosen = resolution or model.default_resolution
    key = chosen or ""
    if model.audio:
        key = f"{key}_{'audio' if audio is None or audio else 'noaudio'}"
    if key not in price:
        raise _unpriced(model)
    per_second = price[key]
    return Cost(round3(per_second * seconds), per_second, seconds, chosen, key)


def estimate_data(model: Model, cost: Cost, count: int, balance: Decimal | None) -> dict[str, Any]:
    """The ``data`` object of ``GET /v1/estimate/{model}``."""
    total = round3(cost.per_generation * count)
    data: dict[str, Any] = {
        "model_identifier": model.identifier,
        "model_type": model.media_type,
        "assets_count": count,
    }
    if model.media_type == "video":
        assert cost.per_second is not None
        data["cost_per_second"] = money(cost.per_second)
        data["duration_seconds"] = cost.duration
        if model.resolution_priced and cost.resolution is not None:
            data["resolution"] = cost.resolution
    data["cost_per_generation"] = money(cost.per_generation)
    data["cost_total_consumed"] = money(total)
    if balance is None:
        data.update(
            credit_balance=None, credit_balance_can_afford=None, credit_balance_max_affordable=None
        )
        return data
    balance = round3(balance)
    max_affordable = math.floor(balance / cost.per_generation) if cost.per_generation > 0 else None
    data["credit_balance"] = money(balance)
    data["credit_balance_can_afford"] = balance >= total
    data["credit_balance_max_affordable"] = max_affordable
    return data
