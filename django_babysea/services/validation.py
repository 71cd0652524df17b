"""Checks on values a caller hands to the services, run before anything is written.

A value the database would refuse (a model identifier longer than its column, a number out of
the integer range, an infinite float or a NUL character in JSON) raises ``ValueError`` with a
message naming it, instead of a backend-specific ``DatabaseError`` halfway through a write.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, Final

from django_babysea.models import Generation

__all__ = ["MAX_INTEGER", "check_limit", "check_model_identifier", "check_request"]

#: The largest integer every supported database stores (a signed 64-bit column).
MAX_INTEGER: Final = 2**63 - 1


def check_limit(value: int | None, name: str = "limit") -> int | None:
    """``value`` when it is None or an integer from 1 to :data:`MAX_INTEGER`."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be a whole number, not {value!r}.")
    if not 1 <= value <= MAX_INTEGER:
        raise ValueError(f"{name} must be between 1 and {MAX_INTEGER}, not {value}.")
    return value


def check_model_identifier(model: str) -> str:
    """The stripped identifier; it must fit the ``model_identifier`` column."""
    if not isinstance(model, str):
        raise ValueError(f"A model identifier is text like 'bfl/flux-schnell', not {model!r}.")
    model = model.strip()
    if not model:
        raise ValueError("A model identifier is required, e.g. 'bfl/flux-schnell'.")
    limit = Generation._meta.get_field("model_identifier").max_length
    if limit is not None and len(model) > limit:
        raise ValueError(
            f"The model identifier is {len(model)} characters long; at most {limit} are allowed."
        )
    if "\x00" in model:
        raise ValueError("The model identifier contains a NUL character.")
    return model


def check_request(request: Mapping[str, Any]) -> None:
    """Every value must be storable as JSON: finite numbers, text without NUL characters."""
    for key, value in request.items():
        problem = _json_problem(value)
        if problem is not None:
            raise ValueError(f"{key}: {problem}.")
    try:
        json.dumps(request, allow_nan=False)
    except (TypeError, ValueError) as exc:  # keys that are not text, and the like
        raise ValueError(f"The request cannot be stored as JSON: {exc}.") from None


def _json_problem(value: object) -> str | None:
    if value is None or isinstance(value, bool | int):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{value!r} is not a finite number"
    if isinstance(value, str):
        return "text contains a NUL character" if "\x00" in value else None
    if isinstance(value, list | tuple):
        return next(filter(None, map(_json_problem, value)), None)
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str) or "\x00" in key:
                return f"{key!r} is not a usable JSON key"
            problem = _json_problem(item)
            if problem is not None:
                return problem
        return None
    return f"a {type(value).__name__} cannot be stored as JSON"
