"""``babysea_copy_outputs`` against the real sandbox, copying into a media root of its own."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.core.files.storage import storages
from django.core.management import call_command
from django.core.management.base import CommandError

from django_babysea.client import BabySea
from django_babysea.models import Generation, GenerationOutput, OutputState
from django_babysea.sandbox import Sandbox
from django_babysea.services import refresh_generation, submit_generation

from .conftest import MANAGE, MODEL, PROMPT, Manage

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("babysea_copy_outputs", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def run_failing(*args: str) -> tuple[str, str, CommandError]:
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("babysea_copy_outputs", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue(), caught.value


def succeeded(sandbox: Sandbox) -> Generation:
    """A generation that succeeded locally; its outputs were recorded and copied inline
    (unless a fault made the copy fail)."""
    sandbox.auto_advance = False
    generation = submit_generation(MODEL, generation_prompt=PROMPT, generation_ratio="1:1")
    sandbox.advance(str(generation.generation_id), to="succeeded")
    done = refresh_generation(generation)
    assert done.status == "succeeded"
    return done


def failed_copy(sandbox: Sandbox) -> Generation:
    """A succeeded generation whose inline copy failed once (BabySea's file server was down)."""
    sandbox.inject("output_status", status=503, path="/files/*")
    generation = succeeded(sandbox)
    output = generation.outputs.get()
    assert output.state == OutputState.FAILED
    assert output.error_reason == "http_status"
    return generation


def served(output: GenerationOutput) -> bytes:
    return httpx.get(output.source_url).raise_for_status().content


def test_a_failed_copy_is_stored_by_the_command(sandbox: Sandbox, media: Path) -> None:
    generation = failed_copy(sandbox)
    out, err = run("-v", "2")

    output = generation.outputs.get()
    assert output.state == OutputState.STORED
    assert output.attempts == 2
    assert out.splitlines() == [
        f"{generation.generation_id} output 0: stored as {output.name} ({output.size} bytes)",
        "Copied 1 output: 1 stored, 0 failed, 0 expired, 0 skipped.",
    ]
    assert err == ""  # not a terminal: no progress bar
    assert (media / output.name).read_bytes() == served(output)
    assert storages["default"].exists(output.name)

    out, _ = run()
    assert out == "Copied 0 outputs: 0 stored, 0 failed, 0 expired, 0 skipped.\n"


def test_verbosity_one_prints_the_summary_only(sandbox: Sandbox) -> None:
    failed_copy(sandbox)
    out, err = run()
    assert out == "Copied 1 output: 1 stored, 0 failed, 0 expired, 0 skipped.\n"
    assert err == ""


def test_dry_run_copies_nothing(sandbox: Sandbox, media: Path) -> None:
    generation = failed_copy(sandbox)
    output = generation.outputs.get()
    assert output.remote_expires_at is not None

    out, _ = run("--dry-run")
    assert out.splitlines() == [
        f"{generation.generation_id} output 0: failed, expires at BabySea "
        f"{output.remote_expires_at.isoformat()}",
        "Would copy 1 output.",
    ]
    output.refresh_from_db()
    assert output.state == OutputState.FAILED
    assert output.attempts == 1
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))

    out, _ = run("--dry-run", "--generation", str(generation.pk))
    assert out.splitlines()[-1] == "Would copy 1 output."
    out, _ = run("--dry-run", "--limit", "1")
    assert out.splitlines()[-1] == "Would copy 1 output."


def test_generation_by_either_id(sandbox: Sandbox) -> None:
    first = failed_copy(sandbox)
    second = failed_copy(sandbox)

    out, _ = run("--generation", str(first.generation_id), "-v", "2")
    assert out.splitlines()[-1] == "Copied 1 output: 1 stored, 0 failed, 0 expired, 0 skipped."
    assert out.startswith(f"{first.generation_id} output 0: stored as ")
    assert first.outputs.get().state == OutputState.STORED
    assert second.outputs.get().state == OutputState.FAILED  # not this generation's

    out, _ = run("--generation", str(second.pk))
    assert out == "Copied 1 output: 1 stored, 0 failed, 0 expired, 0 skipped.\n"
    assert second.outputs.get().state == OutputState.STORED

    out, _ = run("--generation", str(second.pk))  # nothing left to copy
    assert out == "Copied 0 outputs: 0 stored, 0 failed, 0 expired, 0 skipped.\n"


def test_bad_options_are_one_line_errors(sandbox: Sandbox) -> None:
    generation = succeeded(sandbox)
    cases = [
        (("--limit", "0"), "--limit must be 1 or more, not 0."),
        (("--limit", "-3"), "--limit must be 1 or more, not -3."),
        (("--generation", "nope"), "--generation 'nope' is not a generation id (UUID)."),
        (
            ("--generation", "00000000-0000-4000-8000-000000000000"),
            "No generation 00000000-0000-4000-8000-000000000000 "
            "(neither a local nor a BabySea id).",
        ),
        (
            ("--generation", str(generation.pk), "--limit", "2"),
            "--limit applies to the whole sweep, not to --generation.",
        ),
    ]
    for args, message in cases:
        out, err, error = run_failing(*args)
        assert str(error) == message
        assert out == err == ""


def test_a_permanent_failure_exits_non_zero(sandbox: Sandbox) -> None:
    # Every download of the file answers with an HTML content type until the fault is cleared.
    sandbox.inject("output_content_type", path="/files/*", times=None)
    generation = succeeded(sandbox)
    output = generation.outputs.get()
    assert output.state == OutputState.FAILED

    out, err, error = run_failing()
    output.refresh_from_db()
    assert output.state == OutputState.FAILED
    assert output.attempts == 2
    assert output.error_reason == "bad_content_type"
    assert out == "Copied 1 output: 0 stored, 1 failed, 0 expired, 0 skipped.\n"
    assert err.splitlines() == [
        f"{generation.generation_id} output 0: failed (bad_content_type): {output.error}"
    ]
    assert str(error) == (
        "1 of 1 output failed to copy (errors listed above and recorded on each "
        "GenerationOutput); the next run tries them again."
    )

    out, err, error = run_failing("-v", "0")  # quiet: the summary and the exit status only
    assert out == "Copied 1 output: 0 stored, 1 failed, 0 expired, 0 skipped.\n"
    assert err == ""
    assert str(error).startswith("1 of 1 output failed to copy")

    sandbox.clear_faults()
    out, _ = run()
    assert out == "Copied 1 output: 1 stored, 0 failed, 0 expired, 0 skipped.\n"


def test_as_a_process(manage: Manage) -> None:
    """Errors end as one line on stderr with exit status 1, never a traceback."""
    assert manage("migrate", "--no-input", "-v", "0").returncode == 0
    done = manage("babysea_copy_outputs")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Copied 0 outputs: 0 stored, 0 failed, 0 expired, 0 skipped.\n"
    for args in (("--limit", "0"), ("--generation", "nope")):
        refused = manage("babysea_copy_outputs", *args)
        assert refused.returncode == 1
        assert refused.stderr.startswith("CommandError: ")
        assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr


# -- babysea_generate waits for the copies (no Celery) ----------------------------------------


def generate(*args: str) -> str:
    out = io.StringIO()
    call_command("babysea_generate", PROMPT, "--model", MODEL, *args, stdout=out)
    return out.getvalue()


def generate_failing(*args: str) -> tuple[str, CommandError]:
    out = io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("babysea_generate", *args, stdout=out)
    return out.getvalue(), caught.value


@pytest.mark.slow
def test_generate_waits_for_a_copy_made_by_another_process(
    sandbox: Sandbox, remote: BabySea, manage: Manage
) -> None:
    """As in the demo: the success reaches the site first (there the webhook request, here a
    ``babysea_poll`` process), which copies while the command, polling, sees ``succeeded``."""
    assert manage("migrate", "--no-input", "-v", "0").returncode == 0
    sandbox.auto_advance = False
    # The copy stalls for 3 s, then the connection closes: a slow copy that ends failed.
    sandbox.inject("output_stall", path="/files/*", seconds=3)
    command = subprocess.Popen(
        [sys.executable, str(MANAGE), "babysea_generate", PROMPT, "--model", MODEL,
         "--interval", "6", "--timeout", "60"],
        env=manage.env,  # type: ignore[attr-defined]
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        generation_id = sent(remote)
        sandbox.advance(generation_id, to="succeeded")
        # Applied and copied there, well before the command's next poll (6 s after its send).
        poll = manage("babysea_poll")
        assert poll.returncode == 0, poll.stderr
        assert f"Copying output 0 of generation {generation_id} failed" in poll.stderr
        out, err = command.communicate(timeout=60)
    finally:
        if command.poll() is None:
            command.kill()
            command.wait()
    assert command.returncode == 1
    lines = out.splitlines()
    assert lines[-2] == f"Output: {sandbox.url}/files/{generation_id}/output-0.png"
    assert lines[-1].startswith("Copy 0: failed: ")  # the end of the copy, not "copying"
    # One line: the command only waited, the copy (and its log line) happened elsewhere.
    assert re.fullmatch(
        rf"CommandError: Generation {generation_id} succeeded, but its copy did not: output 0 "
        r"failed \(\w+\): [^\n]+\. babysea_copy_outputs tries failed copies again\.\n",
        err,
    ), err


def sent(remote: BabySea, timeout: float = 20.0) -> str:
    """The id of the one generation BabySea has, once it has it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        page = remote.list_generations()
        if page.generations:
            return str(page.generations[0].generation_id)
        time.sleep(0.05)
    raise AssertionError("nothing was sent")


def test_generate_exits_non_zero_when_a_copy_failed(sandbox: Sandbox, media: Path) -> None:
    sandbox.inject("output_content_type", path="/files/*", times=None)
    out, error = generate_failing(PROMPT, "--model", MODEL, "--interval", "0.01")

    generation = Generation.objects.get()
    output = generation.outputs.get()
    assert output.state == OutputState.FAILED
    assert output.error_reason == "bad_content_type"
    assert out.splitlines()[-1] == f"Copy 0: failed: {output.error}"
    assert output.error.endswith(".")
    assert str(error) == (
        f"Generation {generation.generation_id} succeeded, but its copy did not: output 0 "
        f"failed (bad_content_type): {output.error} babysea_copy_outputs tries failed copies "
        "again."
    )
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))

    sandbox.clear_faults()  # what the message says: the sweep copies it now
    assert run()[0] == "Copied 1 output: 1 stored, 0 failed, 0 expired, 0 skipped.\n"


def test_generate_bad_values_are_one_line_errors(sandbox: Sandbox) -> None:
    for args in (
        (PROMPT, "--model", "a/" + "b" * 298),
        (PROMPT, "--model", MODEL, "--field", "seed=1e999"),
    ):
        out, error = generate_failing(*args)
        assert out == ""  # refused before anything was stored or sent
        assert str(error).strip()
        assert "\n" not in str(error)
    assert not Generation.objects.exists()


def test_generate_bad_values_as_a_process(manage: Manage) -> None:
    assert manage("migrate", "--no-input", "-v", "0").returncode == 0
    for args in (("--model", "a/" + "b" * 298), ("--model", MODEL, "--field", "seed=1e999")):
        refused = manage("babysea_generate", PROMPT, *args)
        assert refused.returncode == 1
        assert refused.stdout == ""
        assert refused.stderr.startswith("CommandError: "), refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr


def test_generate_copy_failure_as_a_process(sandbox: Sandbox, manage: Manage) -> None:
    assert manage("migrate", "--no-input", "-v", "0").returncode == 0
    sandbox.inject("output_status", status=503, path="/files/*", times=None)
    failed = manage("babysea_generate", PROMPT, "--model", MODEL, "--interval", "0.05")
    assert failed.returncode == 1
    assert failed.stdout.splitlines()[-1].startswith("Copy 0: failed: ")
    # The site logs the failed copy; the error itself is one line and no traceback.
    last = failed.stderr.strip().splitlines()[-1]
    assert last.startswith("CommandError: Generation "), failed.stderr
    assert "succeeded, but its copy did not: output 0 failed (http_status): " in last
    assert "Traceback" not in failed.stderr
