"""``demo.py`` without ``--once``: the site keeps running with its gallery, prints the URLs and
a working login, starts a Celery worker only when Redis answers, and Ctrl-C (SIGINT) or a
SIGTERM stops every process it started."""

from __future__ import annotations

import re
import signal
from pathlib import Path

import httpx
import pytest

from .conftest import manage, process_env
from .running import RunningDemo, alive, persistent_demo

pytestmark = pytest.mark.slow

#: Nothing listens on port 9 (discard): Redis "does not answer".
NO_REDIS = "redis://127.0.0.1:9/0"
#: A Redis database of their own for these tests (the worker's queue is per demo port too).
REDIS = "redis://127.0.0.1:6379/14"


def redis_answers(url: str) -> bool:
    try:
        import redis
    except ImportError:
        return False
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except (redis.RedisError, OSError):
        return False


def command_line(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def add_user(tmp_path: Path, username: str, password: str) -> None:
    """A user who is not staff, in the running demo's database."""
    env = process_env(
        DJANGO_DATABASE_PATH=str(tmp_path / "db.sqlite3"),
        DJANGO_MEDIA_ROOT=str(tmp_path / "media"),
    )
    code = (
        "from django.contrib.auth.models import User; "
        f"User.objects.create_user({username!r}, password={password!r})"
    )
    done = manage("shell", "-c", code, env=env)
    assert done.returncode == 0, done.stderr


def sign_in(demo: RunningDemo, login: tuple[str, str] | None = None) -> httpx.Client:
    """A client signed in through the login page, as a browser would."""
    client = httpx.Client(base_url=demo.url, timeout=10)
    page = client.get("/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token, page.text
    username, password = login or demo.login
    done = client.post(
        "/accounts/login/",
        data={"csrfmiddlewaretoken": token[1], "username": username, "password": password},
    )
    assert done.status_code == 302, done.text
    assert done.headers["location"] == "/generate/"
    return client


def stops_cleanly(demo: RunningDemo, signum: int) -> None:
    children = demo.descendants()
    assert children, "the demo runs the site as a child process"
    assert demo.stop(signum) == 0, demo.output
    assert [line for line in demo.lines if line][-1] == "Stopped.", demo.output
    left = sorted(pid for pid in children if alive(pid))
    assert not left, f"left running: {[command_line(pid) for pid in left]}"


def test_serves_the_gallery_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    with persistent_demo(tmp_path, "--redis", NO_REDIS) as demo:
        assert demo.rows["worker"].startswith(
            f"not started (Redis at {NO_REDIS} does not answer"
        ), demo.output
        assert demo.rows["generate"] == f"{demo.url}/generate/"
        assert demo.rows["admin"] == f"{demo.url}/admin/"

        gallery = httpx.get(f"{demo.url}/", timeout=10)
        assert gallery.status_code == 200
        # The seeded image and video, served from the site's own copies.
        assert gallery.text.count('<article class="card"') == 2, gallery.text
        assert re.search(r'<img src="/media/babysea/[^"]+/0\.png"', gallery.text), gallery.text
        assert re.search(r'<video src="/media/babysea/[^"]+/0\.mp4"', gallery.text), gallery.text
        assert demo.rows["sandbox"] not in gallery.text

        assert httpx.get(f"{demo.url}/generate/").headers["location"] == (
            "/accounts/login/?next=/generate/"
        )
        client = sign_in(demo)
        assert client.get("/generate/").status_code == 200
        budget = client.get("/babysea/api/budget/").json()
        assert budget["limit"] == "10"
        assert client.get("/admin/").status_code == 200  # the demo user is a superuser

        # The card fragment of the generate page: for generations the policy lets one see.
        ids = re.findall(r'<article class="card" data-generation="([^"]+)"', gallery.text)
        card = client.get(f"/generations/{ids[0]}/media/")
        assert card.status_code == 200
        assert card.text.startswith(f'<article class="card" data-generation="{ids[0]}">')
        add_user(tmp_path, "visitor", "visitor-password")
        visitor = sign_in(demo, ("visitor", "visitor-password"))
        assert visitor.get(f"/generations/{ids[0]}/media/").status_code == 404
        assert visitor.get("/generations/not-a-uuid/media/").status_code == 404

        stops_cleanly(demo, signal.SIGINT)
    assert not re.search(r"^Traceback", demo.output, re.M), demo.output


def test_a_worker_when_redis_answers_and_sigterm_stops_it_too(tmp_path: Path) -> None:
    if not redis_answers(REDIS):
        pytest.skip(f"no Redis at {REDIS}")
    with persistent_demo(tmp_path, "--redis", REDIS) as demo:
        port = demo.url.rsplit(":", 1)[1]
        assert demo.rows["worker"] == f"Celery on {REDIS}, queue babysea-demo-{port}"
        commands = [command_line(pid) for pid in demo.descendants()]
        assert any(" celery " in c and f"babysea-demo-{port}" in c for c in commands), commands
        # The seeded generations went through the worker (webhooks processed, copies stored).
        assert re.search(
            r"^webhook deliveries to the site: \d+, answered \[200\]$", demo.output, re.M
        ), demo.output
        assert httpx.get(f"{demo.url}/", timeout=10).text.count('<article class="card"') == 2
        stops_cleanly(demo, signal.SIGTERM)
