"""pytest plugin (entry point ``babysea_sandbox``): a running BabySea sandbox per test.

Importing this module loads nothing but pytest; the sandbox is imported when a fixture is used.

``babysea_sandbox`` gives each test a fresh :class:`~django_babysea.sandbox.app.Sandbox` on a free
port with instant generations (``speed=0``), an instant webhook retry schedule and limits high
enough not to get in the way. Override any option with the ``babysea_sandbox`` marker::

    @pytest.mark.babysea_sandbox(rate_limit=60, plan="free")
    def test_something(babysea_sandbox): ...
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Final

import pytest

if TYPE_CHECKING:
    from django_babysea.sandbox.app import Sandbox

__all__ = ["FIXTURE_OPTIONS", "babysea_sandbox", "babysea_sandbox_session"]

#: What the fixtures pass to :class:`Sandbox` unless a marker says otherwise.
FIXTURE_OPTIONS: Final[dict[str, Any]] = {
    "speed": 0.0,
    "webhook_speed": 0.0,
    "rate_limit": 1_000_000,
    "auth_failure_limit": 1_000_000,
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "babysea_sandbox(**options): Sandbox options for the babysea_sandbox fixture"
    )


def _sandbox(options: dict[str, Any]) -> Sandbox:
    from django_babysea.sandbox.extra import MissingExtra, require_extra

    try:
        require_extra()
    except MissingExtra as exc:
        pytest.fail(str(exc), pytrace=False)
    from django_babysea.sandbox.app import Sandbox

    return Sandbox(**{**FIXTURE_OPTIONS, **options})


@pytest.fixture
def babysea_sandbox(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    """A fresh running sandbox for one test (``.url``, ``.api_key``, ``.webhook_secret``...)."""
    marker = request.node.get_closest_marker("babysea_sandbox")
    with _sandbox(dict(marker.kwargs) if marker else {}) as sandbox:
        yield sandbox


@pytest.fixture(scope="session")
def babysea_sandbox_session() -> Iterator[Sandbox]:
    """One sandbox for the whole session; call ``.reset()`` where a test needs a clean slate."""
    with _sandbox({}) as sandbox:
        yield sandbox
