"""The demo: the example site and the embedded sandbox, one image and one video end to end.

1. migrates the example site's SQLite database;
2. starts the sandbox (no BabySea account, no network), configured to deliver its signed webhooks
   to the site;
3. starts the site (``runserver``) pointed at the sandbox;
4. runs ``manage.py babysea_generate`` for an image and a video: each is submitted through the
   services, finished by the sandbox's webhooks arriving at ``/babysea/webhook/``, and printed;
5. shows what the site recorded (``babysea_status``, deliveries, credit ledger) and stops, or keeps
   both running with ``--serve`` until Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
MANAGE = [sys.executable, str(HERE / "manage.py")]
SITE_PORT = 8000

JOBS = [
    ["A harbor seal pup asleep on a snowy ice floe", "--model", "bfl/flux-schnell",
     "--ratio", "16:9"],
    ["Slow dolly shot along a frozen fjord at dawn", "--model", "google/veo-2",
     "--duration", "5"],
]  # fmt: skip


def manage(*args: str, env: dict[str, str]) -> None:
    print(f"\n$ manage.py {' '.join(args)}", flush=True)
    subprocess.run([*MANAGE, *args], env=env, check=True)


def wait_until_up(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit(f"demo failed: the site did not start at {url}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", action="store_true", help="keep the site and sandbox running")
    parser.add_argument("--port", type=int, default=SITE_PORT, help="port of the example site")
    options = parser.parse_args()

    from django_babysea.sandbox import Sandbox

    site = f"http://127.0.0.1:{options.port}"
    sandbox = Sandbox(speed=0.3, seed=7, webhooks=[f"{site}/babysea/webhook/"])
    with sandbox:
        env = {
            **os.environ,
            "BABYSEA_BASE_URL": sandbox.url,
            "BABYSEA_API_KEY": sandbox.api_key,
            "BABYSEA_WEBHOOK_SECRET": sandbox.webhook_secret,
            "PYTHONUNBUFFERED": "1",
        }
        print(f"sandbox: {sandbox.url} (demo key {sandbox.api_key[:9]}...)")
        manage("migrate", "--verbosity", "0", env=env)
        server = subprocess.Popen(
            [*MANAGE, "runserver", f"127.0.0.1:{options.port}", "--noreload"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_until_up(site)
            print(f"site: {site} (webhooks at {site}/babysea/webhook/)")
            for job in JOBS:
                manage("babysea_generate", *job, env=env)
            manage("babysea_status", env=env)
            deliveries = sandbox.deliveries()
            codes = sorted({d["status_code"] for d in deliveries})
            print(f"\nwebhook deliveries to the site: {len(deliveries)}, answered {codes}")
            if options.serve:
                print(f"\nsite at {site}, sandbox at {sandbox.url}; Ctrl-C stops both")
                server.wait()
        except KeyboardInterrupt:
            pass
        finally:
            server.terminate()
            server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except subprocess.CalledProcessError as exc:
        sys.exit(f"demo failed: {' '.join(exc.cmd[1:])} exited with {exc.returncode}")
