"""Browser tests of the admin: headless Chromium (Playwright) on the live test server, with the
sandbox delivering its webhooks to the site over real HTTP.

Chromium is Debian's (``/usr/bin/chromium``, or ``BABYSEA_CHROMIUM``); Playwright does not
download one. Without it (or without the ``playwright`` package) the tests are skipped with the
reason, except in CI (``CI=true``), where they fail.

On in-memory SQLite the live server's threads share the test's one connection, so nothing may
use the database at the same time: the sandbox moves generations on only when the test says so
(``site.finish()``), and ``site.settle()`` waits until the server has finished every request
(including the work the webhook view defers until its response is sent) before the test thread
reads the database again. The same tests run unchanged on PostgreSQL.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django.contrib.auth.models import Permission
from django.test import override_settings
from pytest_django.live_server_helper import LiveServer

from django_babysea.services.connection import clear_clients
from tests.admin.conftest import make_staff
from tests.live import LiveSite, watching

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

    from django_babysea.sandbox import Sandbox

HERE = Path(__file__).parent
DOCS_SCREENSHOTS = HERE.parent.parent / "docs" / "screenshots"
CHROMIUM = os.environ.get("BABYSEA_CHROMIUM", "/usr/bin/chromium")
WEBHOOK_SECRET = "whsec_browser_tests_secret_0001"
PASSWORD = "pw"  # make_staff's
TIMEOUT_MS = 10_000
_SCREENSHOT_DIR = pytest.StashKey[Path]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "browser_context(**options): Playwright new_context() options for the page fixture "
        "(viewport, color_scheme, locale...)",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.browser)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    directory = config.stash.get(_SCREENSHOT_DIR, None)
    if directory is not None:
        terminalreporter.write_line(f"browser screenshots: {directory}")


def _unavailable(reason: str) -> None:
    """Skip on a developer's machine; fail in CI, where the browser tests must run."""
    if os.environ.get("CI", "").lower() in {"true", "1"}:
        pytest.fail(f"browser tests cannot run in CI: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """Headless Chromium, one for the browser tests (the launch is the slow part)."""
    if not os.access(CHROMIUM, os.X_OK):
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium, or BABYSEA_CHROMIUM)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install playwright)")
    # Playwright's sync API keeps an asyncio loop running in this thread, which makes Django
    # refuse the test thread's database queries; nothing here runs them concurrently.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def live_site(live_server: LiveServer) -> Iterator[LiveSite]:
    with watching(live_server.url) as site:
        yield site


@pytest.fixture
def site_sandbox(babysea_sandbox: Sandbox, live_site: LiveSite) -> Iterator[Sandbox]:
    """The sandbox, delivering its webhooks to the live site's ``/babysea/webhook/``, with
    ``BABYSEA`` pointing at it. Generations move on only at ``live_site.finish()``."""
    babysea_sandbox.auto_advance = False
    babysea_sandbox.add_webhook(f"{live_site.url}/babysea/webhook/", WEBHOOK_SECRET)
    babysea = {
        "API_KEY": babysea_sandbox.api_key,
        "BASE_URL": babysea_sandbox.url,
        "WEBHOOK_SECRETS": [WEBHOOK_SECRET],
        "MAX_RETRIES": 0,
        "TIMEOUT": 10,
    }
    live_site.sandbox = babysea_sandbox
    with override_settings(BABYSEA=babysea):
        yield babysea_sandbox
        live_site.settle()
    clear_clients()


@pytest.fixture
def editor(transactional_db: None) -> Iterator[Any]:
    """Staff with every permission of the app (models and BabySea actions), with a password
    hasher fast enough that signing in through the form costs nothing."""
    codenames = Permission.objects.filter(content_type__app_label="django_babysea")
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield make_staff("editor", *codenames.values_list("codename", flat=True))


def log_in(page: Page, site: LiveSite, username: str, password: str = PASSWORD) -> None:
    """Sign in through the admin's login form, as a person would."""
    page.goto(f"{site.url}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("#login-form [type=submit]")
    assert page.url == f"{site.url}/admin/", f"login as {username!r} failed: {page.url}"
    site.settle()


@pytest.fixture
def page(
    browser: Browser, live_site: LiveSite, editor: Any, request: pytest.FixtureRequest
) -> Iterator[Page]:
    """A fresh browser context, signed in to the admin as the editor. Context options (dark
    mode, a narrow viewport) come from the ``browser_context`` marker."""
    marker = request.node.get_closest_marker("browser_context")
    options: dict[str, Any] = {"viewport": {"width": 1280, "height": 800}}
    options.update(marker.kwargs if marker else {})
    context = browser.new_context(**options)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        opened = context.new_page()
        log_in(opened, live_site, editor.get_username())
        yield opened
    finally:
        context.close()
        live_site.settle()


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> Path:
    directory = tmp_path_factory.mktemp("screenshots", numbered=False)
    pytestconfig.stash[_SCREENSHOT_DIR] = directory
    return directory


@pytest.fixture
def screenshot(page: Page, screenshot_dir: Path) -> Callable[..., Path]:
    """``screenshot(name)`` saves the page as ``<name>.png`` in the run's temporary
    ``screenshots`` directory, and into ``docs/screenshots/`` when ``BABYSEA_SCREENSHOTS`` is
    set (``make test-browser``), so an ordinary test run leaves the documentation alone."""

    def take(name: str, *, full_page: bool = True) -> Path:
        assert re.fullmatch(r"[a-z0-9][a-z0-9-]*", name), f"bad screenshot name {name!r}"
        path = screenshot_dir / f"{name}.png"
        page.screenshot(path=path, full_page=full_page)
        if os.environ.get("BABYSEA_SCREENSHOTS"):
            DOCS_SCREENSHOTS.mkdir(exist_ok=True)
            shutil.copyfile(path, DOCS_SCREENSHOTS / path.name)
        return path

    return take
