"""The whole loop: a generation submitted through the services, BabySea's (the sandbox's) signed
webhooks delivered over real HTTP to the site's webhook URL, the records updated exactly once."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from django.db import connection
from django.test import override_settings
from pytest_django.live_server_helper import LiveServer

from django_babysea.models import (
    CreditEvent,
    DeliveryState,
    Generation,
    GenerationStatus,
    WebhookDelivery,
)
from django_babysea.sandbox import Sandbox
from django_babysea.services import submit_generation
from tests.live import watching

from .conftest import MODEL, PROMPT

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgres,
    # The live server's threads share the test's one in-memory SQLite connection, so webhook
    # deliveries landing while the test or a create call uses it corrupt each other's
    # transactions. The loop needs a real database server.
    pytest.mark.skipif(
        connection.vendor == "sqlite", reason="needs PostgreSQL (set BABYSEA_TEST_DATABASE_URL)"
    ),
]

SECRET = "whsec_site_loop_secret_0001"


@pytest.fixture
def hooked(sandbox: Sandbox, live_server: LiveServer) -> Iterator[Sandbox]:
    """The sandbox delivering its webhooks to the live site, which knows the secret.

    At the end every delivery has been answered and the site has finished the work it runs
    after answering, so the flush at teardown never meets a request still writing."""
    sandbox.add_webhook(f"{live_server.url}/babysea/webhook/", SECRET)
    settings = {
        "API_KEY": sandbox.api_key,
        "BASE_URL": sandbox.url,
        "WEBHOOK_SECRETS": [SECRET],
        "MAX_RETRIES": 0,
        "TIMEOUT": 20,
    }
    with watching(live_server.url), override_settings(BABYSEA=settings):
        yield sandbox
        sandbox.run_until_idle()


def wait_for_status(generation: Generation, status: str, timeout: float = 10) -> Generation:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        generation.refresh_from_db()
        if generation.status == status:
            return generation
        time.sleep(0.05)
    raise AssertionError(f"{generation} is {generation.status}, not {status}")


def ledger(generation: Generation) -> list[str]:
    return sorted(CreditEvent.objects.filter(generation=generation).values_list("kind", flat=True))


def test_webhooks_alone_finish_the_generation(hooked: Sandbox) -> None:
    generation = submit_generation(MODEL, generation_prompt=PROMPT)
    # No poll: only the sandbox's deliveries to the webhook URL can move it on.
    generation = wait_for_status(generation, GenerationStatus.SUCCEEDED)
    assert generation.output_urls
    assert generation.provider_used == "bfl"
    assert ledger(generation) == ["charge", "reserve"]
    states = set(WebhookDelivery.objects.values_list("state", flat=True))
    assert states == {DeliveryState.PROCESSED}
    attempts = hooked.deliveries()
    assert {d["status_code"] for d in attempts} == {200}


def test_webhooks_that_beat_the_create_response(hooked: Sandbox) -> None:
    hooked.inject("webhooks_before_response")
    generation = submit_generation(MODEL, generation_prompt=PROMPT)
    generation = wait_for_status(generation, GenerationStatus.SUCCEEDED)
    assert ledger(generation) == ["charge", "reserve"]
    deliveries = WebhookDelivery.objects.filter(generation_id=generation.generation_id)
    assert deliveries.count() == 2
    assert set(deliveries.values_list("state", flat=True)) == {DeliveryState.PROCESSED}


@pytest.mark.parametrize("fault", ["webhook_duplicate", "webhook_out_of_order"])
def test_duplicate_and_reordered_deliveries(hooked: Sandbox, fault: str) -> None:
    hooked.inject(fault, concurrent=True, times=None)
    generation = submit_generation(MODEL, generation_prompt=PROMPT)
    generation = wait_for_status(generation, GenerationStatus.SUCCEEDED)
    hooked.run_until_idle()
    assert ledger(generation) == ["charge", "reserve"]
    rows = WebhookDelivery.objects.filter(generation_id=generation.generation_id)
    assert rows.count() == 2  # one row per delivery id, however often it arrived
    if fault == "webhook_duplicate":
        assert sum(rows.values_list("attempts", flat=True)) >= 3
