"""REST API tests: a real sandbox, real users and sessions, and the catalog fetched once."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.urls import reverse
from rest_framework.test import APIClient  # type: ignore[import-untyped]

from django_babysea.models import Generation
from django_babysea.sandbox import Sandbox
from django_babysea.services import refresh_catalog, refresh_generation, submit_generation
from tests.admin.conftest import make_staff
from tests.services.conftest import MODEL, PROMPT, no_remote_call_in_a_transaction, sandbox

__all__ = ["MODEL", "PROMPT", "no_remote_call_in_a_transaction", "sandbox"]


def url(name: str, *args: Any) -> str:
    return reverse(f"django_babysea:babysea-api-{name}", args=args)


@pytest.fixture(autouse=True)
def _clear_throttle_cache() -> None:
    cache.clear()


@pytest.fixture
def catalog(sandbox: Sandbox) -> Sandbox:
    refresh_catalog()
    return sandbox


def client_for(user: Any) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def alice(db: None) -> Any:
    return make_staff("alice")


@pytest.fixture
def bob(db: None) -> Any:
    return make_staff("bob")


@pytest.fixture
def alice_client(alice: Any) -> APIClient:
    return client_for(alice)


@pytest.fixture
def bob_client(bob: Any) -> APIClient:
    return client_for(bob)


def running(sandbox: Sandbox, owner: Any) -> Generation:
    """A generation accepted by BabySea and still running."""
    sandbox.auto_advance = False
    return submit_generation(MODEL, owner=owner, generation_prompt=PROMPT)


def finished(sandbox: Sandbox, owner: Any) -> Generation:
    """A succeeded generation whose outputs were copied to the site's storage."""
    generation = running(sandbox, owner)
    sandbox.advance(str(generation.generation_id), to="succeeded")
    return refresh_generation(generation)
