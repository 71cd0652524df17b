"""The babysea_* management commands, through call_command and as real processes."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from django_babysea.client import BabySea, NetworkError
from django_babysea.management.commands._babysea import ProgressBar
from django_babysea.management.commands.babysea_generate import Command as GenerateCommand
from django_babysea.models import DeliveryState, Generation, WebhookDelivery
from django_babysea.sandbox import Sandbox
from django_babysea.services import (
    create_generation,
    refresh_generation,
    send_generation,
    submit_generation,
)
from tests.core.helpers import encode, webhook_payload

from .conftest import MODEL, PROMPT, Manage

pytestmark = pytest.mark.django_db(transaction=True)


def run(*args: Any) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


# -- babysea_generate ------------------------------------------------------------------------


def test_generate_follows_until_succeeded(sandbox: Sandbox) -> None:
    out, _ = run(
        "babysea_generate",
        PROMPT,
        "--model",
        MODEL,
        "--ratio",
        "1:1",
        "--format",
        "png",
        "--field",
        "output_number=1",
        "--interval",
        "0.01",
    )
    generation = Generation.objects.get()
    assert generation.status == "succeeded"
    assert generation.request == {
        "generation_prompt": PROMPT,
        "generation_ratio": "1:1",
        "generation_output_format": "png",
        "generation_output_number": 1,
    }
    lines = out.splitlines()
    assert lines[0] == f"Created generation {generation.pk} ({MODEL}, image)"
    assert f"BabySea generation id: {generation.generation_id}" in lines
    assert (
        lines.index("Status: succeeded")
        == lines.index(f"Generation id: {generation.generation_id}") - 1
    )
    assert [line for line in lines if line.startswith("Output: ")] == [
        f"Output: {url}" for url in generation.output_urls
    ]
    output = generation.outputs.get()
    assert lines[-1] == (
        f"Stored: {output.name} ({output.size} bytes, image/png) at /media/{output.name}"
    )


def test_generate_shows_each_status(sandbox: Sandbox) -> None:
    sandbox.speed = 0.05  # pending -> processing -> succeeded over a few polls
    out, _ = run("babysea_generate", PROMPT, "--model", MODEL, "--interval", "0.02")
    statuses = [line.split(": ")[1] for line in out.splitlines() if line.startswith("Status: ")]
    assert statuses[0] == "pending"
    assert statuses[-1] == "succeeded"
    assert statuses == sorted(set(statuses), key=statuses.index)  # each shown once


def test_generate_failed_exits_with_one_line(sandbox: Sandbox) -> None:
    sandbox.set_balance("0")
    with pytest.raises(CommandError) as caught:
        run("babysea_generate", PROMPT, "--model", MODEL)
    message = str(caught.value)
    assert message.startswith("Generation ")
    assert "failed: BSE1004" in message
    assert "\n" not in message


def test_generate_timeout_then_canceled(sandbox: Sandbox) -> None:
    sandbox.auto_advance = False
    with pytest.raises(
        CommandError, match=r"did not finish within 0\.05s \(last status: pending\)"
    ):
        run("babysea_generate", PROMPT, "--model", MODEL, "--timeout", "0.05", "--interval", "0.01")
    generation = Generation.objects.get()
    sandbox.advance(str(generation.generation_id), to="canceled")
    generation = refresh_generation(generation)
    with pytest.raises(CommandError, match=r"^Generation \S+ canceled\.$"):
        GenerateCommand().finish(generation)


def test_generate_refuses_bad_input_readably(sandbox: Sandbox) -> None:
    with pytest.raises(CommandError, match=r"BSE2014"):
        run("babysea_generate", PROMPT, "--model", "nobody/nothing")
    with pytest.raises(CommandError, match="expected KEY=VALUE"):
        run("babysea_generate", PROMPT, "--model", MODEL, "--field", "seed")


def test_generate_as_a_process(sandbox: Sandbox, manage: Manage) -> None:
    migrated = manage("migrate", "--no-input", "-v", "0")
    assert migrated.returncode == 0, migrated.stderr
    done = manage("babysea_generate", PROMPT, "--model", MODEL, "--interval", "0.05")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Created generation ")
    assert "Status: succeeded" in lines
    generation_id = next(line.split(": ")[1] for line in lines if line.startswith("Generation id"))
    assert sandbox.generation(generation_id) is not None
    outputs = [line for line in lines if line.startswith("Output: ")]
    assert len(outputs) == 1
    assert outputs[0].startswith(f"Output: {sandbox.url}")

    sandbox.set_balance("0")
    failed = manage("babysea_generate", PROMPT, "--model", MODEL)
    assert failed.returncode == 1
    err = failed.stderr.strip().splitlines()
    assert len(err) == 1, failed.stderr
    assert err[0].startswith("CommandError: Generation ")
    assert "BSE1004" in err[0]
    assert "Traceback" not in failed.stderr

    # Nothing listens on port 9.
    manage.env["BABYSEA_BASE_URL"] = "http://127.0.0.1:9"  # type: ignore[attr-defined]
    unreachable = manage("babysea_status")
    assert unreachable.returncode == 1
    # The client logs its retries; the error itself is one line and no traceback.
    last = unreachable.stderr.strip().splitlines()[-1]
    assert last.startswith("CommandError: Network error after "), unreachable.stderr
    assert "Traceback" not in unreachable.stderr


# -- sync, poll ------------------------------------------------------------------------------


def test_sync_and_poll_print_counts(sandbox: Sandbox, remote: BabySea) -> None:
    sandbox.auto_advance = False
    remote.generate(MODEL, generation_prompt="A sea otter")
    remote.generate(MODEL, generation_prompt="A walrus")
    out, err = run("babysea_sync")
    assert out == "Synced: 2 created, 0 updated.\n"
    assert err == ""  # not a terminal: no progress bar
    out, _ = run("babysea_sync")
    assert out == "Synced: 0 created, 0 updated.\n"
    out, _ = run("babysea_poll")
    assert out == "Refreshed 2 generations.\n"
    out, _ = run("babysea_poll", "--limit", "1")
    assert out == "Refreshed 1 generation.\n"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_terminal() -> None:
    from django.core.management.base import OutputWrapper

    terminal = Terminal()
    bar = ProgressBar(OutputWrapper(terminal), "Syncing")
    bar(1, 4)
    bar(4, 4)
    bar.close()
    assert terminal.getvalue().endswith(f"\rSyncing [{'#' * 30}] 4/4\n")
    assert f"[{'#' * 7}{'-' * 23}] 1/4" in terminal.getvalue()
    plain = io.StringIO()
    quiet = ProgressBar(OutputWrapper(plain), "Syncing")
    quiet(1, 4)
    quiet.close()
    assert plain.getvalue() == ""


def test_sync_with_progress_on_a_terminal(sandbox: Sandbox, remote: BabySea) -> None:
    remote.generate(MODEL, generation_prompt="A sea otter")
    err = Terminal()
    call_command("babysea_sync", stdout=io.StringIO(), stderr=err)
    assert "Syncing [" in err.getvalue()
    assert "1/1" in err.getvalue()


# -- replay ----------------------------------------------------------------------------------


def _stored(event: str, generation_id: uuid.UUID | None, state: str) -> WebhookDelivery:
    payload = webhook_payload(event, generation_id)
    return WebhookDelivery.objects.create(
        delivery_id=payload["webhook_delivery_id"],
        event_type=event,
        generation_id=generation_id,
        body=encode(payload).decode(),
        state=state,
    )


def test_replay_webhooks(sandbox: Sandbox) -> None:
    sandbox.auto_advance = False
    generation = submit_generation(MODEL, generation_prompt=PROMPT)
    failed = _stored("generation.started", generation.generation_id, DeliveryState.FAILED)
    broken = WebhookDelivery.objects.create(
        delivery_id=uuid.uuid4(), event_type="generation.completed", body="{", state="failed"
    )
    other = _stored("webhook.test", None, DeliveryState.RECEIVED)

    with pytest.raises(CommandError, match="Name delivery ids"):
        run("babysea_replay_webhooks")
    with pytest.raises(CommandError, match="1 of 2 deliveries failed again"):
        run("babysea_replay_webhooks", "--failed")
    failed.refresh_from_db()
    broken.refresh_from_db()
    assert failed.state == DeliveryState.PROCESSED
    assert broken.state == DeliveryState.FAILED
    generation.refresh_from_db()
    assert generation.status == "processing"

    out, _ = run("babysea_replay_webhooks", str(other.delivery_id), str(failed.pk))
    assert f"{other.delivery_id} webhook.test: processed" in out
    assert f"{failed.delivery_id} generation.started: processed" in out
    assert out.splitlines()[-1] == "Replayed 2 deliveries, 0 failed."

    tomorrow = (timezone.now() + timedelta(days=1)).isoformat()
    out, _ = run("babysea_replay_webhooks", "--since", tomorrow)
    assert out == "Replayed 0 deliveries, 0 failed.\n"
    with pytest.raises(CommandError, match="not an ISO 8601"):
        run("babysea_replay_webhooks", "--since", "yesterday")
    with pytest.raises(CommandError, match="not stored"):
        run("babysea_replay_webhooks", str(uuid.uuid4()))
    with pytest.raises(CommandError, match="neither a delivery id"):
        run("babysea_replay_webhooks", "nope")


# -- purge, status ---------------------------------------------------------------------------


def test_purge(sandbox: Sandbox) -> None:
    old = _stored("webhook.test", None, DeliveryState.PROCESSED)
    WebhookDelivery.objects.filter(pk=old.pk).update(
        received_at=timezone.now() - timedelta(days=40)
    )
    kept = _stored("webhook.test", None, DeliveryState.FAILED)
    WebhookDelivery.objects.filter(pk=kept.pk).update(
        received_at=timezone.now() - timedelta(days=40)
    )
    out, _ = run("babysea_purge", "--dry-run")
    assert out == (
        "Would delete 1 webhook deliveries (older than 30 days) and 0 ledger rows "
        "(older than 365 days).\n"
    )
    assert WebhookDelivery.objects.count() == 2
    out, _ = run("babysea_purge", "--batch-size", "1")
    assert out.startswith("Deleted 1 webhook deliveries")
    assert list(WebhookDelivery.objects.values_list("pk", flat=True)) == [kept.pk]
    with pytest.raises(CommandError, match="--batch-size must be 1 or more, not 0"):
        run("babysea_purge", "--batch-size", "0")


def test_status(sandbox: Sandbox) -> None:
    out, _ = run("babysea_status")
    assert sandbox.api_key not in out
    lines = out.splitlines()
    assert lines[0] == f"BabySea   {sandbox.url} (region us)"
    assert lines[1].startswith("Key       ")
    assert sandbox.api_key.startswith(lines[1].split()[1].split("…")[0])
    assert lines[2].startswith("Account   ")
    assert lines[4].startswith("Balance   ")
    assert lines[5].startswith("Providers ")
    assert lines[6].split() == ["provider", "status", "failure", "rate", "attempts"]
    assert len(lines) > 7


def test_status_without_a_key_is_one_line(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.test import override_settings

    monkeypatch.delenv("BABYSEA_API_KEY", raising=False)
    with override_settings(BABYSEA={"API_KEY": ""}), pytest.raises(CommandError) as caught:
        run("babysea_status")
    assert str(caught.value).startswith("No BabySea API key")


# -- resend; values the database would refuse --------------------------------------------------


def test_resend_and_poll_send_rows_a_failed_send_left_created(
    sandbox: Sandbox, remote: BabySea
) -> None:
    sandbox.auto_advance = False
    sandbox.inject("crash_after_commit", method="POST", path="/v1/generate/*")
    generation = create_generation(MODEL, {"generation_prompt": PROMPT})
    with pytest.raises(NetworkError):
        send_generation(generation.pk)
    out, _ = run("babysea_sync")
    assert out == "Synced: 1 created, 0 updated.\n"  # BabySea had it: a second, ownerless row
    out, _ = run("babysea_resend")
    assert out == "Resent: 1 accepted, 0 rejected.\n"
    row = Generation.objects.get()  # the synced row was folded into ours
    assert row.pk == generation.pk
    assert str(row.generation_id) == remote.list_generations().generations[0].generation_id

    again = create_generation(MODEL, {"generation_prompt": "A walrus"})
    sandbox.inject("drop", method="POST", path="/v1/generate/*")
    with pytest.raises(NetworkError):
        send_generation(again.pk)
    sandbox.inject("drop", method="POST", path="/v1/generate/*")
    with pytest.raises(CommandError) as caught:
        run("babysea_resend")
    assert str(caught.value).startswith("Resent: 0 accepted, 0 rejected. Stopped: Network error")
    out, _ = run("babysea_poll")
    assert out == "Resent: 1 accepted, 0 rejected.\nRefreshed 2 generations.\n"
    out, _ = run("babysea_poll", "--no-resend")
    assert out == "Refreshed 2 generations.\n"


TOO_BIG = "99999999999999999999"


@pytest.mark.parametrize(
    "args",
    [
        ("babysea_poll", "--limit", TOO_BIG),
        ("babysea_resend", "--limit", TOO_BIG),
        ("babysea_copy_outputs", "--limit", TOO_BIG),
        ("babysea_purge", "--batch-size", TOO_BIG),
        ("babysea_resend", "--limit", "0"),
        ("babysea_generate", PROMPT, "--model", "lab/" + "m" * 300),
        ("babysea_generate", PROMPT, "--model", MODEL, "--field", "seed=1e999"),
        ("babysea_generate", PROMPT, "--model", MODEL, "--field", "seed=-1e999"),
        ("babysea_generate", "nul \x00 byte", "--model", MODEL),
    ],
)
def test_values_the_database_refuses_are_one_line_errors(
    sandbox: Sandbox, args: tuple[str, ...]
) -> None:
    with pytest.raises(CommandError) as caught:
        run(*args)
    message = str(caught.value)
    assert message
    assert "\n" not in message
    assert not Generation.objects.exists()
    assert not [r for r in sandbox.received() if r.get("method") == "POST"]


def test_a_refused_value_as_a_process_exits_1_with_one_line(
    sandbox: Sandbox, manage: Manage
) -> None:
    assert manage("migrate", "--no-input", "-v", "0").returncode == 0
    for args in (
        ("babysea_poll", "--limit", TOO_BIG),
        ("babysea_generate", PROMPT, "--model", "lab/" + "m" * 300),
        ("babysea_generate", PROMPT, "--model", MODEL, "--field", "seed=1e999"),
    ):
        done = manage(*args)
        assert done.returncode == 1, (args, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1, done.stderr
        assert lines[0].startswith("CommandError: ")
