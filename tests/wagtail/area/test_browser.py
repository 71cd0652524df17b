"""The Generations area in a real browser: an editor signs in to Wagtail, opens the list
(thumbnails of stored outputs, statuses), then a generation's inspect view. Screenshots:
``docs/screenshots/wagtail-area-list.png`` and ``-inspect.png`` with ``BABYSEA_SCREENSHOTS=1``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from django_babysea.contrib.wagtail.library import submit_to_library
from django_babysea.models import Generation
from tests.live import LiveSite

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page
    from playwright.sync_api._generated import LocatorAssertions

    from django_babysea.sandbox import Sandbox

# The browser, the live site, the sandbox delivering to it and the signed-in page are the
# Wagtail browser tests' fixtures (imported in conftest.py); the editor is this folder's.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.urls("tests.wagtail.browser.urls"),
    # The Editors group and the home page come from Wagtail's migrations: kept across tests.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PROMPTS = (
    "A white lighthouse on a basalt cliff at dusk, gulls overhead",
    "A harbor seal pup asleep on a snowy ice floe, soft morning light",
    "A red fishing boat moored in a fjord under low clouds",
)
RUNNING = "A wooden pier in fog at sunrise, long exposure"


def expect(locator: Locator) -> LocatorAssertions:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def test_list_and_inspect(
    page: Page,
    live_site: LiveSite,
    site_sandbox: Sandbox,
    screenshot: Callable[..., Path],
    editor: Any,
) -> None:
    for prompt in PROMPTS:
        submit_to_library(
            editor, "bfl/flux-schnell", {"generation_prompt": prompt, "generation_ratio": "4:3"}
        )
    live_site.finish()  # BabySea finishes them; the webhooks store and import the outputs
    submit_to_library(editor, "bfl/flux-1.1-pro", {"generation_prompt": RUNNING})
    live_site.settle()
    assert Generation.objects.filter(status="succeeded").count() == len(PROMPTS)

    page.goto(f"{live_site.url}/cms/")
    page.get_by_role("link", name="Generations").first.click()
    expect(page.locator("h1")).to_contain_text("Generations")
    rows = page.locator("table.listing tbody tr")
    expect(rows).to_have_count(len(PROMPTS) + 1)
    thumbs = page.locator("img.babysea-area-thumb")
    expect(thumbs).to_have_count(len(PROMPTS))
    for number in range(len(PROMPTS)):
        expect(thumbs.nth(number)).to_have_js_property("complete", True)
        assert thumbs.nth(number).evaluate("img => img.naturalWidth") > 0
    table = page.locator("table.listing tbody")
    expect(table).to_contain_text("Generating")
    expect(table).to_contain_text("Succeeded")
    live_site.settle()
    screenshot("wagtail-area-list")

    page.get_by_role("link", name=PROMPTS[1]).click()
    expect(page.get_by_role("heading", name="Outputs")).to_be_visible()
    preview = page.locator(".babysea-area-outputs img").first
    expect(preview).to_have_js_property("complete", True)
    expect(page.locator(".babysea-area-facts")).to_contain_text(PROMPTS[1])
    expect(page.get_by_role("heading", name="In the library")).to_be_visible()
    expect(page.get_by_role("heading", name="Credits ledger")).to_be_visible()
    live_site.settle()
    # Wagtail's admin scrolls its content, not the page: a taller window shows all of it.
    page.set_viewport_size({"width": 1280, "height": 1900})
    screenshot("wagtail-area-inspect")
