"""Conformance: the project's client against the running sandbox, judged by the contract."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from django_babysea.client import BabySea
from django_babysea.sandbox import Sandbox

EXAMPLES = Path(__file__).resolve().parents[1] / "contract_examples"


def example(name: str) -> dict[str, Any]:
    """The ``data`` object (or the whole body, for webhooks) of a contract example."""
    body: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text())
    data: dict[str, Any] = body.get("data", body)
    return data


def json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


#: Objects keyed by data (provider ids, error codes), not by field names.
KEYED_MAPS = frozenset({"providers", "error_codes", "model_pricing"})
#: Fields the contract allows to be absent ("number, or absent").
OPTIONAL = frozenset({"model_pricing"})


def assert_same_shape(actual: Mapping[str, Any], expected: Mapping[str, Any], where: str) -> None:
    """Every field of the example is present with the same JSON type (null matches anything
    nullable in the contract, so a null on either side only requires the key), recursively."""
    missing = sorted(set(expected) - set(actual) - OPTIONAL)
    assert not missing, f"{where}: missing fields {missing}"
    for key, want in expected.items():
        if key not in actual:
            continue
        got = actual[key]
        if want is None or got is None:
            continue
        assert json_type(got) == json_type(want), f"{where}.{key}: {got!r} vs example {want!r}"
        if key in KEYED_MAPS and isinstance(want, dict):
            sample = next(iter(want.values()), None)
            for name, item in got.items():
                assert json_type(item) == json_type(sample), f"{where}.{key}.{name}: {item!r}"
                if isinstance(sample, dict):
                    assert_same_shape(item, sample, f"{where}.{key}.{name}")
        elif isinstance(want, dict) and want and isinstance(next(iter(want.values())), dict | list):
            assert_same_shape(got, want, f"{where}.{key}")
        elif isinstance(want, list) and want and isinstance(want[0], dict):
            assert got, f"{where}.{key}: empty, the example has items"
            for index, item in enumerate(got):
                assert_same_shape(item, want[0], f"{where}.{key}[{index}]")


@pytest.fixture
def sandbox(babysea_sandbox: Sandbox) -> Sandbox:
    return babysea_sandbox


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[BabySea]:
    with BabySea(
        api_key=sandbox.api_key, base_url=sandbox.url, max_retries=0, timeout=10
    ) as client:
        yield client
