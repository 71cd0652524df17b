"""The demo: the example site and the embedded sandbox, one image and one video end to end.

1. starts from an empty database: the sandbox is new on every run and knows nothing of earlier
   runs, so the demo's SQLite file and its copied outputs (``MEDIA_ROOT/babysea``) are removed
   first; what a run made stays until the next run (or ``make clean``);
2. migrates that database;
3. starts the sandbox (no BabySea account, no network), configured to deliver its signed webhooks
   to the site;
4. starts the site (``runserver``) pointed at the sandbox;
5. runs ``manage.py babysea_generate`` for an image and a video: each is submitted through the
   services, finished by the sandbox's webhooks arriving at ``/babysea/webhook/``, copied into
   ``MEDIA_ROOT`` and printed;
6. shows what the site recorded (``babysea_status``, deliveries) and stops, or keeps both running
   with ``--serve`` until Ctrl-C.

A port that is taken ends the demo at once with one line naming a free one.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
MANAGE = [sys.executable, str(HERE / "manage.py")]
SITE_PORT = 8000
DATABASE = HERE / "db.sqlite3"
MEDIA_ROOT = HERE / "media"
#: Where the copies go inside MEDIA_ROOT (the default ``BABYSEA["UPLOAD_TO"]`` prefix).
COPIES = "babysea"

JOBS = [
    ["A harbor seal pup asleep on a snowy ice floe", "--model", "bfl/flux-schnell",
     "--ratio", "16:9"],
    ["Slow dolly shot along a frozen fjord at dawn", "--model", "google/veo-2",
     "--duration", "5"],
]  # fmt: skip


class DemoError(Exception):
    """Ends the demo with its message as the one line on stderr and exit status 1."""


def manage(*args: str, env: dict[str, str]) -> None:
    print(f"\n$ manage.py {' '.join(args)}", flush=True)
    subprocess.run([*MANAGE, *args], env=env, check=True)


def port_is_free(port: int) -> bool:
    # Bind the way runserver and the sandbox do (SO_REUSEADDR), so connections of an earlier
    # run lingering in TIME_WAIT do not count as "in use"; a listener does.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def port_in_use(port: int, variable: str, flag: str) -> DemoError:
    free = next((p for p in range(port + 1, port + 200) if p < 65536 and port_is_free(p)), None)
    if free is None:
        return DemoError(f"Port {port} is in use; choose another with make demo {variable}=PORT.")
    return DemoError(
        f"Port {port} is in use; run make demo {variable}={free} (or demo.py {flag} {free})."
    )


def reset(database: Path, media_root: Path) -> None:
    """Remove what an earlier run left: the SQLite file (with its WAL files) and the copies."""
    for path in (database, *(database.with_name(database.name + s) for s in ("-wal", "-shm"))):
        path.unlink(missing_ok=True)
    shutil.rmtree(media_root / COPIES, ignore_errors=True)
    database.parent.mkdir(parents=True, exist_ok=True)


def wait_until_up(url: str, server: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise DemoError(f"demo failed: the site at {url} exited with {server.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise DemoError(f"demo failed: the site did not start at {url}")


def site_env(
    sandbox_url: str, api_key: str, secret: str, options: argparse.Namespace
) -> dict[str, str]:
    env = {
        **os.environ,
        "BABYSEA_BASE_URL": sandbox_url,
        "BABYSEA_API_KEY": api_key,
        "BABYSEA_WEBHOOK_SECRET": secret,
        "DJANGO_DATABASE_PATH": str(options.database),
        "DJANGO_MEDIA_ROOT": str(options.media_root),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("DATABASE_URL", None)  # the demo's own SQLite file, never a configured database
    return env


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--serve", action="store_true", help="keep the site and sandbox running")
    parser.add_argument("--port", type=int, default=SITE_PORT, help="port of the example site")
    parser.add_argument(
        "--sandbox-port", type=int, default=0, help="port of the sandbox (0: any free port)"
    )
    parser.add_argument(
        "--database", type=Path, default=DATABASE, help=f"SQLite file, emptied first ({DATABASE})"
    )
    parser.add_argument(
        "--media-root",
        type=Path,
        default=MEDIA_ROOT,
        help=f"MEDIA_ROOT; its {COPIES}/ folder is emptied first ({MEDIA_ROOT})",
    )
    options = parser.parse_args()
    options.database = options.database.resolve()
    options.media_root = options.media_root.resolve()
    return options


def main() -> int:
    options = parse()
    if not port_is_free(options.port):
        raise port_in_use(options.port, "PORT", "--port")
    if options.sandbox_port and not port_is_free(options.sandbox_port):
        raise port_in_use(options.sandbox_port, "SANDBOX_PORT", "--sandbox-port")

    from django_babysea.sandbox import Sandbox

    site = f"http://127.0.0.1:{options.port}"
    sandbox = Sandbox(
        speed=0.3, seed=7, port=options.sandbox_port, webhooks=[f"{site}/babysea/webhook/"]
    )
    with sandbox:
        reset(options.database, options.media_root)
        env = site_env(sandbox.url, sandbox.api_key, sandbox.webhook_secret, options)
        print(f"sandbox: {sandbox.url} (demo key {sandbox.api_key[:9]}...)")
        print(f"database: {options.database} (new), media: {options.media_root}")
        manage("migrate", "--verbosity", "0", env=env)
        server = subprocess.Popen(
            [*MANAGE, "runserver", f"127.0.0.1:{options.port}", "--noreload"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_until_up(site, server)
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
            with contextlib.suppress(subprocess.TimeoutExpired):
                server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except DemoError as exc:
        sys.exit(str(exc))
    except subprocess.CalledProcessError as exc:
        sys.exit(f"demo failed: {' '.join(exc.cmd[1:])} exited with {exc.returncode}")
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        # The sandbox's port was taken between the check and the start.
        sys.exit(f"demo failed: {exc.strerror}; try again, or choose --sandbox-port")
