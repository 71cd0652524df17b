"""What every reliability run stands on: its own PostgreSQL database, the sandbox in its own
process, the example site under gunicorn, optionally a Celery worker, and this process set up
as the same Django site (to call the services and read the models).

Every child runs in its own process group and is ended with its group, so nothing outlives a
run, even when it fails half-way.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

ROOT: Final = Path(__file__).resolve().parents[2]
EXAMPLE: Final = ROOT / "example_project"
SETTINGS: Final = "benchmarks.reliability.site_settings"
SECRET: Final = "whsec_reliability_runs_only_0123456789"  # noqa: S105 - signs local requests only
DATABASE_ENV: Final = ("BABYSEA_RELIABILITY_DATABASE_URL", "BABYSEA_TEST_DATABASE_URL")
DEFAULT_DATABASE: Final = "babysea_rel"
REDIS_ENV: Final = "BABYSEA_RELIABILITY_REDIS_URL"
DEFAULT_REDIS: Final = "redis://127.0.0.1:6379/13"
SANDBOX_LINE: Final = re.compile(r"on (http://\S+) ")


class HarnessError(Exception):
    """The run could not be set up: its figures would mean nothing."""


def database_url() -> str:
    """The run's database: ``BABYSEA_RELIABILITY_DATABASE_URL``, else the tests' server with
    the name ``babysea_rel`` (the tests' own database is never touched)."""
    if os.environ.get(DATABASE_ENV[0]):
        return os.environ[DATABASE_ENV[0]]
    base = os.environ.get(DATABASE_ENV[1]) or "postgres://postgres@127.0.0.1:5432/postgres"
    return urlunsplit(urlsplit(base)._replace(path=f"/{DEFAULT_DATABASE}"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- the database -------------------------------------------------------------------------------


class Database:
    """A PostgreSQL database created (dropped first if a crashed run left it) and dropped."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if not parts.scheme.startswith("postgres"):
            raise HarnessError(f"the reliability runs need PostgreSQL, not {parts.scheme!r}")
        self.url = url
        self.name = parts.path.lstrip("/")
        self.admin_url = urlunsplit(parts._replace(path="/postgres"))

    def _execute(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            admin.execute(sql)

    def create(self) -> None:
        self.drop()
        self._execute(f'CREATE DATABASE "{self.name}"')

    def drop(self) -> None:
        # FORCE: gunicorn's and the worker's connections may still be open.
        self._execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


# -- child processes ----------------------------------------------------------------------------


@dataclass
class Child:
    """A process started in its own group, with its output in a log file."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def kill(self, sig: int = signal.SIGKILL) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is None:
            self.kill(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=timeout)
        self.kill(signal.SIGKILL)  # the group: whatever the leader left behind
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=timeout)


def start(name: str, command: list[str], env: dict[str, str], logs: Path) -> Child:
    log = logs / f"{name}.log"
    with log.open("ab") as sink:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and modules
            command,
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, ended as a whole
        )
    return Child(name, process, log)


def wait_for(what: str, check: Any, child: Child | None = None, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(Exception):
            result = check()
            if result:
                return result
        if child is not None and child.process.poll() is not None:
            raise HarnessError(
                f"{child.name} exited ({child.process.returncode}):\n{child.output()}"
            )
        if time.monotonic() > deadline:
            tail = child.output()[-3000:] if child is not None else ""
            raise HarnessError(f"{what} did not happen within {timeout:.0f} s\n{tail}")
        time.sleep(0.1)


# -- the sandbox's control API ------------------------------------------------------------------


@dataclass
class SandboxControl:
    url: str

    def call(self, method: str, path: str, body: Any = None, timeout: float = 60.0) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 - a loopback URL we started
            self.url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            raw = response.read()
        return json.loads(raw) if raw else None

    def inject(self, *faults: dict[str, Any]) -> None:
        self.call("POST", "/_sandbox/faults", {"faults": list(faults)})

    def clear_faults(self) -> None:
        self.call("DELETE", "/_sandbox/faults")

    def generation(self, remote_id: str) -> dict[str, Any]:
        return dict(self.call("GET", f"/_sandbox/generations/{remote_id}")["generation"])

    def run_until_idle(self, timeout: float = 60.0) -> None:
        self.call("POST", "/_sandbox/run-until-idle", {"timeout": timeout}, timeout=timeout + 30)

    def requests(self) -> list[dict[str, Any]]:
        return list(self.call("GET", "/_sandbox/requests")["requests"])

    def creates(self) -> int:
        """How many create calls (``POST /v1/generate/...``) the sandbox received."""
        return sum(1 for r in self.requests() if r["method"] == "POST" and "/generate" in r["path"])


# -- the whole stack ----------------------------------------------------------------------------


@dataclass
class Stack:
    """The processes of one run and the environment they share."""

    env: dict[str, str]
    logs: Path
    database: Database
    children: list[Child] = field(default_factory=list)
    sandbox: SandboxControl | None = None
    site_url: str = ""

    def start_sandbox(self, webhook_url: str | None) -> SandboxControl:
        command = [sys.executable, "-m", "django_babysea.sandbox", "--port", "0"]
        command += ["--speed", "0", "--webhook-speed", "0", "--rate-limit", "100000000"]
        command += ["--concurrency", "100000,100000", "--balance", "10000000", "--seed", "7"]
        if webhook_url:
            command += ["--webhook-url", webhook_url, "--webhook-secret", SECRET]
        child = start("sandbox", command, self.env, self.logs)
        self.children.append(child)
        found = wait_for(
            "the sandbox's start line", lambda: SANDBOX_LINE.search(child.output()), child
        )
        self.sandbox = SandboxControl(found.group(1))
        self.env["BABYSEA_BASE_URL"] = self.sandbox.url
        return self.sandbox

    def start_site(self, port: int) -> str:
        command = [sys.executable, "-m", "gunicorn", "example_site.wsgi", "--workers", "2"]
        command += ["--threads", "8", "--bind", f"127.0.0.1:{port}", "--timeout", "60"]
        command += ["--chdir", str(EXAMPLE), "--log-level", "warning"]
        child = start("gunicorn", command, self.env, self.logs)
        self.children.append(child)
        self.site_url = f"http://127.0.0.1:{port}"
        wait_for("gunicorn", lambda: socket.create_connection(("127.0.0.1", port), 1), child)
        return self.site_url

    def start_worker(self, queue: str, name: str = "worker") -> Child:
        command = [sys.executable, "-m", "celery", "-A", "example_site", "worker"]
        command += ["--pool=threads", "--concurrency=4", "--without-gossip", "--without-mingle"]
        command += ["--loglevel=INFO", "-Q", queue, "-n", f"{queue}-{uuid.uuid4().hex[:6]}@rel"]
        env = {**self.env, "PYTHONPATH": os.pathsep.join([str(ROOT), str(EXAMPLE)])}
        child = start(name, command, env, self.logs)
        self.children.append(child)
        wait_for("the worker's ready line", lambda: " ready." in child.output(), child, 60.0)
        return child

    def stop(self) -> None:
        for child in reversed(self.children):
            child.stop()
        self.children.clear()


def base_env(database: Database, *, celery_queue: str | None = None) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": SETTINGS,
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(EXAMPLE)]),
        "PYTHONUNBUFFERED": "1",
        "DATABASE_URL": database.url,
        "BABYSEA_WEBHOOK_SECRET": SECRET,
        "BABYSEA_API_KEY": "bye_sandbox_demo_0123456789abcdef0123456789abcdef",
        "DJANGO_DEBUG": "1",
        "DJANGO_MEDIA_ROOT": tempfile.mkdtemp(prefix="babysea-rel-media-"),
        "BABYSEA_USE_CELERY": "1" if celery_queue else "0",
    }
    env.pop("CELERY_BROKER_URL", None)
    if celery_queue:
        env["CELERY_BROKER_URL"] = os.environ.get(REDIS_ENV) or DEFAULT_REDIS
        env["CELERY_QUEUE"] = celery_queue
    return env


def setup_django(env: dict[str, str]) -> None:
    """Make this process the example site, on the run's database, and migrate it."""
    os.environ.update(env)
    for path in (str(EXAMPLE), str(ROOT)):
        if path not in sys.path:
            sys.path.insert(0, path)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


@contextlib.contextmanager
def stack(*, celery_queue: str | None = None) -> Iterator[Stack]:
    """A fresh database, this process set up on it, and the children started by the caller;
    everything ended and dropped on the way out."""
    database = Database(database_url())
    database.create()
    logs = Path(tempfile.mkdtemp(prefix="babysea-reliability-"))
    env = base_env(database, celery_queue=celery_queue)
    run = Stack(env, logs, database)
    failed = True
    try:
        yield run
        failed = False
    finally:
        run.stop()
        from django.conf import settings

        if settings.configured:
            from django.db import connections

            connections.close_all()
        database.drop()
        shutil.rmtree(env["DJANGO_MEDIA_ROOT"], ignore_errors=True)
        if failed:
            sys.stderr.write(f"logs kept in {logs}\n")
        else:
            for log in logs.iterdir():
                log.unlink()
            logs.rmdir()
