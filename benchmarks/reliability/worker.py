"""Worker: a real Celery worker killed with SIGKILL while it sends generations and copies
outputs, then started again.

The site runs with ``USE_CELERY`` on (Redis db 13, a queue of its own): ``submit_generation``
queues the send, the webhook view (gunicorn) queues the copy of the outputs. Creates at the
sandbox answer late (``slow``, 2 s, on half of them) so the worker is caught in the middle of
a send; in the full run the first output download also stalls, so a kill finds a copy
half-way. Each kill takes the worker's whole process group while jobs are in flight.

How the jobs come back: the tasks are ``acks_late``, so a job a killed worker had taken is
still in Redis's unacknowledged set and is delivered again once the broker's
``visibility_timeout`` has passed (this run sets 10 s; Redis's default is an hour). A job
that is lost anyway is the sweeps' to recover: after a grace period, this run calls what the
site's beat runs (``resend_generations`` and ``copy_pending_outputs``), and says so.

Checked: every row sent once (one remote generation per row, none without a row), its status
equal to the sandbox's, every output of a succeeded generation stored, and exactly one file
per stored output in the media directory.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Final

from .harness import Child, Stack, free_port, setup_django, stack
from .report import Report

VISIBILITY: Final = 10
GRACE: Final = 45.0  # seconds the worker alone gets before the sweeps run
DEADLINE: Final = 240.0


def _submit(count: int, spread: float) -> threading.Thread:
    def submit_all() -> None:
        from django.db import connection

        from django_babysea.services import submit_generation

        for index in range(count):
            submit_generation("bfl/flux-schnell", generation_prompt=f"worker run {index}")
            time.sleep(spread / count)
        connection.close()

    thread = threading.Thread(target=submit_all, daemon=True)
    thread.start()
    return thread


def _unfinished() -> list[str]:
    """What is left to do: rows not sent or not final, outputs not stored."""
    from django_babysea.models import Generation, GenerationOutput, GenerationStatus, OutputState

    left = [
        f"generation {pk} is {status}"
        for pk, status in Generation.objects.exclude(
            status__in=[GenerationStatus.SUCCEEDED, GenerationStatus.FAILED]
        ).values_list("pk", "status")
    ]
    outputs = GenerationOutput.objects.exclude(state=OutputState.STORED)
    left += [f"output {pk} is {state}" for pk, state in outputs.values_list("pk", "state")]
    unrecorded = Generation.objects.filter(status=GenerationStatus.SUCCEEDED, outputs__isnull=True)
    left += [
        f"generation {pk} has no output rows" for pk in unrecorded.values_list("pk", flat=True)
    ]
    return left


def _kill_and_restart(run: Stack, worker: Child, report: Report, index: int) -> Child:
    from django_babysea.models import Generation, GenerationOutput, OutputState

    assert run.sandbox is not None
    sends = Generation.objects.filter(send_claimed_at__isnull=False).count()
    copies = GenerationOutput.objects.filter(state=OutputState.COPYING).count()
    worker.kill()  # SIGKILL to the whole process group: no warm shutdown, no ack
    worker.process.wait(timeout=10)
    report.tried.append(
        f"kill {index}: SIGKILL to the worker with {sends} rows claimed for sending, "
        f"{copies} copies in progress, {run.sandbox.creates()} create calls so far"
    )
    time.sleep(1)
    return run.start_worker(run.env["CELERY_QUEUE"], name=f"worker-{index}")


def _sweep(report: Report) -> None:
    from django_babysea.services.many import resend_generations
    from django_babysea.services.outputs import copy_pending_outputs

    resent = resend_generations()
    copied = copy_pending_outputs()
    if resent.accepted or resent.rejected or copied["stored"] or copied["failed"]:
        report.figures.append(f"sweep: resent {resent.accepted}, copies {copied}")


def check(run: Stack, report: Report, count: int) -> None:
    from django_babysea.client import BabySea
    from django_babysea.models import Generation, GenerationOutput, OutputState

    assert run.sandbox is not None
    client = BabySea(api_key=run.env["BABYSEA_API_KEY"], base_url=run.sandbox.url)
    remote = Counter(str(g.generation_id) for g in client.iter_generations(page_size=100))
    rows = list(Generation.objects.all())
    ids = Counter(str(row.generation_id) for row in rows if row.generation_id)
    if len(rows) != count:
        report.lost.append(f"{len(rows)} local rows for {count} submissions")
    report.lost += [f"remote {rid} has no local row" for rid in remote if rid not in ids]
    report.lost += [f"remote {rid} belongs to {n} rows" for rid, n in ids.items() if n > 1]
    if sum(remote.values()) != count:
        report.lost.append(f"{sum(remote.values())} remote generations for {count} rows")
    for row in rows:
        if row.generation_id is None:
            report.lost.append(f"generation {row.pk} was never sent")
            continue
        expected = run.sandbox.generation(str(row.generation_id))["generation_status"]
        if row.status != expected:
            report.lost.append(f"generation {row.pk}: {row.status}, the sandbox says {expected}")
    stored = GenerationOutput.objects.filter(state=OutputState.STORED)
    media = Path(run.env["DJANGO_MEDIA_ROOT"])
    files = [path for path in media.rglob("*") if path.is_file()]
    names = set(stored.values_list("name", flat=True))
    report.figures.append(
        f"remote generations: {sum(remote.values())}; outputs stored: {len(names)}; "
        f"files in storage: {len(files)}"
    )
    report.lost += [f"output file {n} is missing" for n in names if not (media / n).is_file()]
    extra = [str(p.relative_to(media)) for p in files if str(p.relative_to(media)) not in names]
    report.lost += [f"file {name} is a second copy (no row names it)" for name in extra]
    report.lost += _unfinished()


def run(count: int, kills: int, *, quick: bool) -> Report:
    report = Report("worker")
    queue = f"babysea-rel-{uuid.uuid4().hex[:10]}"
    with stack(celery_queue=queue) as run:
        run.env["RELIABILITY_VISIBILITY_TIMEOUT"] = str(VISIBILITY)
        site = free_port()
        sandbox = run.start_sandbox(f"http://127.0.0.1:{site}/babysea/webhook/")
        setup_django(run.env)
        run.start_site(site)
        worker = run.start_worker(queue)
        sandbox.inject(
            {
                "kind": "slow",
                "seconds": 2,
                "path": "/v1/generate/*",
                "method": "POST",
                "times": None,
                "probability": 0.5,
            }
        )
        if not quick:
            # The first output download stalls, so a kill finds a copy half-way (its lease
            # then holds until the sweep takes it over).
            sandbox.inject(
                {"kind": "output_stall", "seconds": 30, "path": "/files/*", "method": "GET"}
            )
        spread = max(4.0, count / 10)
        report.tried.append(
            f"{count} submissions over {spread:.0f} s through a Celery worker (4 threads, "
            f"acks_late, visibility timeout {VISIBILITY} s); {kills} SIGKILL(s)"
        )
        submitting = _submit(count, spread)
        for index in range(1, kills + 1):
            time.sleep(spread / (kills + 1))
            worker = _kill_and_restart(run, worker, report, index)
        submitting.join()
        sandbox.clear_faults()
        _wait(report)
        check(run, report, count)
    return report


def _wait(report: Report) -> None:
    """Let the worker finish on its own for ``GRACE`` seconds; then run the sweeps as the beat
    would, every 5 s, until nothing is left or ``DEADLINE``."""
    started = time.monotonic()
    swept = False
    while _unfinished() and time.monotonic() - started < DEADLINE:
        if time.monotonic() - started > GRACE:
            swept = True
            _sweep(report)
            time.sleep(5)
        else:
            time.sleep(0.5)
    how = "the sweeps were needed" if swept else "by the worker alone, no sweep"
    state = "still unfinished" if _unfinished() else "all done"
    report.figures.append(f"{state} after {time.monotonic() - started:.1f} s ({how})")
