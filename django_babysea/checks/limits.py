"""Checks of the numeric limits, the output hosts and the on/off switches (E008)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.checks import CheckMessage, Tags, register

from django_babysea.conf import babysea_settings

from .base import TAG, error, settings_is_dict

#: key -> (whole numbers only, smallest value accepted, what is expected).
NUMBER_RULES: dict[str, tuple[bool, float, str]] = {
    "WEBHOOK_TOLERANCE": (True, 1, "a whole number of seconds, at least 1"),
    "TIMEOUT": (False, 0.001, "a positive number of seconds"),
    "MAX_RETRIES": (True, 0, "a whole number, 0 or more"),
    "MAX_RETRY_AFTER": (False, 0.001, "a positive number of seconds"),
    "MAX_OUTPUT_BYTES": (True, 1, "a positive whole number of bytes"),
    "DELIVERY_RETENTION_DAYS": (True, 1, "a whole number of days, at least 1"),
    "LEDGER_RETENTION_DAYS": (True, 1, "a whole number of days, at least 1"),
    "BUDGET_RETENTION_DAYS": (True, 1, "a whole number of days, at least 1"),
    "OUTPUT_RETENTION_HOURS": (False, 0.001, "a positive number of hours"),
    "COPY_TIMEOUT": (False, 1, "a number of seconds, at least 1"),
    "CATALOG_TTL": (False, 1, "a number of seconds, at least 1"),
}


def valid_number(value: object, whole: bool, minimum: float) -> bool:
    """A real, finite int (or float unless ``whole``) of at least ``minimum``.

    NaN compares false with everything and infinity passes any minimum, so both are refused
    explicitly: either would disable a timeout or a limit without a word.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if whole and not isinstance(value, int):
        return False
    return math.isfinite(value) and value >= minimum


@register(Tags.compatibility, TAG)
def check_limits(**kwargs: Any) -> list[CheckMessage]:
    if not settings_is_dict():
        return []
    messages: list[CheckMessage] = []
    for key, (whole, minimum, expected) in NUMBER_RULES.items():
        value = babysea_settings.get(key)
        if not valid_number(value, whole, minimum):
            messages.append(error(key, f"is {value!r}; expected {expected}.", None, 8))
    hosts = babysea_settings.get("OUTPUT_HOSTS")
    if (
        isinstance(hosts, str)
        or not isinstance(hosts, Sequence)
        or not all(isinstance(host, str) and host for host in hosts)
    ):
        messages.append(
            error("OUTPUT_HOSTS", "must be a list of host names.", "e.g. ['cdn.us.babysea.ai']", 8)
        )
    messages += _check_budget(babysea_settings.get("USER_DAILY_BUDGET"))
    if not isinstance(babysea_settings.get("KEEP_LOCAL_COPIES"), bool):
        messages.append(error("KEEP_LOCAL_COPIES", "must be True or False.", None, 8))
    # USE_CELERY, JOB_BACKEND and TASKS_QUEUE are checked together in jobs.py.
    return messages


def _check_budget(value: object) -> list[CheckMessage]:
    if value is None:
        return []
    try:
        # Decimal("NaN") > 0 raises and Decimal("Infinity") > 0 holds: finiteness first.
        budget = Decimal(str(value))
        ok = not isinstance(value, bool) and budget.is_finite() and budget > 0
    except InvalidOperation:
        ok = False
    if ok:
        return []
    return [
        error(
            "USER_DAILY_BUDGET",
            f"is {value!r}; expected None or a positive, finite number of credits.",
            None,
            8,
        )
    ]
