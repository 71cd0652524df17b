"""The demo: the example site with the embedded sandbox, ready to use in a browser.

1. starts from an empty database: the sandbox is new on every run and knows nothing of earlier
   runs, so the demo's SQLite file and its copied outputs (``MEDIA_ROOT/babysea``) are removed
   first; what a run made stays until the next run (or ``make clean``);
2. migrates that database;
3. starts the sandbox (no BabySea account, no network), configured to deliver its signed webhooks
   to the site;
4. starts a Celery worker when Redis answers (``--redis``, default ``REDIS_URL`` or
   ``redis://127.0.0.1:6379/0``), with ``USE_CELERY`` on for the site; otherwise the slow work
   runs in the site's own process;
5. starts the site (``runserver``) pointed at the sandbox;
6. runs ``manage.py babysea_generate`` for an image and a video, so the gallery is not empty:
   each is submitted through the services, finished by the sandbox's webhooks arriving at
   ``/babysea/webhook/``, copied into ``MEDIA_ROOT`` and printed, and shows what the site
   recorded (``babysea_status``, deliveries);
7. creates the superuser ``demo`` with a new password, prints the site's URLs and the login, and
   keeps everything running until Ctrl-C, which stops every process it started.

``--once`` stops after step 6 (no worker, no user): the scripted run CI uses.
``--wagtail`` runs the Wagtail example site instead (``example_site.settings_wagtail``, needs the
``wagtail`` extra): the same steps, plus a home page with an article and the editor ``editor``
(Wagtail's "Editors" group, not a superuser), whose login is printed with the Wagtail admin's URL.
A port that is taken ends the demo at once with one line naming a free one.
"""

from __future__ import annotations

import argparse
import errno
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

import httpx
from demo_processes import Children, celery_unavailable, shown, worker_command

HERE = Path(__file__).resolve().parent
MANAGE = [sys.executable, str(HERE / "manage.py")]
SITE_PORT = 8000
DATABASE = HERE / "db.sqlite3"
MEDIA_ROOT = HERE / "media"
#: Where the copies go inside MEDIA_ROOT (the default ``BABYSEA["UPLOAD_TO"]`` prefix).
COPIES = "babysea"
DEMO_USER = "demo"
WAGTAIL_SETTINGS = "example_site.settings_wagtail"
WAGTAIL_EDITOR = "editor"  # made by ``manage.py cms_demo``
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"

JOBS = [
    ["A harbor seal pup asleep on a snowy ice floe", "--model", "bfl/flux-schnell",
     "--ratio", "16:9"],
    ["Slow dolly shot along a frozen fjord at dawn", "--model", "google/veo-2",
     "--duration", "5"],
]  # fmt: skip


class DemoError(Exception):
    """Ends the demo with its message as the one line on stderr and exit status 1."""


def manage(*args: str, env: dict[str, str], quiet: bool = False) -> None:
    if not quiet:
        print(f"\n$ manage.py {' '.join(args)}", flush=True)
    output = subprocess.DEVNULL if quiet else None
    subprocess.run([*MANAGE, *args], env=env, check=True, stdout=output)


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
        "BABYSEA_USE_CELERY": "0",
        "DJANGO_DATABASE_PATH": str(options.database),
        "DJANGO_MEDIA_ROOT": str(options.media_root),
        # The request log would show every poll of the live pages: only problems are shown.
        "DJANGO_SERVER_LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    if options.wagtail:
        env["DJANGO_SETTINGS_MODULE"] = WAGTAIL_SETTINGS
    env.pop("DATABASE_URL", None)  # the demo's own SQLite file, never a configured database
    return env


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--once",
        action="store_true",
        help="generate an image and a video, show what the site recorded, and stop",
    )
    # Earlier demos stopped unless given --serve; keeping the site running is the default now.
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
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
    parser.add_argument(
        "--redis", default=REDIS_URL, help=f"broker of the Celery worker ({REDIS_URL})"
    )
    parser.add_argument(
        "--no-worker", action="store_true", help="never start a Celery worker, even with Redis"
    )
    parser.add_argument(
        "--wagtail",
        action="store_true",
        help="the Wagtail example site (settings_wagtail), with pages and an editor",
    )
    options = parser.parse_args()
    options.database = options.database.resolve()
    options.media_root = options.media_root.resolve()
    return options


def start_worker(children: Children, env: dict[str, str], options: argparse.Namespace) -> str:
    """Start a Celery worker and switch the site to it when Redis answers; say what was done."""
    if options.no_worker:
        return "not started (--no-worker); the site does the work itself"
    reason = celery_unavailable(options.redis)
    if reason:
        return f"not started ({reason}); the site does the work itself"
    queue = f"babysea-demo-{options.port}"  # one queue per demo, so two demos never mix
    env.update(BABYSEA_USE_CELERY="1", CELERY_BROKER_URL=options.redis, CELERY_QUEUE=queue)
    children.start("worker", worker_command(queue, options.port), env=env, cwd=HERE)
    return f"Celery on {shown(options.redis)}, queue {queue}"


def seed(env: dict[str, str]) -> None:
    """One image and one video, end to end. The commands wait for the copies (made by the site
    or its worker) so the gallery shows them when the URLs are printed."""
    for job in JOBS:
        manage("babysea_generate", *job, env={**env, "BABYSEA_USE_CELERY": "0"})
    manage("babysea_status", env=env)


def create_demo_user(env: dict[str, str]) -> str:
    """The superuser ``demo`` (so the admin works too) with a new random password."""
    password = secrets.token_urlsafe(9)
    manage(
        "createsuperuser",
        "--noinput",
        "--username",
        DEMO_USER,
        "--email",
        "demo@example.com",
        env={**env, "DJANGO_SUPERUSER_PASSWORD": password},
        quiet=True,
    )
    return password


def create_wagtail_editor(env: dict[str, str]) -> str:
    """The Wagtail demo's pages and its editor (not a superuser) with a new random password."""
    password = secrets.token_urlsafe(9)
    manage("cms_demo", "--password", password, env=env, quiet=True)
    return password


def announce(
    site: str, sandbox_url: str, password: str, worker: str, editor_password: str | None = None
) -> None:
    rows = [
        ("gallery", f"{site}/"),
        ("generate", f"{site}/generate/"),
        ("admin", f"{site}/admin/"),
        ("API", f"{site}/babysea/api/generations/"),
        ("login", f"{DEMO_USER} / {password}"),
        ("sandbox", sandbox_url),
        ("worker", worker),
    ]
    if editor_password is not None:
        rows[0:2] = [
            ("site", f"{site}/ (Wagtail pages)"),
            ("gallery", f"{site}/gallery/"),
            ("generate", f"{site}/gallery/generate/"),
        ]
        rows[3:3] = [
            ("wagtail", f"{site}/cms/"),
            ("editor", f"{WAGTAIL_EDITOR} / {editor_password}"),
            ("article", f"{site}/cms/pages/ (open the article, then its image: Generate tab)"),
        ]
    print("\nThe example site is running; Ctrl-C stops it.")
    for name, value in rows:
        print(f"  {name:<9} {value}")
    print(flush=True)


def run(options: argparse.Namespace, children: Children) -> int:
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
        editor = create_wagtail_editor(env) if options.wagtail else None
        worker = "not started (--once)" if options.once else start_worker(children, env, options)
        print(f"worker: {worker}", flush=True)
        server = children.start(
            "site",
            [*MANAGE, "runserver", f"127.0.0.1:{options.port}", "--noreload"],
            env=env,
            quiet=options.once,
        )
        wait_until_up(site, server)
        print(f"site: {site} (webhooks at {site}/babysea/webhook/)")
        seed(env)
        deliveries = sandbox.deliveries()
        codes = sorted({d["status_code"] for d in deliveries})
        print(f"\nwebhook deliveries to the site: {len(deliveries)}, answered {codes}")
        if options.once:
            return 0
        announce(site, sandbox.url, create_demo_user(env), worker, editor)
        stopped = children.wait_for_any()
        raise DemoError(f"demo stopped: the {stopped} exited; everything else was stopped too")


def interrupt(signum: int, frame: FrameType | None) -> None:
    """Ctrl-C, SIGTERM and SIGHUP end the demo alike: every child is stopped."""
    raise KeyboardInterrupt


def main() -> int:
    options = parse()
    if not port_is_free(options.port):
        raise port_in_use(options.port, "PORT", "--port")
    if options.sandbox_port and not port_is_free(options.sandbox_port):
        raise port_in_use(options.sandbox_port, "SANDBOX_PORT", "--sandbox-port")
    # SIGINT too: a shell starting the demo in the background hands it SIGINT ignored.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, interrupt)
    with Children() as children:
        try:
            return run(options, children)
        except KeyboardInterrupt:
            print("\nStopping the site, the worker and the sandbox...", flush=True)
    print("Stopped.", flush=True)
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
