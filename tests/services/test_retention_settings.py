"""The two retention settings: defaults, overrides and their system check (E008)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from django_babysea.checks import check_limits
from django_babysea.conf import babysea_settings


def test_defaults() -> None:
    assert babysea_settings.DELIVERY_RETENTION_DAYS == 30
    assert babysea_settings.LEDGER_RETENTION_DAYS == 365


@pytest.mark.parametrize("key", ["DELIVERY_RETENTION_DAYS", "LEDGER_RETENTION_DAYS"])
@pytest.mark.parametrize("value", [0, -1, 1.5, "30", None, True])
def test_bad_values_are_e008(key: str, value: Any) -> None:
    with override_settings(BABYSEA={key: value}):
        messages = check_limits()
    assert [m.id for m in messages] == ["django_babysea.E008"]
    assert key in messages[0].msg


def test_good_values_pass() -> None:
    with override_settings(BABYSEA={"DELIVERY_RETENTION_DAYS": 1, "LEDGER_RETENTION_DAYS": 3650}):
        assert check_limits() == []
        assert babysea_settings.LEDGER_RETENTION_DAYS == 3650
