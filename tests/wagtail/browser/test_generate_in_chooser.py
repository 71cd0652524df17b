"""An editor's way through the Generate tab, in a real browser: sign in to Wagtail (an editor,
not a superuser), open an article, open the image chooser, switch to Generate, draft the
prompt from the page, generate, watch it finish without a reload, choose the image, publish,
and find it on the live page as ``{% image %}`` renders it. Screenshots: the tab, the finished
generation, the live page (``docs/screenshots/wagtail-*.png`` with ``BABYSEA_SCREENSHOTS=1``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django.conf import settings
from django.test import override_settings

from django_babysea.models import Generation
from tests.live import LiveSite
from tests.wagtail.chooser.conftest import make_article

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page
    from playwright.sync_api._generated import LocatorAssertions

    from django_babysea.sandbox import Sandbox

pytestmark = [
    pytest.mark.browser,
    pytest.mark.urls("tests.wagtail.browser.urls"),
    # The Editors group and the home page come from Wagtail's migrations: kept across tests.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

TITLE = "Lighthouses of the north"
INTRO = "Five towers on basalt cliffs that still keep their lamps lit through the winter."


def expect(locator: Locator) -> LocatorAssertions:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def test_generate_choose_publish(
    page: Page,
    live_site: LiveSite,
    site_sandbox: Sandbox,
    screenshot: Callable[..., Path],
    editor: Any,
) -> None:
    article = make_article(TITLE, INTRO)
    with override_settings(BABYSEA={**settings.BABYSEA, "USER_DAILY_BUDGET": "5"}):
        generate_and_choose(page, live_site, screenshot, article)
    publish_and_see(page, live_site, screenshot, article)
    generation = Generation.objects.get()
    assert generation.owner == editor
    assert generation.request["generation_prompt"].startswith("An editorial illustration")


def generate_and_choose(
    page: Page, live_site: LiveSite, screenshot: Callable[..., Path], article: Any
) -> None:
    page.goto(f"{live_site.url}/cms/pages/{article.pk}/edit/")
    page.locator("[data-chooser-action-choose]").first.click()
    tab = page.locator("#tab-label-babysea-generate")
    expect(tab).to_be_visible()
    tab.click()
    panel = page.locator("#tab-babysea-generate")
    expect(panel).to_be_visible()

    panel.locator("[data-babysea-draft]").click()
    prompt = panel.locator("[name='babysea-generation_prompt']")
    expect(prompt).to_have_value(
        f"An editorial illustration for an article titled “{TITLE}”. "
        f"{INTRO.rstrip('.')}. No text or lettering in the image."
    )
    expect(panel.locator("[name='babysea-title']")).to_have_value(TITLE)
    expect(panel.locator("[data-babysea-estimate]")).to_contain_text("Estimated cost")
    expect(panel.locator("[data-babysea-budget]")).to_contain_text(
        "Your budget today: 5.000 of 5.000"
    )
    panel.locator("[name='babysea-description']").fill("A white lighthouse on a dark cliff")
    page.set_viewport_size({"width": 1280, "height": 1650})  # the whole tab in one picture
    page.locator(".modal").evaluate("modal => { modal.scrollTop = 0; }")
    screenshot("wagtail-generate-tab")
    page.set_viewport_size({"width": 1280, "height": 900})

    page.evaluate("window.babyseaSamePage = true")  # gone if anything reloads the editor
    panel.locator("[data-babysea-submit]").click()
    progress = panel.locator("[data-babysea-progress]")
    expect(progress).to_be_visible()
    live_site.settle()
    live_site.finish()  # BabySea finishes; its webhooks reach the site, which imports the image
    choose = panel.locator("[data-babysea-choose]")
    expect(choose).to_be_visible(timeout=20_000)  # found by the tab's polling, no reload
    expect(panel.locator("[data-babysea-message]")).to_have_text("The image is in the library.")
    expect(panel.locator("[data-babysea-preview]")).to_have_js_property("complete", True)
    screenshot("wagtail-generate-finished")

    assert page.evaluate("window.babyseaSamePage") is True  # finished without a reload
    choose.click()
    expect(page.locator(".modal")).to_have_count(0)
    expect(page.locator("[data-chooser-title]").first).to_have_text(TITLE)


def publish_and_see(
    page: Page, live_site: LiveSite, screenshot: Callable[..., Path], article: Any
) -> None:
    page.locator("[data-w-dropdown-target='toggle']").last.click()
    with page.expect_navigation():
        page.locator("button[name='action-publish']").click()
    live_site.settle()

    page.goto(f"{live_site.url}{article.url}")
    image = page.locator("img.article-image")
    expect(image).to_be_visible()
    assert (image.get_attribute("src") or "").startswith("/media/images/")
    assert image.get_attribute("alt") == "A white lighthouse on a dark cliff"
    assert image.evaluate("img => img.naturalWidth") > 0  # the rendition was served
    screenshot("wagtail-live-page", full_page=True)
    live_site.settle()
