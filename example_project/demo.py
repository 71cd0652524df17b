"""The demo: one image and one video generation, end to end, on the embedded sandbox.

Starts the sandbox in this process (no BabySea account, no network), drives it through the
project's client exactly as a site would drive BabySea, and saves the outputs under
``example_project/media/demo/``. Set ``BABYSEA_API_KEY`` (and optionally ``BABYSEA_BASE_URL``) to
run the same steps against a real BabySea account instead.
"""

from __future__ import annotations

import os
import sys
import uuid
from contextlib import ExitStack
from pathlib import Path

import httpx

from django_babysea.client import BabySea, BabySeaError
from django_babysea.sandbox import Sandbox

MEDIA = Path(__file__).resolve().parent / "media" / "demo"

JOBS = [
    (
        "bfl/flux-schnell",
        {
            "generation_prompt": "A harbor seal pup asleep on a snowy ice floe",
            "generation_ratio": "16:9",
            "generation_output_format": "png",
        },
    ),
    (
        "google/veo-2",
        {
            "generation_prompt": "Slow dolly shot along a frozen fjord at dawn",
            "generation_duration": 5,
            "generation_ratio": "16:9",
        },
    ),
]


def main() -> int:
    with ExitStack() as stack:
        api_key = os.environ.get("BABYSEA_API_KEY")
        base_url = os.environ.get("BABYSEA_BASE_URL")
        if not api_key:
            sandbox = stack.enter_context(Sandbox(speed=0.2, seed=7))
            api_key, base_url = sandbox.api_key, sandbox.url
            print(f"sandbox running at {sandbox.url}")
        client = stack.enter_context(BabySea(api_key=api_key, base_url=base_url))
        print(f"balance: {client.billing().billing_credit_balance:.3f} credits")
        MEDIA.mkdir(parents=True, exist_ok=True)
        for model, fields in JOBS:
            estimate = client.estimate(model, duration=fields.get("generation_duration"))
            created = client.generate(model, idempotency_key=f"demo-{uuid.uuid4()}", **fields)
            print(
                f"{model}: {created.generation_id} submitted "
                f"(estimated {estimate.cost_total_consumed:.3f} credits)"
            )
            generation = client.wait_for_generation(created.generation_id, interval=0.5)
            print(
                f"  {generation.generation_status} by {generation.generation_provider_used} "
                f"in {generation.generation_metrics_total_time}s"
            )
            for index, url in enumerate(generation.generation_output_file or []):
                target = MEDIA / f"{created.generation_id}-{index}{Path(url).suffix}"
                with httpx.stream("GET", url, timeout=60) as response:
                    response.raise_for_status()
                    with target.open("wb") as out:
                        for chunk in response.iter_bytes():
                            out.write(chunk)
                print(f"  saved {target} ({target.stat().st_size} bytes)")
        print(f"balance: {client.billing().billing_credit_balance:.3f} credits")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BabySeaError as exc:
        sys.exit(f"demo failed: {exc}")
