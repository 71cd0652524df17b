"""E008 refuses NaN and infinity for every numeric setting, and checks MAX_RETRY_AFTER."""

from __future__ import annotations

from decimal import Decimal

import pytest

from .helpers import babysea_messages

NUMERIC_KEYS = (
    "WEBHOOK_TOLERANCE",
    "TIMEOUT",
    "MAX_RETRIES",
    "MAX_RETRY_AFTER",
    "MAX_OUTPUT_BYTES",
    "DELIVERY_RETENTION_DAYS",
    "LEDGER_RETENTION_DAYS",
    "OUTPUT_RETENTION_HOURS",
    "COPY_TIMEOUT",
)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
@pytest.mark.parametrize("key", NUMERIC_KEYS)
def test_not_finite_is_refused(key: str, value: float) -> None:
    messages = babysea_messages(**{key: value})
    assert list(messages) == ["django_babysea.E008"]
    assert f"BABYSEA['{key}'] is {value!r}" in messages["django_babysea.E008"]


@pytest.mark.parametrize(
    "value",
    ["NaN", "nan", "sNaN", "Infinity", "-Infinity", "inf", Decimal("NaN"), Decimal("Infinity")],
)
def test_budget_not_finite_is_refused(value: object) -> None:
    """Strings and Decimals; floats too (see the next test)."""
    messages = babysea_messages(USER_DAILY_BUDGET=value)
    assert list(messages) == ["django_babysea.E008"]
    assert "USER_DAILY_BUDGET" in messages["django_babysea.E008"]


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_budget_float_not_finite_is_refused(value: float) -> None:
    assert list(babysea_messages(USER_DAILY_BUDGET=value)) == ["django_babysea.E008"]


@pytest.mark.parametrize("value", [0, -1, "60", None, True])
def test_bad_max_retry_after(value: object) -> None:
    messages = babysea_messages(MAX_RETRY_AFTER=value)
    assert messages == {
        "django_babysea.E008": f"BABYSEA['MAX_RETRY_AFTER'] is {value!r}; expected a positive "
        "number of seconds."
    }


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("MAX_RETRY_AFTER", 0.5),
        ("MAX_RETRY_AFTER", 3600),
        ("TIMEOUT", 2.5),
        ("USER_DAILY_BUDGET", "12.5"),
        ("USER_DAILY_BUDGET", Decimal("1E+3")),
        ("OUTPUT_RETENTION_HOURS", 0.5),
    ],
)
def test_finite_values_pass(key: str, value: object) -> None:
    assert babysea_messages(**{key: value}) == {}
