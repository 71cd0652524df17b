"""Service tests run against a real sandbox, with ``BABYSEA`` pointing at it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import override_settings

from django_babysea.client import BabySea
from django_babysea.sandbox import Sandbox
from django_babysea.services.connection import clear_clients

MODEL = "bfl/flux-schnell"
PROMPT = "A harbor seal pup asleep on a snowy ice floe"


def sandbox_settings(sandbox: Sandbox, **overrides: Any) -> dict[str, Any]:
    """``BABYSEA`` pointing at ``sandbox``, with no client retries (tests decide what fails)."""
    return {
        "API_KEY": sandbox.api_key,
        "BASE_URL": sandbox.url,
        "WEBHOOK_SECRETS": [sandbox.webhook_secret],
        "MAX_RETRIES": 0,
        "TIMEOUT": 10,
        **overrides,
    }


@pytest.fixture
def sandbox(babysea_sandbox: Sandbox) -> Iterator[Sandbox]:
    """The sandbox, with the site's settings pointing at it (no client retries by default:
    tests decide what fails)."""
    with override_settings(BABYSEA=sandbox_settings(babysea_sandbox)):
        yield babysea_sandbox
    clear_clients()


@pytest.fixture
def remote(sandbox: Sandbox) -> Iterator[BabySea]:
    """A client of the same account, to see BabySea's side or make generations elsewhere."""
    with BabySea(sandbox.api_key, base_url=sandbox.url, max_retries=0) as client:
        yield client
