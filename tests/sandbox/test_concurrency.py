"""Many concurrent clients are all answered correctly, with consistent state afterwards."""

from __future__ import annotations

import threading
from collections import Counter
from decimal import Decimal

import httpx

from django_babysea.sandbox import Sandbox

from .conftest import client

THREADS, REQUESTS = 8, 50


def test_eight_threads_fifty_requests_each() -> None:
    with Sandbox(speed=0, webhook_speed=0, rate_limit=100_000, concurrency=(1000, 1000)) as sb:
        results: Counter[str] = Counter()
        created: list[str] = []
        failures: list[str] = []
        lock = threading.Lock()
        barrier = threading.Barrier(THREADS)

        def worker(n: int) -> None:
            with client(sb) as api:
                barrier.wait()
                for i in range(REQUESTS):
                    try:
                        kind = i % 5
                        if kind == 0:
                            response = api.post(
                                "/v1/generate/image/bfl/flux-schnell",
                                json={"generation_prompt": f"t{n} r{i}"},
                                headers={"Idempotency-Key": f"t{n}-r{i}"},
                            )
                            assert response.status_code == 200, response.text
                            with lock:
                                created.append(response.json()["data"]["generation_id"])
                        elif kind == 1:
                            response = api.get("/v1/content/list", params={"limit": 5})
                            assert response.json()["status"] == "success"
                        elif kind == 2:
                            response = api.get("/v1/estimate/google/veo-2?duration=8")
                            assert response.json()["data"]["cost_per_generation"] == 4.0
                        elif kind == 3:
                            response = api.get("/v1/status")
                            assert response.status_code == 200
                        else:
                            response = api.get("/v1/nope")
                            assert response.status_code == 403
                        with lock:
                            results[str(response.status_code)] += 1
                    except (AssertionError, httpx.HTTPError) as exc:  # collected, reported below
                        with lock:
                            failures.append(repr(exc))

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert failures == []
        assert sum(results.values()) == THREADS * REQUESTS
        assert len(set(created)) == THREADS * REQUESTS // 5
        sb.run_until_idle()
        with client(sb) as api:
            listed = api.get("/v1/content/list").json()
            assert listed["total"] == len(created)
            usage = api.get("/v1/usage").json()["data"]
        # the 403s reach no account; the list above counts, the usage call itself does not yet
        assert usage["usage_total_requests"] == THREADS * REQUESTS * 4 // 5 + 1
        assert sb.balance() == Decimal("100.000") - Decimal("0.005") * len(created)
        assert {g["generation_status"] for g in listed["data"]["generations"]} == {"succeeded"}
