"""A completed webhook's output copy through the Tasks framework's immediate backend, against a
real sandbox (runs on every database and Django version; the worker tests need PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.test import Client, override_settings

from django_babysea.models import OutputState
from django_babysea.sandbox import Sandbox
from django_babysea.services import submit_generation
from django_babysea.services.connection import clear_clients
from tests.core.helpers import WEBHOOK_PATH, encode, signed_headers, webhook_payload
from tests.services.conftest import sandbox_settings

from .frameworks import tasks_setting

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def site(babysea_sandbox: Sandbox, tmp_path: Path) -> Iterator[Sandbox]:
    babysea_sandbox.auto_advance = False
    storages = {
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path), "base_url": "/media/"},
        },
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(
        BABYSEA=sandbox_settings(babysea_sandbox, JOB_BACKEND="tasks"),
        TASKS=tasks_setting("immediate"),
        STORAGES=storages,
    ):
        clear_clients()
        yield babysea_sandbox
    clear_clients()


def test_a_completed_webhook_copies_through_a_task(
    site: Sandbox, finished: list[Any], tmp_path: Path
) -> None:
    generation = submit_generation("bfl/flux-schnell", generation_prompt="A seal pup on ice")
    generation.refresh_from_db()
    assert generation.generation_id is not None  # the send task ran at once
    remote = site.advance(str(generation.generation_id), to="succeeded")
    urls = remote["generation_output_file"]
    body = encode(
        webhook_payload(
            "generation.completed", generation.generation_id, generation_output_file=urls
        )
    )
    headers = signed_headers(body, key=site.webhook_secret)

    response = Client().post(WEBHOOK_PATH, body, content_type="application/json", headers=headers)

    assert response.status_code == 200, response.content
    assert [(r.task.name, r.status) for r in finished] == [
        ("send_generation", "SUCCESSFUL"),
        ("copy_outputs", "SUCCESSFUL"),
    ]
    output = generation.outputs.get()
    assert output.state == OutputState.STORED, output.error
    assert (tmp_path / output.name).read_bytes() == httpx.get(urls[0], timeout=30).content
