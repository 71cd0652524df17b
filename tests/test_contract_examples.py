"""The copy of the contract's example bodies in tests/ stays identical to the shared contract."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent / "contract_examples"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "babysea-api-examples"


@pytest.mark.skipif(not SHARED.is_dir(), reason="the shared contract is not beside the clone")
def test_examples_match_the_contract() -> None:
    shared = {p.name: p.read_bytes() for p in SHARED.glob("*.json")}
    ours = {p.name: p.read_bytes() for p in HERE.glob("*.json")}
    assert sorted(ours) == sorted(shared)
    assert [name for name in shared if shared[name] != ours[name]] == []
