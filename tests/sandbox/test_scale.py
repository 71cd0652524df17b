"""The sandbox at any size: requests and the scheduler do work that follows what is due, never
the number of generations stored (work is counted, never timed)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from django_babysea.sandbox import Sandbox
from django_babysea.sandbox.contract.errors import ApiError
from django_babysea.sandbox.state.idempotency import IdempotencyStore

from .conftest import assert_error, client, create, created_id

SEEDED = 20_000
ROOT = Path(__file__).resolve().parents[2]
BENCHMARK = ROOT / "benchmarks" / "sandbox_creates.py"


class CountingDict(dict[str, Any]):
    """The region's generation records, counting every walk over all of them."""

    walks = 0

    def __iter__(self) -> Any:
        type(self).walks += 1
        return super().__iter__()

    def values(self) -> Any:
        type(self).walks += 1
        return super().values()

    def items(self) -> Any:
        type(self).walks += 1
        return super().items()


def seed(sandbox: Sandbox, count: int, **body: Any) -> httpx.Response:
    return httpx.post(f"{sandbox.url}/_sandbox/seed", json={"count": count, **body}, timeout=60)


def raw(sandbox: Sandbox, generation_id: str) -> dict[str, Any]:
    found = sandbox.generation(generation_id)
    assert found is not None
    return found


def count_walks(sandbox: Sandbox) -> None:
    store = sandbox.region.store
    with store.lock:
        store.generations = CountingDict(store.generations)
    CountingDict.walks = 0


@pytest.fixture
def big() -> Any:
    """A sandbox holding SEEDED finished generations whose scheduler waits to be told."""
    with Sandbox(speed=0, rate_limit=1_000_000, auto_advance=False) as sandbox:
        assert seed(sandbox, SEEDED - 1).json() == {"seeded": SEEDED - 1}
        assert sandbox.seed(1) == 1  # the same from Python
        yield sandbox


def test_seed_stores_finished_generations_without_webhooks(big: Sandbox) -> None:
    with client(big) as api:
        listed = api.get("/v1/content/list", params={"limit": 2}).json()
        assert listed["total"] == SEEDED
        first = listed["data"]["generations"][0]
        assert first["generation_status"] == "succeeded"
        assert first["generation_output_file"][0].startswith(f"{big.url}/files/")
        assert api.get(first["generation_output_file"][0]).status_code == 200
    assert big.deliveries() == []
    assert big.balance() == big.config.balance  # seeded generations cost nothing


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"count": 0}, "count must be an integer"),
        ({"count": "many"}, "count must be an integer"),
        ({"count": 1, "model": "google/veo-2"}, "is not an image model"),
        ({}, "needs 'count'"),
    ],
)
def test_seed_refuses_bad_input(babysea_sandbox: Sandbox, body: Any, message: str) -> None:
    response = httpx.post(f"{babysea_sandbox.url}/_sandbox/seed", json=body)
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_request_paths_never_walk_every_generation(big: Sandbox) -> None:
    count_walks(big)
    with client(big) as api:
        generation_id = created_id(create(api))
        big.tick()
        assert api.get(f"/v1/content/{generation_id}").json()["data"]["generation_status"] == (
            "succeeded"
        )
        page = api.get("/v1/content/list", params={"limit": 5, "offset": 0}).json()
        assert page["data"]["generations"][0]["generation_id"] == generation_id
        assert page["total"] == SEEDED + 1
        assert api.delete(f"/v1/content/{generation_id}").status_code == 200
        assert api.get("/v1/health/inference/providers").status_code == 200
        assert api.get("/v1/health/inference/models").status_code == 200
        assert api.get("/v1/usage", params={"days": 1}).status_code == 200
    assert CountingDict.walks == 0


def test_a_tick_examines_only_what_is_due(big: Sandbox) -> None:
    agenda = big.region.store.agenda
    big.region.scheduler.stop()  # no background ticks: every examination below is counted
    with client(big) as api:
        ids = [created_id(create(api)) for _ in range(3)]
    before = agenda.examined
    assert big.tick() == 6  # pending -> processing -> succeeded, three times
    # Each popped transition (two each) plus the in-flight head checked for staleness.
    assert agenda.examined - before <= 2 * len(ids) + 3
    assert [raw(big, i)["generation_status"] for i in ids] == ["succeeded"] * 3
    before = agenda.examined
    assert big.tick() == 0
    assert agenda.examined == before  # nothing due, nothing looked at


def test_concurrency_cap_counts_the_in_flight_only() -> None:
    with Sandbox(speed=0, auto_advance=False, concurrency=(2, 1)) as sandbox:
        seed(sandbox, 5_000)
        with client(sandbox) as api:
            created_id(create(api))
            created_id(create(api))
            assert_error(create(api), "BSE1009", 429)
            sandbox.tick()
            created_id(create(api))


def test_list_pages_are_newest_first_slices() -> None:
    with Sandbox(speed=0, rate_limit=1_000_000) as sandbox:
        seed(sandbox, 30)
        with client(sandbox) as api:
            mine = [created_id(create(api)) for _ in range(3)]

            def page(offset: int, limit: int) -> list[str]:
                params = {"offset": offset, "limit": limit}
                found = api.get("/v1/content/list", params=params).json()
                return [g["generation_id"] for g in found["data"]["generations"]]

            assert page(0, 3) == mine[::-1]
            everything = page(0, 100)
            assert len(everything) == 33
            assert page(2, 2) == everything[2:4]
            assert page(32, 10) == everything[32:]
            assert page(33, 10) == []
            created = [raw(sandbox, i)["generation_created_at"] for i in everything]
            assert created == sorted(created, reverse=True)


def test_retention_pops_files_then_records_in_deadline_order() -> None:
    retention = {"output_files": 5, "records": 10}
    with Sandbox(speed=0, auto_advance=False, retention=retention) as sandbox:
        agenda = sandbox.region.store.agenda
        sandbox.region.scheduler.stop()
        seed(sandbox, 100)
        sandbox.travel(3)
        seed(sandbox, 50)
        before = agenda.examined
        sandbox.travel(3)  # t=6: the first 100 lose their files (due at 5), nothing else
        assert agenda.examined - before == 100
        with client(sandbox) as api:
            listed = api.get("/v1/content/list", params={"limit": 100}).json()["data"]
        files = [g["generation_output_file"] is not None for g in listed["generations"]]
        assert files == [True] * 50 + [False] * 50
        before = agenda.examined
        sandbox.travel(5)  # t=11: the first 100 records (due at 10), the 50's files (due at 8)
        assert agenda.examined - before == 150
        with client(sandbox) as api:
            listed = api.get("/v1/content/list", params={"limit": 100}).json()
        assert listed["total"] == 50
        assert len(sandbox.region.store.generations) == 50


def test_health_reads_the_last_five_minutes_of_attempts_only() -> None:
    with Sandbox(speed=0, auto_advance=False) as sandbox, client(sandbox) as api:
        sandbox.region.scheduler.stop()
        sandbox.seed(10)
        count_walks(sandbox)

        def attempts() -> int:
            found = api.get("/v1/health/inference/providers").json()["data"]["providers"]
            return sum(p["window"]["total_attempts"] for p in found)

        assert attempts() == 10
        sandbox.travel(301)  # housekeeping forgets them, health or not
        assert sandbox.region.store.agenda.attempts_since(0) == []
        assert attempts() == 0
        assert CountingDict.walks == 0


def test_idempotency_keys_expire_oldest_first_without_a_scan() -> None:
    store = IdempotencyStore(window=100)
    for at, key in [(0, "a"), (5, "open"), (10, "b"), (20, "c")]:
        assert store.begin("acct", key, f"print-{key}", at) is None
        if key != "open":  # "open" stays in progress
            store.complete("acct", key, 200, b"{}", f"gen-{key}")
    assert store.expire(99) == 0
    assert store.examined == 0
    assert store.held() == [("acct", "a"), ("acct", "open"), ("acct", "b"), ("acct", "c")]
    assert store.expire(106) == 1  # "a" and "open" reached the end of their window: "a" goes
    assert store.examined == 2
    assert store.held() == [("acct", "b"), ("acct", "c")]
    assert store.expire(125) == 2
    assert store.examined == 4
    assert store.held() == []
    # The claim in progress was never dropped; once its window is over a new claim replaces it.
    with pytest.raises(ApiError):
        store.begin("acct", "open", "print-open", 100)
    assert store.begin("acct", "open", "print-open", 130) is None


def test_idempotency_keys_expire_over_http() -> None:
    with Sandbox(speed=0, rate_limit=1_000_000) as sandbox, client(sandbox) as api:
        store = sandbox.region.idempotency
        headers = {"Idempotency-Key": "first-key-0001"}
        body = {"generation_prompt": "a seal"}
        api.post("/v1/generate/image/bfl/flux-schnell", json=body, headers=headers)
        sandbox.travel(3600)
        headers = {"Idempotency-Key": "second-key-0002"}
        api.post("/v1/generate/image/bfl/flux-schnell", json=body, headers=headers)
        assert [key for _, key in store.held()] == ["first-key-0001", "second-key-0002"]
        sandbox.travel(23 * 3600)  # the first key's 24 hours are over, not the second's
        assert [key for _, key in store.held()] == ["second-key-0002"]


REPORT = [
    r"sandbox_creates: POST /v1/generate/image/bfl/flux-schnell at 1,16 clients, empty and "
    r"with 2000 generations stored, sandbox speed 0; median of 1 interleaved rounds of 0\.5 s "
    r"per cell",
    r"code measured: .+django_babysea, Python 3\.\d+\.\d+",
    r"\| server \| stored \| clients \| creates/s \| ratio to trivial \| stored vs empty \|",
    r"\| --- \| ---: \| ---: \| ---: \| ---: \| ---: \|",
    r"\| trivial stdlib server \(fixed JSON\) \| - \| 1 \| [\d.]+ \| 1\.00x \| - \|",
    r"\| trivial stdlib server \(fixed JSON\) \| - \| 16 \| [\d.]+ \| 1\.00x \| - \|",
    r"\| sandbox \| 0 \| 1 \| [\d.]+ \| [\d.]+x \| 1\.00x \|",
    r"\| sandbox \| 0 \| 16 \| [\d.]+ \| [\d.]+x \| 1\.00x \|",
    r"\| sandbox \| 2000 \| 1 \| [\d.]+ \| [\d.]+x \| [\d.]+x \|",
    r"\| sandbox \| 2000 \| 16 \| [\d.]+ \| [\d.]+x \| [\d.]+x \|",
    r"seeded 2000 generations in [\d.]+ s",
    r"target >= 500 creates/s at 1 and 16 clients with 2000 stored: (PASS|FAIL)",
]


def test_benchmark_quick_run_prints_its_whole_report() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCHMARK), "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == len(REPORT), done.stdout
    for line, pattern in zip(lines, REPORT, strict=True):
        assert re.fullmatch(pattern, line), (pattern, line)


def test_benchmark_refuses_bad_options() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCHMARK), "--clients", "0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "must be at least 1" in done.stderr
