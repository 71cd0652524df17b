"""End to end through the django-tasks-db worker: a real ``db_worker`` process on PostgreSQL
(see conftest.py for how it is started) runs the jobs the site enqueues."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from django.core.files.storage import storages
from django.test import override_settings

from django_babysea.models import Generation, GenerationOutput, OutputState
from django_babysea.sandbox import Sandbox
from django_babysea.services import dispatch, submit_generation
from django_babysea.services.connection import clear_clients
from tests.core.helpers import WEBHOOK_PATH, encode, signed_headers, webhook_payload
from tests.services.conftest import sandbox_settings

from .conftest import Worker
from .frameworks import DATABASE_TASKS, QUEUE

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WAIT = 30.0


def wait_for(check: Callable[[], Any], timeout: float = WAIT) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {check}")
        time.sleep(0.05)
    return value


def task_rows(job: str) -> list[Any]:
    from django_tasks_db.models import DBTaskResult

    path = f"django_babysea.tasks_framework.{job}"
    return list(DBTaskResult.objects.filter(task_path=path).order_by("enqueued_at"))


@pytest.fixture
def site(db_worker: Worker, babysea_sandbox_session: Sandbox) -> Iterator[Sandbox]:
    """This process enqueues on the worker's database backend and queue; the session sandbox
    holds every generation where it is until the test advances it."""
    sandbox = babysea_sandbox_session
    babysea = sandbox_settings(sandbox, JOB_BACKEND="tasks", TASKS_QUEUE=QUEUE)
    was = sandbox.auto_advance
    sandbox.auto_advance = False
    try:
        with override_settings(BABYSEA=babysea, TASKS=DATABASE_TASKS):
            clear_clients()
            yield sandbox
    finally:
        sandbox.auto_advance = was
        clear_clients()


def test_a_completed_webhook_has_the_worker_copy_the_output(
    site: Sandbox, db_worker: Worker, live_server: Any
) -> None:
    generation = submit_generation("bfl/flux-schnell", generation_prompt="A seal pup on ice")
    assert generation.generation_id is None  # enqueued: the worker sends it
    sent = wait_for(
        lambda: Generation.objects.filter(pk=generation.pk, generation_id__isnull=False).first()
    )
    [send] = task_rows("send_generation")
    assert send.worker_ids == [db_worker.worker_id]

    remote = site.advance(str(sent.generation_id), to="succeeded")
    urls = remote["generation_output_file"]
    body = encode(
        webhook_payload("generation.completed", sent.generation_id, generation_output_file=urls)
    )
    response = httpx.post(
        live_server.url + WEBHOOK_PATH,
        content=body,
        headers={
            "Content-Type": "application/json",
            **signed_headers(body, key=site.webhook_secret),
        },
        timeout=30,
    )
    assert response.status_code == 200, response.text

    # The webhook's transaction recorded the output and enqueued its copy; the worker copies.
    [copy] = task_rows("copy_outputs")
    assert copy.args_kwargs == {"args": [str(generation.pk)], "kwargs": {}}
    assert copy.queue_name == QUEUE
    output = wait_for(
        lambda: GenerationOutput.objects.filter(
            generation_id=generation.pk, state=OutputState.STORED
        ).first()
    )
    copy.refresh_from_db()
    assert copy.worker_ids == [db_worker.worker_id]
    wait_for(lambda: task_rows("copy_outputs")[0].status == "SUCCESSFUL")
    with storages[output.storage].open(output.name) as stored:
        copied = stored.read()
    assert copied == httpx.get(urls[0], timeout=30).raise_for_status().content
    assert len(copied) == output.size


def test_a_job_for_a_row_gone_meanwhile_succeeds_on_the_worker(
    site: Sandbox, db_worker: Worker
) -> None:
    dispatch.run_later("process_delivery", 2_000_000_000)  # outside a transaction: at once
    wait_for(lambda: task_rows("process_delivery") and task_rows("process_delivery")[0].finished_at)
    [row] = task_rows("process_delivery")
    assert row.status == "SUCCESSFUL", row.traceback
    assert row.worker_ids == [db_worker.worker_id]
    wait_for(lambda: "nothing to do" in db_worker.output())
