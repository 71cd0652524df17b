from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from django_babysea.client import BabySea

from .server import ScriptedServer

API_KEY = "bye_TestKeyDoNotLog_0123456789abcdef"


class FakeTime:
    """A clock that only moves when something sleeps; records every sleep."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    scripted = ScriptedServer().start()
    yield scripted
    scripted.stop()


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


MakeClient = Callable[..., BabySea]


@pytest.fixture
def make_client(server: ScriptedServer, fake_time: FakeTime) -> Iterator[MakeClient]:
    """``BabySea`` on the scripted server with fake time; keyword arguments override."""
    made: list[BabySea] = []

    def make(**overrides: Any) -> BabySea:
        options: dict[str, Any] = {
            "api_key": API_KEY,
            "base_url": server.url,
            "timeout": 5,
            "sleep": fake_time.sleep,
            "clock": fake_time.clock,
            "random": lambda: 0.5,
        }
        made.append(BabySea(**(options | overrides)))
        return made[-1]

    yield make
    for babysea in made:
        babysea.close()


@pytest.fixture
def client(make_client: MakeClient) -> BabySea:
    return make_client()
