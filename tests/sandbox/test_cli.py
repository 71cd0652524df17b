"""The command line: ``python -m django_babysea.sandbox`` and ``manage.py babysea_sandbox``."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from django_babysea.management.commands.babysea_sandbox import Command
from django_babysea.sandbox import DEMO_API_KEY, DEMO_WEBHOOK_SECRET
from django_babysea.sandbox.cli import build_parser, build_sandboxes

ROOT = Path(__file__).resolve().parents[2]
URL = re.compile(r"on (http://127\.0\.0\.1:\d+) ")


def launch(*args: str, django: bool = False) -> tuple[subprocess.Popen[str], list[str]]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "DJANGO_SETTINGS_MODULE": "tests.settings"}
    command = (
        [sys.executable, "-m", "django", "babysea_sandbox"]
        if django
        else [
            sys.executable,
            "-m",
            "django_babysea.sandbox",
        ]
    )
    process = subprocess.Popen(
        [*command, "--port", "0", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    lines = [process.stdout.readline()]
    return process, lines


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_module_starts_answers_and_stops(sig: signal.Signals) -> None:
    process, lines = launch("--speed", "0")
    try:
        match = URL.search(lines[0])
        assert match, lines
        assert DEMO_API_KEY not in lines[0]
        assert DEMO_API_KEY[:9] in lines[0]
        headers = {"Authorization": f"Bearer {DEMO_API_KEY}"}
        response = httpx.get(f"{match[1]}/v1/status", headers=headers)
        assert response.status_code == 200
        assert response.json()["message"] == "API connected successfully"
        process.send_signal(sig)
        out, err = process.communicate(timeout=10)
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert "Traceback" not in err
    assert "stopped" in out


def test_management_command_runs_the_same_server() -> None:
    process, lines = launch("--api-key", "bye_cmd_key:read_only", django=True)
    try:
        match = URL.search(lines[0])
        assert match, (lines, process.stderr.read() if process.poll() is not None else "")
        assert "bye_cmd_k" in lines[0]
        assert "read_only" in lines[0]
        response = httpx.get(
            f"{match[1]}/v1/status", headers={"Authorization": "Bearer bye_cmd_key"}
        )
        assert response.status_code == 200
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=10)
    finally:
        process.kill()
    assert process.returncode == 0


@pytest.mark.parametrize(
    "args",
    [
        ["--port", "70000"],
        ["--speed", "-1"],
        ["--api-key", "sk_live_nope"],
        ["--api-key", "bye_x:root"],
        ["--webhook-secret", "nope"],
        ["--region", "mars"],
        ["--balance", "lots"],
        ["--plan", "gold"],
        ["--fault", "meteor"],
        ["--concurrency", "10"],
        ["--concurrency", "0,1"],
    ],
)
def test_bad_arguments_exit_2_with_one_line(args: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "django_babysea.sandbox", *args],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=ROOT,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "error:" in result.stderr
    assert result.stdout == ""


def test_management_command_parser_matches_module_parser() -> None:
    module = build_parser()
    command = Command().create_parser("manage.py", "babysea_sandbox")
    module_dests = {a.dest for a in module._actions} - {"help"}
    command_dests = {a.dest for a in command._actions}
    assert module_dests <= command_dests
    args = ["--port", "9", "--api-key", "bye_a:generate_only", "--webhook-url", "http://h/w"]
    parsed = vars(command.parse_args(args))
    assert parsed["port"] == 9
    assert parsed["api_keys"][0].preset == "generate_only"
    assert vars(module.parse_args(args)).items() <= parsed.items()


def test_concurrency_caps_reach_every_region() -> None:
    options = build_parser().parse_args(
        ["--concurrency", "3,1", "--region", "us", "--region", "eu"]
    )
    assert [s.config.concurrency for s in build_sandboxes(options)] == [(3, 1), (3, 1)]
    assert build_sandboxes(build_parser().parse_args([]))[0].config.concurrency is None


def test_build_sandboxes_pairs_urls_and_secrets_and_regions() -> None:
    options = build_parser().parse_args(
        [
            "--webhook-url",
            "http://a/1",
            "--webhook-url",
            "http://b/2",
            "--webhook-secret",
            "whsec_first",
            "--region",
            "us",
            "--region",
            "jp",
            "--port",
            "0",
            "--api-key",
            "bye_jp_key:full_access:jp",
            "--api-key",
            "bye_us_key",
        ]
    )
    us, jp = build_sandboxes(options)
    assert [(h.url, h.secret) for h in us.config.webhooks] == [
        ("http://a/1", "whsec_first"),
        ("http://b/2", DEMO_WEBHOOK_SECRET),
    ]
    assert (us.config.region, jp.config.region) == ("us", "jp")
    assert us.registry is jp.registry
    assert us.api_key == "bye_us_key"
    assert jp.api_key == "bye_jp_key"
    with us, jp:
        for sandbox, own, foreign in [
            (us, "bye_us_key", "bye_jp_key"),
            (jp, "bye_jp_key", "bye_us_key"),
        ]:
            ok = httpx.get(f"{sandbox.url}/v1/status", headers={"Authorization": f"Bearer {own}"})
            assert ok.status_code == 200
            wrong = httpx.get(
                f"{sandbox.url}/v1/status", headers={"Authorization": f"Bearer {foreign}"}
            )
            assert wrong.json()["error"]["code"] == "BSE1002"
