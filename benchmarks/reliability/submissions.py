"""Submissions: ``submit_generation`` against a sandbox that fails a fifth of the creates.

Faults on ``POST /v1/generate/*`` (each 5 % of requests, until cleared): a 500, a timeout
(the sandbox answers after the client gave up), a crash after the commit (the generation
exists, the answer is lost) and a dropped connection (nothing processed). The client makes no
retries of its own (``MAX_RETRIES`` 0), so every fault reaches the service. Sends that failed
are sent again by ``resend_generations`` (what ``babysea_resend`` and the beat's poll run),
round after round, until no row is left unsent.

Checked: exactly one remote generation per local row (listed from the sandbox), none without a
local row, no local row without a BabySea id.
"""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final

from .harness import Stack, free_port, setup_django
from .report import Report

FAULTS: Final = ("server_error", "timeout", "crash_after_commit", "drop")
SHARE: Final = 0.05  # of each fault: 20 % in all
MAX_ROUNDS: Final = 200


def _fault(kind: str) -> dict[str, Any]:
    fault: dict[str, Any] = {"kind": kind, "path": "/v1/generate/*", "method": "POST"}
    fault |= {"times": None, "probability": SHARE}
    if kind == "timeout":
        fault["seconds"] = 4  # longer than the client's 3 s
    return fault


def _submit(count: int) -> Counter[str]:
    from django.db import connection

    from django_babysea.client import BabySeaError
    from django_babysea.services import submit_generation

    def one(index: int) -> str:
        try:
            submit_generation("bfl/flux-schnell", generation_prompt=f"submission run {index}")
        except BabySeaError as exc:
            return type(exc).__name__
        finally:
            connection.close()
        return "accepted"

    with ThreadPoolExecutor(max_workers=8) as pool:
        return Counter(pool.map(one, range(count)))


def _resend(report: Report) -> int:
    from django_babysea.models import Generation
    from django_babysea.services.many import resend_generations
    from django_babysea.services.sending import unsent

    rounds = 0
    while Generation.objects.filter(unsent()).exists() and rounds < MAX_ROUNDS:
        rounds += 1
        resend_generations()
    left = Generation.objects.filter(unsent()).count()
    if left:
        report.lost.append(f"{left} rows still unsent after {rounds} resend rounds")
    return rounds


def check(stack: Stack, report: Report, count: int) -> None:
    from django_babysea.client import BabySea
    from django_babysea.models import Generation

    assert stack.sandbox is not None
    client = BabySea(api_key=stack.env["BABYSEA_API_KEY"], base_url=stack.sandbox.url)
    remote = Counter(str(each.generation_id) for each in client.iter_generations(page_size=100))
    local = list(Generation.objects.values_list("pk", "generation_id"))
    ids = Counter(str(generation_id) for _, generation_id in local if generation_id)
    report.figures.append(
        f"local rows: {len(local)}; remote generations: {sum(remote.values())}; "
        f"rows with a BabySea id: {sum(ids.values())}"
    )
    if len(local) != count:
        report.lost.append(f"{len(local)} local rows for {count} submissions")
    report.lost += [f"row {pk} has no BabySea id" for pk, gid in local if gid is None]
    report.lost += [f"remote {rid} belongs to {n} rows" for rid, n in ids.items() if n > 1]
    report.lost += [f"remote {rid} has no local row" for rid in remote if rid not in ids]
    report.lost += [f"remote {rid} is listed {n} times" for rid, n in remote.items() if n > 1]
    if sum(remote.values()) != count:
        report.lost.append(f"{sum(remote.values())} remote generations for {count} submissions")


def run(stack: Stack, count: int) -> Report:
    report = Report("submissions")
    site = f"http://127.0.0.1:{free_port()}"
    sandbox = stack.start_sandbox(f"{site}/babysea/webhook/")
    setup_django(stack.env)
    stack.start_site(int(site.rsplit(":", 1)[1]))
    sandbox.inject(*(_fault(kind) for kind in FAULTS))
    started = time.monotonic()
    outcomes = _submit(count)
    creates = sandbox.creates()
    report.tried.append(
        f"{count} submissions by 8 threads, faults on creates: "
        f"{', '.join(FAULTS)} ({SHARE:.0%} each)"
    )
    report.figures.append(f"first sends: {dict(sorted(outcomes.items()))}; create calls: {creates}")
    rounds = _resend(report)
    creates = sandbox.creates()
    report.figures.append(
        f"resend rounds: {rounds}; create calls in all: {creates}; "
        f"{time.monotonic() - started:.1f} s"
    )
    check(stack, report, count)
    return report
