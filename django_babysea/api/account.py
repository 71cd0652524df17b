"""``estimate/`` (BabySea's cost estimate) and ``budget/`` (the user's daily budget)."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request  # type: ignore[import-untyped]
from rest_framework.response import Response  # type: ignore[import-untyped]

from django_babysea.services import budget_status, estimate

from .errors import ApiError
from .views import BabySeaAPIView

__all__ = ["BudgetView", "EstimateView"]


def _invalid(field: str, message: str) -> ApiError:
    return ApiError(400, "invalid", "The request is not valid.", errors={field: [message]})


def _whole(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    try:
        value = int(raw)
    except ValueError:
        raise _invalid(name, "Give a whole number.") from None
    if value < 1:
        raise _invalid(name, "Give a number of 1 or more.")
    return value


def _flag(request: Request, name: str) -> bool | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise _invalid(name, "Give true or false.")


class EstimateView(BabySeaAPIView):
    """``GET ?model=&count=&duration=&resolution=&audio=``: BabySea's estimate; no credits used."""

    def get(self, request: Request) -> Response:
        model = (request.query_params.get("model") or "").strip()
        if not model:
            raise _invalid("model", "Choose a model.")
        result = estimate(
            model,
            count=_whole(request, "count"),
            duration=_whole(request, "duration"),
            resolution=request.query_params.get("resolution") or None,
            audio=_flag(request, "audio"),
        )
        fields: dict[str, Any] = {
            key: getattr(result, key)
            for key in (
                "model_identifier",
                "model_type",
                "assets_count",
                "cost_per_generation",
                "cost_total_consumed",
                "cost_per_second",
                "duration_seconds",
                "resolution",
                "credit_balance_can_afford",
            )
        }
        return Response(fields)


class BudgetView(BabySeaAPIView):
    """``GET``: today's budget of the user: limit, used, reserved, remaining, resets_at
    (``limit`` and ``remaining`` are null when ``USER_DAILY_BUDGET`` is not set)."""

    def get(self, request: Request) -> Response:
        state = budget_status(request.user)

        def text(value: Any) -> str | None:
            return None if value is None else str(value)

        return Response(
            {
                "limit": text(state.limit),
                "used": text(state.used),
                "reserved": text(state.reserved),
                "remaining": text(state.remaining),
                "resets_at": state.resets_at.isoformat(),
            }
        )
