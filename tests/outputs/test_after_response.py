"""A webhook that reports success answers first; the inline copy runs after the response."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.signals import request_finished
from django.db import transaction
from django.test import Client

from django_babysea.models import GenerationOutput, OutputState
from django_babysea.sandbox import Sandbox
from django_babysea.services import dispatch, record_outputs, refresh_generation, submit_generation
from tests.core.helpers import encode, signed_headers, webhook_payload

from .conftest import PROMPT, served

pytestmark = pytest.mark.django_db(transaction=True)


def test_deferred_jobs_wait_for_request_finished(sandbox: Sandbox) -> None:
    sandbox.inject("output_status", status=503, path="/files/*")
    generation = submit_generation("bfl/flux-schnell", generation_prompt=PROMPT)
    sandbox.advance(str(generation.generation_id), to="succeeded")
    generation = refresh_generation(generation)
    output = generation.outputs.get()
    assert output.state == OutputState.FAILED
    GenerationOutput.objects.all().delete()

    dispatch.defer_until_response_sent()
    with transaction.atomic():
        record_outputs(generation)
    assert generation.outputs.get().state == OutputState.PENDING  # committed, not run
    request_finished.send(sender=None)
    assert generation.outputs.get().state == OutputState.STORED
    assert getattr(dispatch._after_response, "jobs", None) is None
    # Outside a deferring request, inline jobs run at commit as before.
    GenerationOutput.objects.all().delete()
    with transaction.atomic():
        record_outputs(generation)
    assert generation.outputs.get().state == OutputState.STORED


def test_a_completed_webhook_stores_the_outputs(sandbox: Sandbox, media: Path) -> None:
    generation = submit_generation("bfl/flux-schnell", generation_prompt=PROMPT)
    remote = sandbox.advance(str(generation.generation_id), to="succeeded")
    urls = remote["generation_output_file"]
    payload = webhook_payload(
        "generation.completed", generation.generation_id, generation_output_file=urls
    )
    body = encode(payload)
    headers = signed_headers(body, key=sandbox.webhook_secret)
    response = Client().post(
        "/babysea/webhook/",
        body,
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 200, response.content
    output = generation.outputs.get()
    assert output.state == OutputState.STORED, output.error
    assert (media / output.name).read_bytes() == served(urls[0])
    assert getattr(dispatch._after_response, "jobs", None) is None
