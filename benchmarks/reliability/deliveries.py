"""Deliveries: real sandbox webhooks, re-sent to gunicorn duplicated, reordered and at once.

1. The sandbox sends its webhooks to a collector in this process. Generations are submitted
   through ``submit_generation`` (so the site knows them) and finish at once at the sandbox,
   about a third of them failing at the provider: each yields a ``generation.started`` and a
   ``generation.completed`` or ``generation.failed`` delivery.
2. The schedule: every collected delivery, a share of generations with their terminal event
   first, and copies of random deliveries (same delivery id and body) inserted later on, up to
   the requested total. Each post is signed afresh (the signature carries a timestamp).
3. 16 sender threads post the schedule to gunicorn (keep-alive connections). A 5xx or a broken
   connection is counted and posted again, as BabySea would.
4. Checked: every generation's status equals the sandbox's; its ledger has exactly one reserve
   and one charge (succeeded) or refund (failed), each of the sandbox's amount; every distinct
   delivery id is stored once; no 5xx.
"""

from __future__ import annotations

import http.client
import json
import queue
import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final
from urllib.parse import urlsplit

from .harness import SECRET, Stack, free_port, setup_django, wait_for
from .report import Report

SENDERS: Final = 16
DUPLICATES: Final = 0.30
REORDERED: Final = 0.20
FAILING: Final = 0.30
HEADERS: Final = ("X-BabySea-Event", "X-BabySea-Delivery-Id", "X-BabySea-Timestamp")


@dataclass(frozen=True)
class Delivery:
    generation_id: str
    event: str
    delivery_id: str
    body: bytes
    headers: tuple[tuple[str, str], ...]


class Collector:
    """An HTTP endpoint that keeps every webhook the sandbox sends and answers 200."""

    def __init__(self) -> None:
        self.received: list[Delivery] = []
        lock = threading.Lock()
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                data = json.loads(body).get("webhook_data") or {}
                headers = tuple((name, self.headers.get(name) or "") for name in HEADERS)
                delivery = Delivery(
                    str(data.get("generation_id")),
                    self.headers.get("X-BabySea-Event") or "",
                    self.headers.get("X-BabySea-Delivery-Id") or "",
                    body,
                    headers,
                )
                with lock:
                    received.append(delivery)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _submit(count: int) -> list[str]:
    from django.db import connection

    from django_babysea.services import submit_generation

    def one(index: int) -> str:
        try:
            row = submit_generation("bfl/flux-schnell", generation_prompt=f"delivery run {index}")
            return str(row.generation_id)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(one, range(count)))


def schedule(
    received: list[Delivery], total: int, rng: random.Random
) -> tuple[list[Delivery], int]:
    """The posting order, and how many generations have their terminal event first."""
    by_generation: dict[str, list[Delivery]] = {}
    for delivery in received:
        by_generation.setdefault(delivery.generation_id, []).append(delivery)
    order: list[Delivery] = []
    reordered = 0
    ids = list(by_generation)
    rng.shuffle(ids)
    for generation_id in ids:
        events = sorted(by_generation[generation_id], key=lambda d: d.event != "generation.started")
        if rng.random() < REORDERED:
            events.reverse()
            reordered += 1
        order.extend(events)
    # Copies go in after their original (a retry comes later), often close enough to race it.
    for _ in range(max(0, total - len(order))):
        at = rng.randrange(len(order))
        original = order[at]
        order.insert(min(len(order), at + 1 + rng.randrange(40)), original)
    return order, reordered


@dataclass
class Sent:
    statuses: Counter[int]
    errors: int
    reposted: int


def post_all(site_url: str, order: list[Delivery]) -> Sent:
    from django_babysea.client.webhooks import SIGNATURE_HEADER, sign

    host = urlsplit(site_url)
    todo: queue.Queue[Delivery] = queue.Queue()
    for delivery in order:
        todo.put(delivery)
    statuses: Counter[int] = Counter()
    counts = {"errors": 0, "reposted": 0}
    lock = threading.Lock()

    def sender() -> None:
        conn = http.client.HTTPConnection(host.hostname or "", host.port, timeout=60)
        while True:
            try:
                delivery = todo.get_nowait()
            except queue.Empty:
                break
            for _attempt in range(10):
                headers = dict(delivery.headers)
                headers[SIGNATURE_HEADER] = sign(SECRET, delivery.body)
                headers["Content-Type"] = "application/json"
                try:
                    conn.request("POST", "/babysea/webhook/", body=delivery.body, headers=headers)
                    response = conn.getresponse()
                    response.read()
                except (OSError, http.client.HTTPException):
                    conn.close()
                    conn = http.client.HTTPConnection(host.hostname or "", host.port, timeout=60)
                    with lock:
                        counts["errors"] += 1
                    continue
                with lock:
                    statuses[response.status] += 1
                if response.status < 500:
                    break
                with lock:
                    counts["reposted"] += 1
        conn.close()

    threads = [threading.Thread(target=sender) for _ in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Sent(statuses, counts["errors"], counts["reposted"])


def check(stack: Stack, report: Report, unique_ids: set[str]) -> None:
    from django_babysea.models import CreditEvent, Generation, WebhookDelivery

    assert stack.sandbox is not None
    stored = set(WebhookDelivery.objects.values_list("delivery_id", flat=True))
    missing = unique_ids - {str(each) for each in stored}
    report.lost += [f"delivery {each} was never stored" for each in sorted(missing)]
    ledger: dict[str, list[tuple[str, Decimal]]] = {}
    for generation, kind, amount in CreditEvent.objects.values_list(
        "generation_id", "kind", "amount"
    ):
        ledger.setdefault(str(generation), []).append((kind, abs(amount)))
    statuses: Counter[str] = Counter()
    for row in Generation.objects.all():
        remote = stack.sandbox.generation(str(row.generation_id))
        expected = remote["generation_status"]
        statuses[row.status] += 1
        if row.status != expected:
            report.lost.append(f"generation {row.pk}: {row.status}, the sandbox says {expected}")
        report.lost += _ledger_errors(row.pk, ledger.get(str(row.pk), []), remote["_sandbox"])
    report.figures.append(
        f"final states: {dict(sorted(statuses.items()))}; deliveries stored: {len(stored)}"
    )


def _ledger_errors(pk: Any, events: list[tuple[str, Decimal]], book: dict[str, Any]) -> list[str]:
    kinds = Counter(kind for kind, _ in events)
    amount = Decimal(str(book["reserved"]))
    settled = {"charged": "charge", "refunded": "refund"}.get(str(book.get("settlement")))
    wanted = Counter({"reserve": 1, **({settled: 1} if settled else {})})
    errors = []
    if kinds != wanted:
        errors.append(f"generation {pk}: ledger {dict(kinds)}, expected {dict(wanted)}")
    errors += [
        f"generation {pk}: {kind} of {value}, the sandbox says {amount}"
        for kind, value in events
        if value != amount
    ]
    return errors


def run(stack: Stack, total: int, seed: int = 1) -> Report:
    report = Report("deliveries")
    rng = random.Random(seed)
    generations = max(1, round(total * (1 - DUPLICATES) / 2))
    collector = Collector()
    try:
        sandbox = stack.start_sandbox(collector.url)
        setup_django(stack.env)
        stack.start_site(free_port())
        sandbox.inject(
            {
                "kind": "provider_failure",
                "provider": "*",
                "stage": "run",
                "times": None,
                "probability": FAILING,
            }
        )
        _submit(generations)
        sandbox.run_until_idle()
        wait_for("every webhook", lambda: len(collector.received) >= 2 * generations, None, 120)
    finally:
        collector.close()
    order, reordered = schedule(collector.received, total, rng)
    unique_ids = {d.delivery_id for d in order}
    report.tried.append(
        f"{len(order)} deliveries ({len(order) - len(unique_ids)} duplicates, "
        f"{reordered} of {generations} generations with the terminal event first) "
        f"from {SENDERS} senders to gunicorn"
    )
    started = time.monotonic()
    sent = post_all(stack.site_url, order)
    elapsed = time.monotonic() - started
    fives = sum(n for status, n in sent.statuses.items() if status >= 500)
    report.figures.append(
        f"answers: {dict(sorted(sent.statuses.items()))} in {elapsed:.1f} s "
        f"({len(order) / elapsed:.0f}/s); connection errors: {sent.errors}"
    )
    if fives:
        report.lost.append(f"{fives} answers were 5xx (posted again: {sent.reposted})")
    check(stack, report, unique_ids)
    return report
