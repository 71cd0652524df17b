"""Live status in a page, in a real browser: placeholders of running generations turn into
their images without a reload, under a strict Content Security Policy (live.js carries the
page's nonce; nothing inline, no eval). A placeholder inserted later (as a page that fetches
a fragment would) is picked up too. Screenshots: ``live-status-pending``, ``live-status-stored``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.template import RequestContext, Template
from django.test import RequestFactory, override_settings

from django_babysea.models import Generation, GenerationStatus
from django_babysea.services import submit_generation

from .conftest import LiveSite

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

    from django_babysea.sandbox import Sandbox

MODEL = "bfl/flux-schnell"
PAGE = "/live-test/page/"
FIRST_POLL_MS = 1_000  # live.js asks after a second, then backs off
Shot = Callable[..., Path]

LISTEN = """() => {
  window.babyseaEvents = [];
  for (const name of ["babysea:stored", "babysea:finished"]) {
    document.addEventListener(name, (event) => window.babyseaEvents.push(
      [name, event.detail.id, event.detail.status, event.target.tagName.toLowerCase()]));
  }
}"""


def fragment(generation: Generation) -> str:
    """What a fragment view would render for a newly created generation."""
    template = Template(
        "{% load babysea %}<figure>{% babysea_image g img_class='hero' %}"
        "<figcaption>{{ g.prompt }} (added later)</figcaption></figure>"
    )
    return template.render(RequestContext(RequestFactory().get("/"), {"g": generation}))


def loaded(images: Locator, timeout: float = 10) -> bool:
    """Whether every image has loaded, asked from Python: Playwright's wait_for_function
    evaluates a string in the page, which the page's policy (no 'unsafe-eval') refuses."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if images.evaluate_all("imgs => imgs.every(i => i.complete && i.naturalWidth > 0)"):
            return True
        time.sleep(0.05)
    return False


def test_placeholders_become_images_without_a_reload(
    page: Page, live_site: LiveSite, site_sandbox: Sandbox, screenshot: Shot
) -> None:
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text))
    page.clock.install()
    page.clock.pause_at(page.evaluate("Date.now()") + 1_000)
    seals = [
        submit_generation(MODEL, generation_prompt=prompt, generation_ratio="16:9")
        for prompt in ("A harbor seal pup asleep on a snowy ice floe", "A grey seal pup yawning")
    ]
    later = submit_generation(MODEL, generation_prompt="A seal pup peeking out of the water")
    live_site.settle()
    assert {g.status for g in (*seals, later)} == {GenerationStatus.PENDING}

    with override_settings(MEDIA_URL="/live-test/media/"):
        ids = ",".join(str(g.pk) for g in seals)
        page.goto(f"{live_site.url}{PAGE}?ids={ids}")
        page.evaluate(LISTEN)
        live = page.locator("svg.babysea-placeholder[data-babysea-live]")
        assert live.count() == 2
        assert page.locator("script[nonce][data-babysea-status-url]").count() == 1
        # Inserted after the page loaded, as a page that fetches a fragment would.
        page.evaluate(
            "html => document.getElementById('gallery').insertAdjacentHTML('beforeend', html)",
            fragment(later),
        )
        assert live.count() == 3
        page.clock.run_for(FIRST_POLL_MS)  # a first poll: all still pending
        live_site.settle()
        assert live.count() == 3
        screenshot("live-status-pending")

        live_site.finish()  # the sandbox completes them; its webhooks reach the site
        assert set(Generation.objects.values_list("status", flat=True)) == {"succeeded"}
        page.clock.run_for(2 * FIRST_POLL_MS)  # the next poll, after one back-off step
        images = page.locator("img.hero")
        images.nth(2).wait_for()
        assert live.count() == 0
        srcs = images.evaluate_all("imgs => imgs.map(img => img.getAttribute('src'))")
        assert all(src.startswith("/live-test/media/babysea/") for src in srcs)
        assert loaded(images), "the stored images did not load"
        events: list[Any] = page.evaluate("window.babyseaEvents")
        media = {"img", "picture"}  # <picture> when renditions were made
        for generation in (*seals, later):
            pk = str(generation.pk)
            for name in ("babysea:stored", "babysea:finished"):
                [tag] = [e[3] for e in events if e[:3] == [name, pk, "succeeded"]]
                assert tag in media
        screenshot("live-status-stored")
        live_site.settle()
    assert not [text for text in violations if "Content Security Policy" in text]
