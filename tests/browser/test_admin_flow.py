"""An editor's day in the admin, in a real browser: create an image and a video generation
through the create page, watch the change list's live status flip to succeeded without a
reload, see the previews, cancel one and delete one through their confirmation pages, and open
the dashboard; plus dark mode and a 400 px wide screen. Every step saves a screenshot
(``docs/screenshots/`` with ``make test-browser``).

The sandbox moves generations on only at ``live_site.finish()`` (see conftest), and the page's
clock is Playwright's: status.js polls when the test lets time pass, never while the test thread
uses the shared in-memory SQLite connection.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from django_babysea.models import Generation, GenerationStatus
from django_babysea.services import submit_generation

from .conftest import LiveSite

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page
    from playwright.sync_api._generated import LocatorAssertions

    from django_babysea.sandbox import Sandbox

CHANGELIST = "/admin/django_babysea/generation/"
ADD = f"{CHANGELIST}add/"
DASHBOARD = "/admin/django_babysea/dashboard/"
IMAGE_MODEL = "bfl/flux-schnell"
VIDEO_MODEL = "bytedance/seedance-1.5-pro"
PROMPT = "A harbor seal pup asleep on a snowy ice floe"
VIDEO_PROMPT = "A harbor seal pup rolls over on the ice, slow camera pan"
POLL_MS = 4_000  # status.js's first interval
Shot = Callable[..., Path]


def expect(locator: Locator) -> LocatorAssertions:
    """Playwright's retrying assertions (imported late: without playwright the tests skip)."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def freeze_clock(page: Page) -> None:
    """Timers on the page run only when the test advances the clock (``run_for``)."""
    page.clock.install()
    page.clock.pause_at(page.evaluate("Date.now()") + 1_000)


def create_through_the_form(
    page: Page, site: LiveSite, model: str, prompt: str, shot: Shot, name: str
) -> Generation:
    """Step 1: pick ``model``; step 2: fill the prompt, wait for the estimate, submit."""
    page.goto(f"{site.url}{ADD}")
    link = page.locator(".babysea-model a").filter(has_text=model)
    if name == "image":
        shot("generation-create-choose-model")
    with page.expect_navigation():
        link.click()
    assert page.locator("#babysea-create-form").is_visible()
    estimate = page.locator("#babysea-estimate")
    page.fill("#id_generation_prompt", prompt)
    expect(estimate).to_contain_text("Estimated cost")  # fetched by create.js
    if page.locator("#id_generation_duration").count():
        # A priced field changed: the script asks again, and the figure follows.
        before = estimate.inner_text()
        options = page.locator("#id_generation_duration option").all_inner_texts()
        page.select_option("#id_generation_duration", options[-1])
        expect(estimate).not_to_have_text(before)
        expect(estimate).to_contain_text("Estimated cost")
    shot(f"generation-create-{name}-form")
    with page.expect_navigation():
        page.click("#babysea-create-form [type=submit]")
    site.settle()
    generation = Generation.objects.get(model_identifier=model, prompt=prompt)
    assert page.url.startswith(f"{site.url}{CHANGELIST}{generation.pk}/change/"), page.url
    return generation


def local_src(element: Locator) -> str:
    """The element's ``src``, which must be the site's stored copy, never BabySea's URL."""
    src = element.get_attribute("src")
    assert src is not None, "no src"
    assert src.startswith("/media/"), src
    return src


def wait_loaded(page: Page, element: Locator) -> None:
    """Wait until the browser has decoded the image, or read the video's dimensions."""
    page.wait_for_function(
        """el => el.tagName === "VIDEO" ? el.readyState >= 1 && el.videoWidth > 0
                                        : el.complete && el.naturalWidth > 0""",
        arg=element.element_handle(),
    )


def pill(page: Page, generation: Generation) -> Locator:
    row = page.locator("#result_list tbody tr").filter(
        has=page.locator(f"a[href^='{CHANGELIST}{generation.pk}/change/']")
    )
    return row.locator(".babysea-pill")


def test_create_watch_and_preview(
    page: Page, live_site: LiveSite, site_sandbox: Sandbox, screenshot: Shot
) -> None:
    image = create_through_the_form(page, live_site, IMAGE_MODEL, PROMPT, screenshot, "image")
    video = create_through_the_form(page, live_site, VIDEO_MODEL, VIDEO_PROMPT, screenshot, "video")
    assert {image.kind, video.kind} == {"image", "video"}

    freeze_clock(page)
    page.goto(f"{live_site.url}{CHANGELIST}")
    live_site.settle()
    for generation in (image, video):
        assert pill(page, generation).get_attribute("data-babysea-live") == str(generation.pk)
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    page.evaluate("window.babyseaSamePage = true")
    screenshot("generation-change-list-live")

    live_site.finish()  # the sandbox completes both; only its webhooks tell the site
    assert set(Generation.objects.values_list("status", flat=True)) == {GenerationStatus.SUCCEEDED}
    page.clock.run_for(POLL_MS)  # status.js's next poll
    for generation in (image, video):
        pill(page, generation).and_(page.locator(".babysea-pill--succeeded")).wait_for()
        assert pill(page, generation).get_attribute("data-babysea-live") is None
    live_site.settle()
    assert navigations == []
    assert page.evaluate("window.babyseaSamePage") is True
    screenshot("generation-change-list-live-succeeded")

    page.reload()
    thumb = pill(page, image).locator("xpath=ancestor::tr").locator("img")
    local_src(thumb)
    thumb.scroll_into_view_if_needed()  # it is loading="lazy"
    wait_loaded(page, thumb)
    live_site.settle()
    screenshot("generation-change-list-previews")

    page.goto(f"{live_site.url}{CHANGELIST}{image.pk}/change/")
    large = page.locator(".babysea-preview img")
    local_src(large)
    wait_loaded(page, large)
    live_site.settle()
    screenshot("generation-change-image")

    page.goto(f"{live_site.url}{CHANGELIST}{video.pk}/change/")
    player = page.locator(".babysea-preview video")
    local_src(player)
    wait_loaded(page, player)
    live_site.settle()
    screenshot("generation-change-video")


def delivered(site: LiveSite, sandbox: Sandbox, generation: Generation, event: str) -> None:
    """Wait until the sandbox has delivered ``event`` for ``generation`` and the site has
    handled it."""
    remote_id = str(generation.generation_id)
    deadline = time.monotonic() + 10
    while not (
        found := [
            d for d in sandbox.deliveries() if d["event"] == event and remote_id in str(d["body"])
        ]
    ):
        assert time.monotonic() < deadline, f"no {event} delivered for {remote_id}"
        time.sleep(0.01)
    assert found[-1]["status_code"] == 200, found
    site.settle()


def run_action(page: Page, generations: list[Generation], action: str) -> None:
    """Tick the rows, pick ``action`` and press Go, as an editor would."""
    for generation in generations:
        page.check(f"#result_list input[name=_selected_action][value='{generation.pk}']")
    page.select_option("select[name=action]", action)
    with page.expect_navigation():
        page.click("button[name=index]")


def test_cancel_and_delete_through_confirmation_pages(
    page: Page, live_site: LiveSite, site_sandbox: Sandbox, screenshot: Shot
) -> None:
    freeze_clock(page)
    done = submit_generation(IMAGE_MODEL, generation_prompt=PROMPT)
    live_site.finish()
    busy = submit_generation(IMAGE_MODEL, generation_prompt="A seal pup that will never wake")
    site_sandbox.advance(str(busy.generation_id), "processing")  # and keeps it there
    delivered(live_site, site_sandbox, busy, "generation.started")
    busy.refresh_from_db()
    assert busy.status == GenerationStatus.PROCESSING

    page.goto(f"{live_site.url}{CHANGELIST}")
    run_action(page, [busy, done], "cancel_at_babysea")
    assert page.locator("body.babysea-action-confirmation").is_visible()
    assert page.locator("tr.babysea-eligible").count() == 1
    assert page.locator("tr.babysea-ineligible").count() == 1
    live_site.settle()
    screenshot("generation-cancel-confirmation")
    with page.expect_navigation():
        page.click("input[type=submit][value^='Yes']")
    live_site.settle()
    assert page.url.startswith(f"{live_site.url}{CHANGELIST}"), page.url
    assert page.locator(".messagelist .success").count() >= 1
    busy.refresh_from_db()
    assert busy.status == GenerationStatus.CANCELED
    assert pill(page, busy).inner_text() == str(GenerationStatus.CANCELED.label)
    screenshot("generation-cancel-done")

    stored = local_src(pill(page, done).locator("xpath=ancestor::tr").locator("img"))
    assert page.request.get(f"{live_site.url}{stored}").ok
    live_site.settle()
    run_action(page, [done], "delete_at_babysea")
    assert page.locator("tr.babysea-eligible").count() == 1
    live_site.settle()
    screenshot("generation-delete-confirmation")
    with page.expect_navigation():
        page.click("input[type=submit][value^='Yes']")
    live_site.settle()
    assert page.locator(".messagelist .success").count() >= 1
    done.refresh_from_db()
    assert done.removed
    remote = site_sandbox.generation(str(done.generation_id))
    assert remote is not None
    assert remote.get("generation_removed") is True
    assert page.request.get(f"{live_site.url}{stored}").status == 404  # the local copy too
    live_site.settle()
    screenshot("generation-delete-done")


def populate(site: LiveSite, sandbox: Sandbox) -> None:
    """A few generations of every outcome, for the dashboard and the list's screenshots."""
    for prompt in (PROMPT, "A grey seal on a pebble beach at dawn"):
        submit_generation(IMAGE_MODEL, generation_prompt=prompt)
    submit_generation(VIDEO_MODEL, generation_prompt=VIDEO_PROMPT, generation_duration=5)
    site.finish()
    failed = submit_generation("qwen/image", generation_prompt="A seal made of glass")
    sandbox.advance(str(failed.generation_id), "failed", error_code="BSE4001")
    delivered(site, sandbox, failed, "generation.failed")
    # Refused by BabySea at once (a video model on the image route): a long error message.
    submit_generation(VIDEO_MODEL, generation_prompt="A seal pup dives under the ice")
    submit_generation(IMAGE_MODEL, generation_prompt="A seal pup still on its way")
    site.settle()


def test_dashboard(
    page: Page, live_site: LiveSite, site_sandbox: Sandbox, screenshot: Shot
) -> None:
    freeze_clock(page)
    populate(live_site, site_sandbox)
    page.goto(f"{live_site.url}/admin/")
    with page.expect_navigation():
        page.click(f".app-django_babysea a[href='{DASHBOARD}']")
    live_site.settle()
    assert page.locator(".babysea-dashboard").is_visible()
    assert page.locator(".babysea-dashboard .babysea-notice").count() == 0  # BabySea answered
    assert "99." in page.locator(".babysea-card").first.inner_text()
    assert (
        page.locator(
            ".babysea-dashboard a[href*='error_code'], .babysea-dashboard a[href*='/change/']"
        ).count()
        >= 1
    )
    # Every table fits its panel: long model names and error messages wrap, nothing is cut.
    overflowing = page.evaluate(
        """[...document.querySelectorAll('.babysea-dashboard .babysea-scroll')]
            .filter(box => box.scrollWidth > box.clientWidth)
            .map(box => box.closest('section').querySelector('h2').textContent)"""
    )
    assert overflowing == []
    screenshot("dashboard")

    for model, name in (
        ("creditevent", "credit-events"),
        ("webhookdelivery", "webhook-deliveries"),
    ):
        page.goto(f"{live_site.url}/admin/django_babysea/{model}/")
        live_site.settle()
        assert page.locator("#result_list tbody tr").count() >= 5
        screenshot(name)
        # Ids (36-character UUIDs) take one line each, shortened, not four wrapped ones.
        lines = page.evaluate(
            """[...document.querySelectorAll(
                  '#result_list td.field-delivery_id, #result_list td.field-source')]
                .map(cell => { const r = document.createRange(); r.selectNodeContents(cell);
                               return new Set([...r.getClientRects()].map(l => l.top)).size; })"""
        )
        assert lines, name
        assert set(lines) == {1}, (name, lines)


@pytest.mark.browser_context(color_scheme="dark")
def test_dark_mode(
    page: Page, live_site: LiveSite, site_sandbox: Sandbox, screenshot: Shot
) -> None:
    freeze_clock(page)
    populate(live_site, site_sandbox)
    page.goto(f"{live_site.url}{CHANGELIST}")
    live_site.settle()
    screenshot("generation-change-list-dark")
    page.goto(f"{live_site.url}{DASHBOARD}")
    live_site.settle()
    screenshot("dashboard-dark")


@pytest.mark.browser_context(viewport={"width": 400, "height": 800})
def test_narrow_screen(
    page: Page, live_site: LiveSite, site_sandbox: Sandbox, screenshot: Shot
) -> None:
    freeze_clock(page)
    populate(live_site, site_sandbox)
    page.goto(f"{live_site.url}{CHANGELIST}")
    live_site.settle()
    assert page.evaluate("document.documentElement.scrollWidth") <= 400
    screenshot("generation-change-list-narrow")
