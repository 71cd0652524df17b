"""Browser tests of the Wagtail integration: headless Chromium on the live server, as in
tests/browser (whose fixtures for the browser, the live site and the sandbox are reused), signed
in to the Wagtail admin as an editor."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django.test import override_settings

from tests.browser.conftest import DOCS_SCREENSHOTS, TIMEOUT_MS
from tests.live import LiveSite
from tests.wagtail.chooser.conftest import make_editor

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

PASSWORD = "pw"  # make_editor's


@pytest.fixture
def editor(transactional_db: None) -> Iterator[Any]:
    # The migrated data (the Editors group) is there: tests/wagtail/conftest.py.
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield make_editor(publish=True)


def log_in(page: Page, site: LiveSite, username: str) -> None:
    """Sign in through Wagtail's login form, as a person would."""
    page.goto(f"{site.url}/cms/login/?next=/cms/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("form [type=submit]")
    assert page.url == f"{site.url}/cms/", f"login as {username!r} failed: {page.url}"
    site.settle()


@pytest.fixture
def page(browser: Browser, live_site: LiveSite, editor: Any) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 1200})
    context.set_default_timeout(TIMEOUT_MS)
    try:
        opened = context.new_page()
        log_in(opened, live_site, editor.get_username())
        yield opened
    finally:
        context.close()
        live_site.settle()


@pytest.fixture
def screenshot(page: Page, screenshot_dir: Path) -> Callable[..., Path]:
    """``screenshot(name)``: ``<name>.png`` in the run's screenshots, and in
    ``docs/screenshots/`` when ``BABYSEA_SCREENSHOTS`` is set."""

    def take(name: str, *, full_page: bool = False) -> Path:
        path = screenshot_dir / f"{name}.png"
        page.screenshot(path=path, full_page=full_page)
        if os.environ.get("BABYSEA_SCREENSHOTS"):
            DOCS_SCREENSHOTS.mkdir(exist_ok=True)
            shutil.copyfile(path, DOCS_SCREENSHOTS / path.name)
        return path

    return take
