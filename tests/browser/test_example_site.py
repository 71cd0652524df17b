"""The example site in a real browser, run the way ``make demo`` runs it (``demo.py``, persistent,
as a separate process with its own sandbox): sign in as the demo user, generate an image on the
generate page (estimate and budget shown, the form sent through the REST API), see it appear
without a reload, then find it in the gallery served from the site's own copy. Screenshots
``example-generate.png`` and ``example-gallery.png`` (``docs/screenshots/`` with
``make test-browser``)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.demo.running import RunningDemo, persistent_demo

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Route

pytestmark = pytest.mark.slow

TIMEOUT_MS = 15_000
#: The sandbox finishes in a few seconds; live.js backs off 1 s, 2 s, 4 s... between polls.
APPEAR_MS = 45_000
PROMPT = "A lighthouse on a cliff above a stormy sea, watercolor"
RETRIED_PROMPT = "A red fox curled up asleep in fresh snow"
Shot = Callable[..., Path]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDemo]:
    """``demo.py`` without a Celery worker (the site does the work), on free ports."""
    with persistent_demo(tmp_path_factory.mktemp("example-site"), "--no-worker") as running:
        yield running


@pytest.fixture
def page(browser: Browser, demo: RunningDemo) -> Iterator[Page]:
    """A new browser context signed in to the example site as the demo user (replaces the
    conftest's admin ``page``, so its ``screenshot`` fixture shoots this one)."""
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    context.set_default_timeout(TIMEOUT_MS)
    try:
        opened = context.new_page()
        opened.goto(f"{demo.url}/generate/")
        assert opened.url.startswith(f"{demo.url}/accounts/login/?next=/generate/")
        username, password = demo.login
        opened.fill("#id_username", username)
        opened.fill("#id_password", password)
        with opened.expect_navigation():
            opened.click("form.panel [type=submit]")
        assert opened.url == f"{demo.url}/generate/"
        yield opened
    finally:
        context.close()


def ready(page: Page) -> None:
    """The catalog, the estimate and the budget came from the API."""
    from playwright.sync_api import expect

    expect(page.locator("#id_model")).to_be_enabled()
    expect(page.locator("#id_model")).to_have_value("bfl/flux-schnell")
    expect(page.locator("#estimate")).to_have_text("0.005 credits")
    expect(page.locator("#budget")).to_have_text(re.compile(r"^[\d.]+ of 10 credits left$"))
    expect(page.locator("#budget-resets")).to_have_text(re.compile(r"^resets at \d\d:\d\d$"))


def api_generations(page: Page, prompt: str) -> list[dict[str, Any]]:
    answer = page.request.get(page.url.split("/generate/")[0] + "/babysea/api/generations/")
    assert answer.ok, answer.text()
    return [g for g in answer.json()["results"] if g["prompt"] == prompt]


def test_generate_an_image_and_see_it_in_the_gallery(
    page: Page, demo: RunningDemo, screenshot: Shot
) -> None:
    from playwright.sync_api import expect

    ready(page)
    page.fill("#id_prompt", PROMPT)
    page.select_option("#id_ratio", "4:3")
    # Proof that the page is never reloaded, and that live.js announces the stored image.
    page.evaluate(
        """() => { window.notReloaded = true; window.stored = [];
                   document.addEventListener('babysea:stored',
                                             e => window.stored.push(e.detail)); }"""
    )
    page.click("#submit")

    card = page.locator("#results article.card").first
    expect(card.locator(".prompt")).to_have_text(PROMPT)
    expect(card.locator("[data-babysea-live]")).to_have_count(1)  # the placeholder, live
    image = card.locator("img")
    expect(image).to_be_visible(timeout=APPEAR_MS)
    expect(card.locator("[data-babysea-live]")).to_have_count(0)
    assert page.evaluate("window.notReloaded === true")
    (generation,) = api_generations(page, PROMPT)
    assert generation["status"] == "succeeded"
    assert page.evaluate("window.stored.map(d => d.id)") == [generation["id"]]
    assert (image.get_attribute("src") or "").startswith("/media/babysea/")
    assert image.evaluate("i => i.complete && i.naturalWidth") > 0
    # The budget follows: what the image cost is spent.
    expect(page.locator("#budget")).to_have_text("9.995 of 10 credits left")
    screenshot("example-generate")

    page.click("nav >> text=Gallery")
    first = page.locator("article.card").first
    expect(first.locator(".prompt")).to_have_text(PROMPT)
    media = first.locator("img")
    expect(media).to_be_visible()
    assert media.evaluate("i => i.complete && i.naturalWidth") > 0
    local = f"{demo.url}/media/babysea/"
    assert media.evaluate("i => i.currentSrc").startswith(local)
    srcsets = [media.get_attribute("srcset") or ""] + [
        s.get_attribute("srcset") or "" for s in first.locator("picture source").all()
    ]
    assert srcsets[0], "the gallery's <img> has a srcset of the stored renditions"
    urls = [part.split()[0] for srcset in srcsets for part in srcset.split(",") if part.strip()]
    assert urls, srcsets
    assert all(url.startswith("/media/babysea/") for url in urls), urls
    assert demo.rows["sandbox"] not in page.content()
    # The seeded video shows its first frame (or poster), not a loading spinner: its data is
    # decoded and the browser stopped loading (preload="metadata" suspends after the start).
    page.wait_for_function(
        "[...document.querySelectorAll('video')]"
        ".every(v => v.readyState >= 2 && v.networkState !== v.NETWORK_LOADING)"
    )
    page.wait_for_timeout(1500)  # the controls' loading spinner fades out after that

    screenshot("example-gallery")


def test_an_answer_lost_on_the_way_is_sent_again_without_a_second_generation(
    page: Page,
) -> None:
    """The first answer never reaches the browser (the server did create the generation): the
    page says so, and sending again reuses the Idempotency-Key, so the API answers with the
    same generation and one card appears."""
    from playwright.sync_api import expect

    keys: list[str] = []

    def lose_first_answer(route: Route) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        keys.append(route.request.headers["idempotency-key"])
        if len(keys) == 1:
            route.fetch()  # the server creates the generation, the browser never hears of it
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/babysea/api/generations/", lose_first_answer)
    ready(page)
    page.fill("#id_prompt", RETRIED_PROMPT)
    page.click("#submit")
    expect(page.locator("#form-error")).to_contain_text("Send it again")
    assert len(api_generations(page, RETRIED_PROMPT)) == 1

    page.click("#submit")
    card = page.locator("#results article.card").first
    expect(card.locator(".prompt")).to_have_text(RETRIED_PROMPT)
    expect(card.locator("img")).to_be_visible(timeout=APPEAR_MS)
    assert len(keys) == 2
    assert keys[0] == keys[1]
    assert len(api_generations(page, RETRIED_PROMPT)) == 1
    expect(page.locator(f"#results .prompt:text-is('{RETRIED_PROMPT}')")).to_have_count(1)


def test_over_the_daily_budget_the_form_says_when_it_resets(page: Page) -> None:
    """Runs last: it spends the demo user's budget for the day on videos, through the real
    API, until the site refuses one with 429 ``budget_exceeded``."""
    from playwright.sync_api import expect

    ready(page)
    page.select_option("#id_model", "google/veo-2")
    page.select_option("#id_duration", "8")
    expect(page.locator("#estimate")).to_have_text("4 credits")
    page.fill("#id_prompt", "Waves rolling onto a black sand beach at dusk")
    for _ in range(3):  # 10 credits a day: the third 4-credit video is one too many
        if page.locator("#form-error").is_visible():
            break
        with page.expect_response("**/babysea/api/generations/"):
            page.click("#submit")
    expect(page.locator("#form-error")).to_have_text(
        re.compile(r"^Your budget for today is used up\. It resets at \d\d:\d\d\.$")
    )
    expect(page.locator("#budget")).to_have_text(re.compile(r"^[\d.]+ of 10 credits left$"))
