"""Output copies against the real sandbox, into a file-system storage of the test's own."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.test import override_settings

from django_babysea.models import Generation
from django_babysea.sandbox import Sandbox
from django_babysea.services import refresh_generation, submit_generation
from django_babysea.services.connection import clear_clients
from tests.services.conftest import sandbox_settings

IMAGE_MODEL = "bfl/flux-schnell"
VIDEO_MODEL = "google/veo-2"
PROMPT = "A harbor seal pup asleep on a snowy ice floe"


@pytest.fixture
def media(tmp_path: Path) -> Path:
    return tmp_path / "media"


@pytest.fixture
def configure(babysea_sandbox: Sandbox, media: Path) -> Iterator[Callable[..., None]]:
    """``configure(**babysea)``: settings pointing at the sandbox, with a file-system storage
    rooted in the test's own directory; keyword arguments override ``BABYSEA`` keys."""
    stack: list[Any] = []

    def apply(**overrides: Any) -> None:
        while stack:
            stack.pop().disable()
        babysea = sandbox_settings(babysea_sandbox, **overrides)
        storages = {
            "default": {
                "BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": str(media), "base_url": "/media/"},
            },
            "staticfiles": {
                "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
            },
        }
        override = override_settings(BABYSEA=babysea, STORAGES=storages)
        override.enable()
        stack.append(override)
        clear_clients()

    apply()
    yield apply
    while stack:
        stack.pop().disable()
    clear_clients()


@pytest.fixture
def sandbox(babysea_sandbox: Sandbox, configure: Callable[..., None]) -> Sandbox:
    babysea_sandbox.auto_advance = False
    return babysea_sandbox


def succeed(sandbox: Sandbox, model: str = IMAGE_MODEL, **fields: Any) -> Generation:
    """Submit a generation and let it succeed at the sandbox; the local refresh that learns of
    the success records its outputs and (without Celery) copies them right after commit."""
    fields.setdefault("generation_prompt", PROMPT)
    generation = submit_generation(model, **fields)
    sandbox.advance(str(generation.generation_id), to="succeeded")
    return refresh_generation(generation)


def served(url: str) -> bytes:
    """The bytes the sandbox serves at ``url``."""
    response = httpx.get(url, timeout=30)
    response.raise_for_status()
    return response.content
