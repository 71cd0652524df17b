"""The same ``Idempotency-Key`` posted by several clients at once, over real HTTP on PostgreSQL:
the database decides which request created the generation."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from django.conf import settings
from django.test import Client

from django_babysea.models import Generation
from django_babysea.sandbox import Sandbox
from tests.live import in_parallel, watching

from .conftest import MODEL, PROMPT, url

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

on_postgres = pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="concurrent writers need PostgreSQL (set BABYSEA_TEST_DATABASE_URL)",
)
THREADS = 8


@pytest.fixture
def session(live_server: Any, alice: Any) -> Iterator[httpx.Client]:
    """An HTTP client logged in as alice (session cookie and CSRF token, as a browser sends)."""
    django_client = Client()
    django_client.force_login(alice)
    token = secrets.token_hex(16)
    cookies = {
        settings.SESSION_COOKIE_NAME: django_client.cookies[settings.SESSION_COOKIE_NAME].value,
        settings.CSRF_COOKIE_NAME: token,
    }
    with (
        watching(live_server.url),
        httpx.Client(
            base_url=live_server.url, cookies=cookies, headers={"X-CSRFToken": token}, timeout=30
        ) as client,
    ):
        yield client


def post(client: httpx.Client, key: str, prompt: str = PROMPT) -> httpx.Response:
    body = {"model": MODEL, "generation_prompt": prompt}
    return client.post(url("generations"), json=body, headers={"Idempotency-Key": key})


def creates(sandbox: Sandbox) -> list[dict[str, Any]]:
    return [r for r in sandbox.received() if r["method"] == "POST" and "generate" in r["path"]]


@on_postgres
def test_concurrent_posts_of_one_key_create_once(catalog: Sandbox, session: httpx.Client) -> None:
    catalog.auto_advance = False
    for attempt in range(3):  # a race may be lost by luck once; three rounds of eight rarely
        key = f"order-{attempt}"
        responses = in_parallel([lambda key=key: post(session, key)] * THREADS)
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [200] * (THREADS - 1) + [201], [r.text for r in responses]
        assert len({r.json()["id"] for r in responses}) == 1
        assert Generation.objects.filter(idempotency_key__endswith=f":{key}").count() == 1
    assert Generation.objects.count() == 3
    # One remote generation per key: BabySea was asked once for each.
    assert len(creates(catalog)) == 3


@on_postgres
def test_concurrent_posts_of_one_key_with_other_bodies_conflict(
    catalog: Sandbox, session: httpx.Client
) -> None:
    catalog.auto_advance = False
    jobs = [
        lambda index=index: post(session, "order-7", prompt=f"{PROMPT} #{index}")
        for index in range(THREADS)
    ]
    responses = in_parallel(jobs)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * (THREADS - 1), [r.text for r in responses]
    created = next(r.json() for r in responses if r.status_code == 201)
    conflicts = [r.json() for r in responses if r.status_code == 409]
    assert {c["code"] for c in conflicts} == {"idempotency_conflict"}
    assert {c["id"] for c in conflicts} == {created["id"]}
    assert str(Generation.objects.get().pk) == created["id"]
    assert len(creates(catalog)) == 1
